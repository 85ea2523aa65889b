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
/// 1: ranks and total; 2: schema, granularity, routers and routers_total;
/// 3: depth, settings, links, hw_counters, router idle and in-flight figures,
/// rank time counters, memory_ratio and advice (docs/report.md).
inline constexpr int schema_version = 4;

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

/// The memory-to-communication ratio of a job: from hardware counters where
/// every rank has them, else a time-based proxy, labelled as such.
struct memory_ratio {
    std::string kind;    ///< "dram_bytes_per_byte", "llc_miss_bytes_per_byte" or "time_per_message"
    double value = 0.0;  ///< bytes per communicated byte, or ns per handled message
    std::string unit;    ///< "bytes/byte" or "ns/message"
    bool measured = false;  ///< true: hardware counters; false: the time proxy
    std::string label;   ///< one line saying what the number is
};
/// Whether offloading routing (placement host or dpu) is expected to help.
struct offload_advice {
    memory_ratio ratio;
    std::string verdict;  ///< "helps", "does not help" or "unclear"
    std::string line;     ///< the sentence for people, with the rule that gave it
};

/// Thresholds of the rule (docs/report.md says where they come from).
struct advice_thresholds {
    /// Time proxy, ns of application + handler time per handled message: at
    /// or above `helps_ns` the job is host-dominated (offload expected to
    /// help); below `no_help_ns` it is communication-bound.  From the
    /// histogram --work sweep of docs/report.md: host/inproc 0.16 at 22 ns,
    /// 0.88 at 840 ns, 0.92 at 1.7 us, 0.99 at 7.9 us on a 2-core VM where the
    /// router takes a rank's core; with spare cores that cost goes away.
    double helps_ns = 5000.0;
    double no_help_ns = 1000.0;
    /// Counter ratio, memory bytes per communicated byte, likewise: the same
    /// sweep's crossovers (1000 and 5000 ns) in cachegrind's *simulated*
    /// last-level miss bytes per byte sent, per message at the margin (runs
    /// of 4000 and 12000 updates, their difference): 1.3, 3.3, 8.7, 29.5 at
    /// --work 0, 2, 8, 32, so 4 at 1000 ns and 20 at 5000 ns (docs/report.md).
    /// No PMU here: to re-derive on a machine with counters.
    double helps_bytes = 20.0;
    double no_help_bytes = 4.0;
};

memory_ratio compute_ratio(const job_report& r);
offload_advice advise(const job_report& r, const advice_thresholds& t = {});

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

/// Share of the thread's time since the job started spent idle (0 without time).
inline double idle_fraction(const router_counters& c) noexcept {
    return c.time_ns ? static_cast<double>(c.time_idle_ns) / static_cast<double>(c.time_ns) : 0.0;
}
/// Share of passes that moved nothing.
inline double idle_pass_fraction(const router_counters& c) noexcept {
    return c.passes ? static_cast<double>(c.passes_idle) / static_cast<double>(c.passes) : 0.0;
}
/// Batch fill of a rank's own engine (inproc; under host, of its ring chunks).
inline double rank_batch_fill(const counters& c, std::uint64_t granularity) noexcept {
    return c.batches_sent && granularity
               ? static_cast<double>(c.batch_bytes_sent) / static_cast<double>(c.batches_sent) /
                     static_cast<double>(granularity)
               : 0.0;
}

}  // namespace buddy::report
