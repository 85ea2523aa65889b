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

/// X(name, unit, how, description): the counters of one rank.  `how` says how
/// counters of several ranks or threads combine: `sum`, or `max` (a peak).
#define BUDDY_RANK_COUNTERS(X)                                                                          \
    X(messages_sent, "messages", sum, "async() calls on this rank")                                         \
    X(messages_handled, "messages", sum, "handlers run on this rank")                                       \
    X(bytes_sent, "bytes", sum, "record bytes (headers + payload) handed to routing")                       \
    X(batches_sent, "batches", sum, "batches this rank sent (inproc) or ring chunks it published (host)")   \
    X(batch_bytes_sent, "bytes", sum, "bytes in those batches, batch headers included")                     \
    X(batches_received, "batches", sum, "batches delivered to this rank")                                   \
    X(flush_full, "batches", sum, "batches sent because they reached the granularity")                      \
    X(flush_barrier, "batches", sum, "partial batches sent by barrier()")                                   \
    X(flush_idle, "batches", sum, "partial batches sent by progress() when idle")                           \
    X(backpressure_waits, "waits", sum, "times async() had to wait for room (depth or ring full)")          \
    X(barriers, "barriers", sum, "barrier() calls, the final one at comm destruction included")             \
    X(quiescence_rounds, "rounds", sum, "global counting rounds spent in barrier()")                        \
    X(in_flight_max, "batches", max, "most batches in flight to one hop at once (inproc; against depth)")  \
    X(time_wall_ns, "ns", sum, "wall time from the end of comm set-up to the report")                         \
    X(time_handlers_ns, "ns", sum, "running handlers (outermost batch deliveries; waits inside handlers count here)") \
    X(time_barrier_ns, "ns", sum, "waiting in barrier(), handlers run meanwhile excluded")                   \
    X(time_stall_ns, "ns", sum, "waiting for ring room or batch credit, handlers run meanwhile excluded")   \
    X(time_application_ns, "ns", sum, "the rest: wall minus handlers, barrier and stalls")  \
    X(records_transit, "records", sum, "records that reached this rank for another rank and went on (inproc, mesh2d)") \
    X(records_self, "records", sum, "records this rank sent to itself, never on the network (inproc)")   \
    X(ring_detours, "batches", sum, "batches sent over UCX instead of a full node ring, while this rank ran handlers of a chunk still in a node ring (inproc)")

/// X(name, unit, how, description): the counters of one router thread for one job.
#define BUDDY_ROUTER_COUNTERS(X)                                                                        \
    X(records_local, "records", sum, "records written into the inbound rings of this router's ranks")       \
    X(records_remote, "records", sum, "records put into batches for other routers")                         \
    X(records_transit, "records", sum, "records that arrived from a router for another router's rank, passed on") \
    X(chunks_in, "chunks", sum, "outbound ring chunks drained")                                             \
    X(chunks_out, "chunks", sum, "inbound ring chunks written (each a batch for one rank)")                 \
    X(batches_sent, "batches", sum, "batches sent to other routers")                                        \
    X(batch_bytes_sent, "bytes", sum, "bytes in those batches, batch headers included")                     \
    X(batches_received, "batches", sum, "batches received from other routers")                              \
    X(batch_bytes_received, "bytes", sum, "bytes in those batches, batch headers included")                 \
    X(flush_full, "flushes", sum, "batches and inbound chunks handed on because they were full")            \
    X(flush_idle, "flushes", sum, "partial batches and inbound chunks handed on when the thread was idle")  \
    X(stalls, "pauses", sum, "passes in which one rank's outbound ring paused (full target, no credit)")    \
    X(bad_batches, "batches", sum, "batches from the network refused (logged)")                             \
    X(bad_records, "records", sum, "malformed or misaddressed data in outbound rings (logged)")              \
    X(in_flight_max, "batches", max, "most batches in flight to one next hop at once (against depth)")     \
    X(passes, "passes", sum, "passes of the thread over its rings and network since the job started")      \
    X(passes_idle, "passes", sum, "passes that moved nothing")                                              \
    X(time_ns, "ns", sum, "wall time since the job started on this thread")                                  \
    X(time_idle_ns, "ns", sum, "time in idle stretches (from the first pass that moved nothing to the next that did)")

#define BUDDY_DETAIL_COUNTER_FIELD(name, unit, how, description) std::uint64_t name = 0;

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
/// How a counter of several ranks or threads combines.
enum class combine { sum, max };

template <typename Counters>
struct counter_field {
    const char* name;
    std::uint64_t Counters::*member;
    const char* unit;
    const char* description;
    combine how = combine::sum;
};

#define BUDDY_DETAIL_RANK_FIELD(name, unit, how, description) \
    counter_field<counters>{#name, &counters::name, unit, description, combine::how},
#define BUDDY_DETAIL_ROUTER_FIELD(name, unit, how, description) \
    counter_field<router_counters>{#name, &router_counters::name, unit, description, combine::how},

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

/// `into` += `from`, field by field (a peak: the larger of the two).
template <typename Counters>
constexpr void add_counters(Counters& into, const Counters& from) noexcept {
    for (const auto& f : fields_of<Counters>()) {
        if (f.how == combine::max) into.*f.member = into.*f.member > from.*f.member ? into.*f.member : from.*f.member;
        else into.*f.member += from.*f.member;
    }
}

/// One link: batches and bytes this engine sent to one next hop (another
/// router under host; another rank under inproc, whose engine is the rank's own).
struct link_report {
    std::uint32_t to = 0;  ///< the next hop: router index (host) or rank (inproc)
    std::uint64_t batches = 0;
    std::uint64_t bytes = 0;
};

/// A rank's hardware counters over the comm's life (only when a report is
/// asked for): what libpfm4 and perf_event_open gave, or why nothing.
struct hw_report {
    bool measured = false;          ///< a session ran for this rank
    bool available = false;         ///< at least one hardware event was counted
    std::string reason;             ///< when not available: what was tried and the errors
    std::string json;               ///< the whole result, a JSON object (lib/report/hw)
    std::uint64_t llc_miss_bytes = 0;  ///< last-level misses x 64-byte lines (0: not counted)
    std::uint64_t dram_bytes = 0;      ///< memory-controller bytes of the socket (0: not counted)
};

/// One rank's counters with who it is, for reports.
struct rank_report {
    int rank = 0;
    std::string host;
    counters c;
    std::vector<link_report> links;  ///< inproc: batches to each rank it sent to
    hw_report hw;
};

/// One knob in force for the job, for the report.
struct setting {
    std::string name;    ///< the knob ("granularity")
    std::string value;   ///< as formatted by the knob table
    std::string source;  ///< default, environment, flag or program
};

/// One router thread's counters for this job.
struct router_report {
    std::uint32_t router = 0;  ///< the router's index among the job's routers
    std::uint32_t thread = 0;  ///< the thread's index in its router
    std::string node;          ///< host name of the router
    router_counters c;
    std::vector<link_report> links;  ///< batches to each next-hop router it sent to
    /// The thread's hardware counters while the job ran: whether any event
    /// counted, why not, and the whole result as a JSON object as the router
    /// wrote it (lib/report/hw).
    bool hw_available = false;
    std::string hw_reason;
    std::string hw_json;
};

/// Everything a report shows about one job.
struct job_report {
    std::string placement;
    std::uint64_t granularity = 0;       ///< the job's batch size, against which batch fill is shown
    std::uint64_t depth = 0;             ///< batches in flight per next hop, against which in-flight use is shown
    std::vector<setting> settings;       ///< every knob in force (rank 0's)
    std::vector<rank_report> ranks;
    std::vector<router_report> routers;  ///< empty without routers (inproc)
};

}  // namespace buddy
