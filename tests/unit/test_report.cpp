// The report writers follow the counter lists: every counter appears in the
// JSON and the table under its name, totals add up, router batch fill is
// derived from bytes and batches, and docs/counters.md is what the lists say.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
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
    for (const auto& f : rank_counter_fields) CHECK(t.*f.member == 3 * v++);
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

TEST_CASE("the table has a column per counter and a router section only with routers") {
    job_report r = sample();
    const std::string t = report::format_table(r);
    for (const auto& f : rank_counter_fields) CHECK(t.find(f.name) != std::string::npos);
    for (const auto& f : router_counter_fields) CHECK(t.find(f.name) != std::string::npos);
    CHECK(t.find("\ntotal ") != std::string::npos);
    CHECK(t.find("\n0/1 ") != std::string::npos);
    r.routers.clear();
    CHECK(report::format_table(r).find("router") == std::string::npos);
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
