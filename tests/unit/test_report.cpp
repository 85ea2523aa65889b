// The report writers follow the counter lists: every counter appears in the
// JSON and the table under its name, totals add up, router batch fill is
// derived from bytes and batches, and docs/counters.md is what the lists say.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "buddy/report/writers.hpp"

using namespace buddy;

namespace {
job_report sample() {
    job_report r;
    r.placement = "host";
    r.granularity = 1000;
    for (int k = 0; k < 2; ++k) {
        rank_report rr;
        rr.rank = k;
        rr.host = "node\"" + std::to_string(k);
        std::uint64_t v = 1;
        for (const auto& f : rank_counter_fields) rr.c.*f.member = v++ * (k + 1);
        r.ranks.push_back(rr);
    }
    router_report t;
    t.router = 0;
    t.thread = 1;
    t.node = "node0";
    t.c.batches_sent = 4;
    t.c.batch_bytes_sent = 2000;
    t.c.records_local = 7;
    r.routers.push_back(t);
    return r;
}
// "name": as it appears in the JSON (appends rather than operator+, which GCC 12
// misreads here as an overlapping copy, -Wrestrict).
std::string key(const char* name) {
    std::string k = "\"";
    k.append(name).append("\": ");
    return k;
}
}  // namespace

TEST_CASE("totals add every field") {
    const job_report r = sample();
    const counters t = report::total_of(r.ranks);
    std::uint64_t v = 1;
    for (const auto& f : rank_counter_fields) {
        // Ranks hold v and 2v: a sum gives 3v, a peak 2v.
        CHECK(t.*f.member == (f.how == combine::max ? 2 : 3) * v);
        ++v;
    }
}

TEST_CASE("the JSON report has a schema, every counter by name, and the routers") {
    const std::string j = report::format_json(sample());
    CHECK(j.find("\"schema\": " + std::to_string(report::schema_version)) != std::string::npos);
    CHECK(j.find("\"placement\": \"host\"") != std::string::npos);
    CHECK(j.find("\"host\": \"node\\\"0\"") != std::string::npos);  // quotes escaped
    for (const auto& f : rank_counter_fields) CHECK(j.find(key(f.name)) != std::string::npos);
    for (const auto& f : router_counter_fields) CHECK(j.find(key(f.name)) != std::string::npos);
    CHECK(j.find("\"routers\": [{\"router\": 0, \"thread\": 1, \"node\": \"node0\"") != std::string::npos);
    CHECK(j.find("\"mean_batch_bytes\": 500, \"batch_fill\": 0.5") != std::string::npos);
    CHECK(j.find("\"routers_total\": {\"records_local\": 7") != std::string::npos);
}

TEST_CASE("the table: per rank, per router thread, per link, settings, hardware counters, ratio and advice") {
    job_report r = sample();
    r.depth = 4;
    r.settings.push_back(setting{"granularity", "1000", "environment"});
    r.routers[0].links.push_back(link_report{1, 4, 2000});
    r.routers[0].c.in_flight_max = 3;
    r.routers[0].c.passes = 10;
    r.routers[0].c.passes_idle = 4;
    r.routers[0].c.time_ns = 1000;
    r.routers[0].c.time_idle_ns = 250;
    r.ranks[0].hw = hw_report{true, false, "no PMU here", "{}", 0, 0};
    const std::string t = report::format_table(r);
    INFO(t);
    for (const char* column : {"sent", "bytes_sent", "handled", "handlers", "app", "barrier", "stalls", "fill",
                               "to_ranks", "to_routers", "in-flight", "idle_pas", "idle_tim", "bytes/batch"})
        CHECK(t.find(column) != std::string::npos);
    CHECK(t.find("\ntotal ") != std::string::npos);
    CHECK(t.find("\n0/1 ") != std::string::npos);
    CHECK(t.find("3/4") != std::string::npos);        // in flight against depth
    CHECK(t.find("40.0%") != std::string::npos);      // idle passes
    CHECK(t.find("25.0%") != std::string::npos);      // idle time
    CHECK(t.find("router 0/1   router 1") != std::string::npos);
    CHECK(t.find("granularity       1000") != std::string::npos);
    CHECK(t.find("rank 0: unavailable: no PMU here") != std::string::npos);
    CHECK(t.find("memory-to-communication ratio: ") != std::string::npos);
    CHECK(t.find("\nadvice: ") != std::string::npos);
    r.routers.clear();
    CHECK(report::format_table(r).find("per router thread") == std::string::npos);
}

namespace {
// A canned report: two ranks, `work_ns` of application + handler time per
// handled message in all, optional hardware counters (`miss_ratio` last-level
// miss bytes per byte sent).
job_report canned(double work_ns, std::uint64_t handled, bool counters_too, double miss_ratio = 10) {
    job_report r;
    r.placement = "inproc";
    r.granularity = 32768;
    for (int k = 0; k < 2; ++k) {
        rank_report rr;
        rr.rank = k;
        rr.host = "n0";
        rr.c.messages_handled = handled / 2;
        rr.c.messages_sent = handled / 2;
        rr.c.bytes_sent = 16 * handled / 2;
        rr.c.time_application_ns = static_cast<std::uint64_t>(work_ns * static_cast<double>(handled) / 2 * 0.75);
        rr.c.time_handlers_ns = static_cast<std::uint64_t>(work_ns * static_cast<double>(handled) / 2 * 0.25);
        rr.c.time_barrier_ns = 123456789;  // not part of the proxy
        if (counters_too)
            rr.hw = hw_report{true, true, "", "{}",
                              static_cast<std::uint64_t>(miss_ratio * static_cast<double>(rr.c.bytes_sent)), 0};
        r.ranks.push_back(rr);
    }
    return r;
}
}  // namespace

TEST_CASE("memory-to-communication ratio: the time proxy, labelled, without hardware counters") {
    const report::memory_ratio m = report::compute_ratio(canned(3000, 1000000, false));
    CHECK(m.kind == "time_per_message");
    CHECK_FALSE(m.measured);
    CHECK(m.unit == "ns/message");
    CHECK(m.value == doctest::Approx(3000).epsilon(0.001));
    CHECK(m.label.find("proxy") != std::string::npos);
}

TEST_CASE("memory-to-communication ratio: hardware counters where every rank has them") {
    job_report r = canned(3000, 1000000, true);
    report::memory_ratio m = report::compute_ratio(r);
    CHECK(m.kind == "llc_miss_bytes_per_byte");
    CHECK(m.measured);
    CHECK(m.value == doctest::Approx(10.0));
    // DRAM counts are per socket: one rank per host counts them.
    for (rank_report& k : r.ranks) k.hw.dram_bytes = 4 * 16 * 1000000;
    m = report::compute_ratio(r);
    CHECK(m.kind == "dram_bytes_per_byte");
    CHECK(m.value == doctest::Approx(4.0));
    // One rank without counters: back to the proxy.
    r.ranks[1].hw = hw_report{};
    CHECK(report::compute_ratio(r).kind == "time_per_message");
}

TEST_CASE("advice: the rule and its thresholds") {
    const report::advice_thresholds th;
    CHECK(report::advise(canned(th.helps_ns * 2, 1000000, false)).verdict == "helps");
    CHECK(report::advise(canned(th.no_help_ns / 2, 1000000, false)).verdict == "does not help");
    CHECK(report::advise(canned((th.helps_ns + th.no_help_ns) / 2, 1000000, false)).verdict == "unclear");
    CHECK(report::advise(canned(1000, 0, false)).verdict == "unclear");  // nothing handled
    const report::offload_advice a = report::advise(canned(th.helps_ns * 2, 1000000, false));
    CHECK(a.line.find("expected to help") != std::string::npos);
    CHECK(a.line.find("ns/message") != std::string::npos);
    // With counters the byte thresholds apply.
    CHECK(report::advise(canned(10, 1000000, true, th.helps_bytes * 1.5)).verdict == "helps");
    CHECK(report::advise(canned(10, 1000000, true, th.no_help_bytes / 2)).verdict == "does not help");
    CHECK(report::advise(canned(10, 1000000, true, (th.helps_bytes + th.no_help_bytes) / 2)).verdict == "unclear");
    // The JSON carries both.
    const std::string j = report::format_json(canned(th.helps_ns * 2, 1000000, false));
    CHECK(j.find("\"memory_ratio\": {\"kind\": \"time_per_message\"") != std::string::npos);
    CHECK(j.find("\"advice\": {\"offload\": \"helps\"") != std::string::npos);
}

TEST_CASE("records by hops: from router counters, or from rank counters (inproc)") {
    // With routers: 10 records stay on their router, 6 go direct, 4 through a transit router.
    job_report r;
    r.granularity = 1000;
    router_report a, b;
    a.c.records_local = 12;
    a.c.records_remote = 10;  // 6 direct + 2 of its own through a transit router + 2 in transit here
    a.c.records_transit = 2;
    b.c.records_local = 8;
    b.c.records_remote = 4;   // 2 of its own through a transit router + 2 in transit here
    b.c.records_transit = 2;
    r.routers = {a, b};
    report::hop_counts h = report::hops_of(r);
    CHECK(h.hops[0] == 10);
    CHECK(h.hops[1] == 6);
    CHECK(h.hops[2] == 4);
    CHECK(report::format_json(r).find("\"hops\": {\"0\": 10, \"1\": 6, \"2\": 4}") != std::string::npos);
    CHECK(report::format_table(r).find("hops between routers: 0: 10, 1: 6, 2: 4") != std::string::npos);
    // inproc: 3 to self, 5 through another rank, 12 direct.
    job_report q;
    rank_report k;
    k.c.messages_handled = 20;
    k.c.records_self = 3;
    k.c.records_transit = 5;
    q.ranks = {k};
    h = report::hops_of(q);
    CHECK(h.hops[0] == 3);
    CHECK(h.hops[1] == 12);
    CHECK(h.hops[2] == 5);
}

TEST_CASE("docs/counters.md holds the reference generated from the lists") {
    std::ifstream in(BUDDY_SOURCE_ROOT "/docs/counters.md");
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    const std::string expected = report::counters_reference();
    INFO("regenerate docs/counters.md's tables from report::counters_reference():\n" << expected);
    CHECK(s.str().find(expected) != std::string::npos);
}
