// The event choice per vendor and model.  Only names are chosen here; libpfm4
// turns them into perf_event_attr encodings.
#include "buddy/report/hw/events.hpp"

#include <algorithm>

namespace buddy::report::hw {

namespace {

bool has_pmu(const cpu_description& cpu, const std::string& name) {
    return std::find(cpu.pmus.begin(), cpu.pmus.end(), name) != cpu.pmus.end();
}

// Exposed PMUs whose names start with `prefix`, in sorted order.
std::vector<std::string> pmus_with_prefix(const cpu_description& cpu, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& p : cpu.pmus)
        if (p.rfind(prefix, 0) == 0) out.push_back(p);
    return out;
}

// The kernel's name for the core PMU: "cpu" on x86, "cpu_core" on hybrid Intel,
// "armv8_*" on Arm; empty when the kernel exposes none (as in most VMs).
std::string core_pmu(const cpu_description& cpu) {
    for (const char* name : {"cpu", "cpu_core"})
        if (has_pmu(cpu, name)) return name;
    for (const auto& p : cpu.pmus)
        if (p.rfind("armv8", 0) == 0) return p;
    return {};
}

// Core events are tried even where sysfs lists no core PMU, so the report can
// quote the kernel's own answer; the kernel's generic last-level read-miss
// event is the fallback when the CPU-specific name cannot be encoded or opened.
event_spec core_event(const cpu_description& cpu, std::string label, std::string pfm_event) {
    return {std::move(label), std::move(pfm_event), core_pmu(cpu), "perf::PERF_COUNT_HW_CACHE_LL:READ:MISS", false, {}};
}

// libpfm4's prefix for the uncore PMUs of an Intel server model; empty where
// libpfm4 (4.13) has no uncore tables for it (Ice Lake-SP and newer).
std::string intel_uncore_prefix(unsigned model) {
    switch (model) {
        case 45: return "snbep";  // Sandy Bridge-EP
        case 62: return "ivbep";  // Ivy Bridge-EP
        case 63: return "hswep";  // Haswell-EP
        case 79:                  // Broadwell-EP
        case 86: return "bdx";    // Broadwell-DE
        case 85: return "skx";    // Skylake-SP, Cascade Lake, Cooper Lake
        default: return {};
    }
}

void add_intel(const cpu_description& cpu, std::vector<event_spec>& out) {
    // Architectural event (every Intel core with arch perfmon has it).
    out.push_back(core_event(cpu, "llc_misses", "ix86arch::LLC_MISSES"));
    const auto imcs = pmus_with_prefix(cpu, "uncore_imc");
    if (imcs.empty()) {
        out.push_back({"imc_cas_count", {}, "uncore_imc_*", {}, true, "the kernel exposes no uncore_imc PMU"});
        return;
    }
    const std::string prefix = cpu.family == 6 ? intel_uncore_prefix(cpu.model) : std::string{};
    for (const auto& imc : imcs) {
        const std::string index = imc.substr(imc.find_last_of('_') + 1);
        for (const char* dir : {"RD", "WR"}) {
            event_spec e{"imc" + index + (dir[0] == 'R' ? "_cas_read" : "_cas_write"), {}, imc, {}, true, {}};
            if (prefix.empty())
                e.skipped = "libpfm4 has no uncore IMC table for Intel family " + std::to_string(cpu.family) +
                            " model " + std::to_string(cpu.model);
            else
                e.pfm_event = prefix + "_unc_imc" + index + "::UNC_M_CAS_COUNT:" + dir;
            out.push_back(std::move(e));
        }
    }
}

void add_amd(const cpu_description& cpu, std::vector<event_spec>& out) {
    // Zen keeps the L3 in its own PMU (amd_l3); libpfm4 4.13 has its table for
    // family 19h (Zen 3/4) only.
    event_spec l3{"llc_misses", {}, "amd_l3", {}, false, {}};
    if (!has_pmu(cpu, "amd_l3"))
        l3.skipped = "the kernel exposes no amd_l3 PMU";
    else if (cpu.family == 0x19)
        l3.pfm_event = "amd64_fam19h_zen3_l3::UNC_L3_MISSES";
    else
        l3.skipped = "libpfm4 has no L3 table for AMD family " + std::to_string(cpu.family);
    out.push_back(std::move(l3));
    // DRAM traffic is counted by the data fabric (amd_df); libpfm4 ships no
    // data-fabric tables, so it is named, and reported as not encodable.
    out.push_back({"df_dram_traffic", {}, "amd_df", {}, true,
                   has_pmu(cpu, "amd_df") ? "libpfm4 has no event table for the amd_df PMU"
                                          : "the kernel exposes no amd_df PMU"});
}

void add_arm(const cpu_description& cpu, std::vector<event_spec>& out) {
    // Common Armv8 PMUv3 events (Cortex-A78 on BlueField-3 has both).
    out.push_back(core_event(cpu, "ll_cache_miss_rd", "LL_CACHE_MISS_RD"));
    out.push_back(core_event(cpu, "mem_access", "MEM_ACCESS"));
    // The mesh (CMN) and the DRAM controllers (DMC) where the kernel exposes them;
    // libpfm4 has no tables for either.
    for (const char* prefix : {"arm_cmn", "arm_dmc"})
        for (const auto& pmu : pmus_with_prefix(cpu, prefix))
            out.push_back({pmu, {}, pmu, {}, true, "libpfm4 has no event table for the " + pmu + " PMU"});
}

}  // namespace

std::vector<event_spec> choose_events(const cpu_description& cpu) {
    std::vector<event_spec> out;
    switch (cpu.vendor) {
        case cpu_vendor::intel: add_intel(cpu, out); break;
        case cpu_vendor::amd: add_amd(cpu, out); break;
        case cpu_vendor::arm: add_arm(cpu, out); break;
        case cpu_vendor::other:
            out.push_back({"llc_misses", {}, {}, {}, false, "no event choice for vendor '" + cpu.vendor_name + "'"});
            break;
    }
    return out;
}

}  // namespace buddy::report::hw
