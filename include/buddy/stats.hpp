// Counters kept by every rank and by every router thread, and the report that
// gathers them.  Always on: each is a plain integer bumped by the thread that
// owns it, so the hot path pays one add.
//
// Each list below is the one place a counter is named: the struct fields, the
// JSON report, the human table, the MPI gather and docs/counters.md are all
// generated from it.  Adding a counter is one line here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace buddy {

/// X(name, unit, description): the counters of one rank.
#define BUDDY_RANK_COUNTERS(X)                                                                          \
    X(messages_sent, "messages", "async() calls on this rank")                                         \
    X(messages_handled, "messages", "handlers run on this rank")                                       \
    X(bytes_sent, "bytes", "record bytes (headers + payload) handed to routing")                       \
    X(batches_sent, "batches", "batches this rank sent (inproc) or ring chunks it published (host)")   \
    X(batch_bytes_sent, "bytes", "bytes in those batches, batch headers included")                     \
    X(batches_received, "batches", "batches delivered to this rank")                                   \
    X(flush_full, "batches", "batches sent because they reached the granularity")                      \
    X(flush_barrier, "batches", "partial batches sent by barrier()")                                   \
    X(flush_idle, "batches", "partial batches sent by progress() when idle")                           \
    X(backpressure_waits, "waits", "times async() had to wait for room (depth or ring full)")          \
    X(barriers, "barriers", "barrier() calls, the final one at comm destruction included")             \
    X(quiescence_rounds, "rounds", "global counting rounds spent in barrier()")                        \
    X(records_transit, "records", "records that reached this rank for another rank and went on (inproc, mesh2d)") \
    X(records_self, "records", "records this rank sent to itself, never on the network (inproc)")

/// X(name, unit, description): the counters of one router thread for one job.
#define BUDDY_ROUTER_COUNTERS(X)                                                                        \
    X(records_local, "records", "records written into the inbound rings of this router's ranks")       \
    X(records_remote, "records", "records put into batches for other routers")                         \
    X(records_transit, "records", "records that arrived from a router for another router's rank, passed on") \
    X(chunks_in, "chunks", "outbound ring chunks drained")                                             \
    X(chunks_out, "chunks", "inbound ring chunks written (each a batch for one rank)")                 \
    X(batches_sent, "batches", "batches sent to other routers")                                        \
    X(batch_bytes_sent, "bytes", "bytes in those batches, batch headers included")                     \
    X(batches_received, "batches", "batches received from other routers")                              \
    X(batch_bytes_received, "bytes", "bytes in those batches, batch headers included")                 \
    X(flush_full, "flushes", "batches and inbound chunks handed on because they were full")            \
    X(flush_idle, "flushes", "partial batches and inbound chunks handed on when the thread was idle")  \
    X(stalls, "pauses", "passes in which one rank's outbound ring paused (full target, no credit)")    \
    X(bad_batches, "batches", "batches from the network refused (logged)")                             \
    X(bad_records, "records", "malformed or misaddressed data in outbound rings (logged)")

#define BUDDY_DETAIL_COUNTER_FIELD(name, unit, description) std::uint64_t name = 0;

/// The counters of one rank.
struct counters {
    BUDDY_RANK_COUNTERS(BUDDY_DETAIL_COUNTER_FIELD)
};

/// The counters of one router thread for one job.
struct router_counters {
    BUDDY_ROUTER_COUNTERS(BUDDY_DETAIL_COUNTER_FIELD)
};

#undef BUDDY_DETAIL_COUNTER_FIELD

/// One counter of `Counters`, for code that walks them all.
template <typename Counters>
struct counter_field {
    const char* name;
    std::uint64_t Counters::*member;
    const char* unit;
    const char* description;
};

#define BUDDY_DETAIL_RANK_FIELD(name, unit, description) counter_field<counters>{#name, &counters::name, unit, description},
#define BUDDY_DETAIL_ROUTER_FIELD(name, unit, description) \
    counter_field<router_counters>{#name, &router_counters::name, unit, description},

inline constexpr counter_field<counters> rank_counter_fields[] = {BUDDY_RANK_COUNTERS(BUDDY_DETAIL_RANK_FIELD)};
inline constexpr counter_field<router_counters> router_counter_fields[] = {
    BUDDY_ROUTER_COUNTERS(BUDDY_DETAIL_ROUTER_FIELD)};

#undef BUDDY_DETAIL_RANK_FIELD
#undef BUDDY_DETAIL_ROUTER_FIELD

/// The field list of a counter struct (rank_counter_fields or router_counter_fields).
template <typename Counters>
constexpr const auto& fields_of() noexcept {
    if constexpr (std::is_same_v<Counters, counters>) return rank_counter_fields;
    else return router_counter_fields;
}

/// Both structs are nothing but their fields, so they travel as arrays of
/// uint64 (MPI gather, control messages) with no per-field code.
static_assert(sizeof(counters) == sizeof(rank_counter_fields) / sizeof(rank_counter_fields[0]) * sizeof(std::uint64_t));
static_assert(sizeof(router_counters) ==
              sizeof(router_counter_fields) / sizeof(router_counter_fields[0]) * sizeof(std::uint64_t));

/// `into` += `from`, field by field.
template <typename Counters>
constexpr void add_counters(Counters& into, const Counters& from) noexcept {
    for (const auto& f : fields_of<Counters>()) into.*f.member += from.*f.member;
}

/// One rank's counters with who it is, for reports.
struct rank_report {
    int rank = 0;
    std::string host;
    counters c;
};

/// One router thread's counters for this job.
struct router_report {
    std::uint32_t router = 0;  ///< the router's index among the job's routers
    std::uint32_t thread = 0;  ///< the thread's index in its router
    std::string node;          ///< host name of the router
    router_counters c;
};

/// Everything a report shows about one job.
struct job_report {
    std::string placement;
    std::uint64_t granularity = 0;       ///< the job's batch size, against which batch fill is shown
    std::vector<rank_report> ranks;
    std::vector<router_report> routers;  ///< empty without routers (inproc)
};

}  // namespace buddy
