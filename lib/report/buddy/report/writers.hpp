// The report of a job, written from the counter lists in buddy/stats.hpp:
// a JSON document with a versioned schema, a human table, and the counter
// reference that docs/counters.md holds.  MPI-free: the gather lives in
// lib/client, these only format what it gathered.
#pragma once

#include <string>
#include <vector>

#include "buddy/stats.hpp"

namespace buddy::report {

/// Version of the JSON document's layout; bumped whenever a field changes
/// meaning or goes away (adding a counter adds a field and keeps the version).
/// 1: ranks and total; 2: schema, granularity, routers and routers_total.
inline constexpr int schema_version = 2;

/// The JSON report (one document, newline-terminated).
std::string format_json(const job_report& r);
/// The human table: one row per rank and per router thread, plus totals.
std::string format_table(const job_report& r);
/// Markdown tables of every counter (name, unit, meaning): docs/counters.md.
std::string counters_reference();

/// Sum over reports (rank_report or router_report) of their counters.
template <typename Report>
auto total_of(const std::vector<Report>& items) {
    decltype(Report{}.c) t{};
    for (const Report& r : items) add_counters(t, r.c);
    return t;
}

/// Bytes per batch a router sent to other routers (0 if it sent none).
inline double mean_batch_bytes(const router_counters& c) noexcept {
    return c.batches_sent ? static_cast<double>(c.batch_bytes_sent) / static_cast<double>(c.batches_sent) : 0.0;
}
/// How full those batches were against the job's granularity (1.0: full).
inline double batch_fill(const router_counters& c, std::uint64_t granularity) noexcept {
    return granularity ? mean_batch_bytes(c) / static_cast<double>(granularity) : 0.0;
}

/// Records by how many router-to-router (inproc: rank-to-rank) batches they
/// travelled in: 0 (sender and receiver share a router: inproc, a rank to
/// itself), 1 (direct), 2 (through one transit router, as mesh2d routes).
/// Derived from counters, once every record has been delivered (end of job).
struct hop_counts {
    std::uint64_t hops[3] = {0, 0, 0};
};

inline hop_counts hops_of(const job_report& r) noexcept {
    hop_counts h;
    if (!r.routers.empty()) {
        // Every record reaches an inbound ring once (records_local); the ones
        // that crossed the network were put into batches by their first router
        // (records_remote counts those and the transit ones again).
        const router_counters t = total_of(r.routers);
        const std::uint64_t first = t.records_remote - t.records_transit;  // records that left their origin's router
        h.hops[2] = t.records_transit;
        h.hops[1] = first - t.records_transit;
        h.hops[0] = t.records_local - first;
    } else {
        const counters t = total_of(r.ranks);
        h.hops[2] = t.records_transit;
        h.hops[0] = t.records_self;
        h.hops[1] = t.messages_handled - t.records_self - t.records_transit;
    }
    return h;
}

}  // namespace buddy::report
