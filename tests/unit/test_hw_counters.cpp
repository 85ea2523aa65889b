// Hardware counters: the event choice per vendor from a hand-written CPU
// description (no hardware needed), and a real session on this machine, which
// must either count or say precisely why not.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <future>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include "buddy/report/hw/events.hpp"
#include "buddy/report/hw/json.hpp"
#include "buddy/report/hw/session.hpp"

using namespace buddy::report::hw;

namespace {

const event_spec* find(const std::vector<event_spec>& events, const std::string& label) {
    for (const auto& e : events)
        if (e.label == label) return &e;
    return nullptr;
}

// The chosen event named `label` (a copy, so a temporary list is fine); throws,
// which doctest reports as a failure, when there is none.
event_spec get(const std::vector<event_spec>& events, const std::string& label) {
    if (const auto* e = find(events, label)) return *e;
    throw std::runtime_error("no event chosen with label " + label);
}

}  // namespace

TEST_CASE("Intel Skylake-SP with uncore IMCs: LLC misses and CAS counts per IMC") {
    const cpu_description cpu{cpu_vendor::intel, "GenuineIntel", 6, 85, 0,
                              {"cpu", "software", "uncore_imc_0", "uncore_imc_1"}};
    const auto events = choose_events(cpu);
    const auto* llc = find(events, "llc_misses");
    REQUIRE(llc);
    CHECK(llc->pfm_event == "ix86arch::LLC_MISSES");
    CHECK(llc->pmu == "cpu");
    CHECK(llc->skipped.empty());
    CHECK_FALSE(llc->uncore);
    for (const char* label : {"imc0_cas_read", "imc0_cas_write", "imc1_cas_read", "imc1_cas_write"}) {
        const auto* e = find(events, label);
        REQUIRE_MESSAGE(e, label);
        CHECK(e->uncore);
        CHECK(e->skipped.empty());
    }
    CHECK(get(events, "imc1_cas_write").pfm_event == "skx_unc_imc1::UNC_M_CAS_COUNT:WR");
    CHECK(get(events, "imc0_cas_read").pmu == "uncore_imc_0");
}

TEST_CASE("Intel model libpfm4 has no uncore table for, and a VM with software PMUs only") {
    const cpu_description newer{cpu_vendor::intel, "GenuineIntel", 6, 207, 0, {"cpu", "uncore_imc_0"}};
    const auto events = choose_events(newer);
    REQUIRE(find(events, "imc0_cas_read"));
    CHECK(get(events, "imc0_cas_read").skipped.find("model 207") != std::string::npos);
    CHECK(get(events, "llc_misses").skipped.empty());

    const cpu_description vm{cpu_vendor::intel, "GenuineIntel", 6, 207, 0, {"breakpoint", "software", "tracepoint"}};
    const auto vm_events = choose_events(vm);
    REQUIRE(find(vm_events, "llc_misses"));
    // Still tried (the kernel's own error goes into the report), with the generic fallback.
    CHECK(get(vm_events, "llc_misses").skipped.empty());
    CHECK(get(vm_events, "llc_misses").pmu.empty());
    CHECK(get(vm_events, "llc_misses").fallback == "perf::PERF_COUNT_HW_CACHE_LL:READ:MISS");
    REQUIRE(find(vm_events, "imc_cas_count"));
    CHECK(get(vm_events, "imc_cas_count").skipped == "the kernel exposes no uncore_imc PMU");
}

TEST_CASE("AMD Zen 4: L3 misses from amd_l3, data-fabric DRAM named but not encodable") {
    const cpu_description cpu{cpu_vendor::amd, "AuthenticAMD", 0x19, 0x11, 0, {"amd_df", "amd_l3", "cpu"}};
    const auto events = choose_events(cpu);
    const auto* l3 = find(events, "llc_misses");
    REQUIRE(l3);
    CHECK(l3->pfm_event == "amd64_fam19h_zen3_l3::UNC_L3_MISSES");
    CHECK(l3->pmu == "amd_l3");
    CHECK(l3->skipped.empty());
    const auto* df = find(events, "df_dram_traffic");
    REQUIRE(df);
    CHECK(df->pmu == "amd_df");
    CHECK(df->uncore);
    CHECK(df->skipped.find("libpfm4") != std::string::npos);

    const cpu_description zen2{cpu_vendor::amd, "AuthenticAMD", 0x17, 0x31, 0, {"amd_l3", "cpu"}};
    CHECK(get(choose_events(zen2), "llc_misses").skipped.find("family 23") != std::string::npos);
    CHECK(get(choose_events(zen2), "df_dram_traffic").skipped == "the kernel exposes no amd_df PMU");
}

TEST_CASE("Arm Cortex-A78 (BlueField-3): PMUv3 events and the CMN/DMC PMUs where exposed") {
    const cpu_description cpu{cpu_vendor::arm, "0x41", 0, 0, 0xd41,
                              {"arm_cmn_0", "arm_dmc620_0", "armv8_pmuv3_0", "software"}};
    const auto events = choose_events(cpu);
    REQUIRE(find(events, "ll_cache_miss_rd"));
    CHECK(get(events, "ll_cache_miss_rd").pfm_event == "LL_CACHE_MISS_RD");
    CHECK(get(events, "ll_cache_miss_rd").pmu == "armv8_pmuv3_0");
    REQUIRE(find(events, "mem_access"));
    CHECK(get(events, "mem_access").pfm_event == "MEM_ACCESS");
    REQUIRE(find(events, "arm_cmn_0"));
    CHECK(get(events, "arm_cmn_0").uncore);
    REQUIRE(find(events, "arm_dmc620_0"));

    const cpu_description bare{cpu_vendor::arm, "0x41", 0, 0, 0xd41, {"software"}};
    const auto bare_events = choose_events(bare);
    CHECK(bare_events.size() == 2);  // no CMN/DMC entries where none is exposed
    CHECK(get(bare_events, "mem_access").pmu.empty());
}

TEST_CASE("a session on this machine counts, or reports unavailable with the reason") {
    session hw;
    hw.start();
    volatile std::uint64_t sink = 0;
    std::vector<std::uint64_t> buffer(1 << 20, 1);
    for (std::size_t i = 0; i < buffer.size(); i += 8) sink = sink + buffer[i];
    hw.stop();
    const auto& r = hw.result();
    CHECK_FALSE(r.cpu.empty());
    if (r.available) {
        CHECK(r.reason.empty());
        CHECK_FALSE(r.values.empty());
        for (const auto& v : r.values) CHECK(v.enabled_ns > 0);
    } else {
        CHECK(r.values.empty());
        CHECK_FALSE(r.reason.empty());
        CHECK_FALSE(r.failures.empty());
        for (const auto& f : r.failures) {
            CHECK_FALSE(f.error.empty());
            CHECK_FALSE(f.tried.empty());
        }
        MESSAGE("hardware counters unavailable: ", r.reason);
    }
    const std::string json = json_fragment(r);
    CHECK(json.rfind("\"hw_counters\": {\"available\": ", 0) == 0);
    CHECK(json.find(r.available ? "\"available\": true" : "\"available\": false") != std::string::npos);
}

TEST_CASE("stop without start reports nothing and does not crash") {
    session hw;
    hw.stop();
    CHECK_FALSE(hw.result().available);
    CHECK(hw.result().values.empty());
}

TEST_CASE("one thread's session: samples while counting, differences between them, or the reason") {
    // The way a router thread is counted: a session for one thread id, read
    // by another thread without stopping it.
    std::promise<pid_t> tid;
    std::promise<void> done;
    std::thread worker([&] {
        tid.set_value(::gettid());
        done.get_future().wait();
    });
    session hw(describe_this_cpu(), scope{tid.get_future().get()});
    hw.start();
    const result first = hw.sample();
    const result second = hw.sample();
    done.set_value();
    worker.join();
    hw.stop();
    CHECK_FALSE(first.cpu.empty());
    CHECK(first.available == second.available);
    if (second.available) {
        const result d = session::difference(second, first);
        REQUIRE(d.values.size() == second.values.size());
        for (std::size_t i = 0; i < d.values.size(); ++i) CHECK(d.values[i].value <= second.values[i].value);
    } else {
        CHECK_FALSE(second.reason.empty());
        CHECK_FALSE(second.failures.empty());
    }
}

TEST_CASE("the difference of two samples subtracts per event and never wraps") {
    result earlier, later;
    earlier.values = {{"llc_misses", "LLC_MISSES", 100, 1000, 900, false}, {"gone", "X", 5, 5, 5, false}};
    later.values = {{"llc_misses", "LLC_MISSES", 350, 3000, 2500, false}, {"new", "Y", 7, 7, 7, false}};
    later.available = true;
    const result d = session::difference(later, earlier);
    REQUIRE(d.values.size() == 2);
    CHECK(d.values[0].value == 250);
    CHECK(d.values[0].enabled_ns == 2000);
    CHECK(d.values[0].running_ns == 1600);
    CHECK(d.values[1].value == 7);  // not in the earlier sample: counted from zero
    result reset = later;
    reset.values[0].value = 10;  // someone reset the counter: 0, not 2^64 - 90
    CHECK(session::difference(reset, earlier).values[0].value == 0);
}
