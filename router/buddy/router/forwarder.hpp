// The data path of one router thread: drains the outbound rings it owns,
// writes records for ranks of this router straight into their inbound rings
// (each inbound ring chunk is a complete batch: header + records), aggregates
// records for ranks of other routers into one batch per next-hop router
// (engine::aggregator, granularity and depth of the job) and sends them over
// UCX active messages; batches that arrive are validated and split into the
// destination ranks' inbound rings, or (records in transit, for ranks of other
// routers) into the batch for their next hop.
//
// One forwarder is used by exactly one thread; nothing in it locks.  The
// control thread changes what it serves only through commands the thread runs
// between passes (router/service.cpp).
//
// Nothing here waits: a full inbound ring, or a next hop with `depth` batches
// in flight, pauses only the source that needs it (the outbound ring stays at
// that record, an arrived batch stays queued), and the thread keeps serving
// everything else.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "buddy/engine/aggregator.hpp"
#include "buddy/stats.hpp"
#include "buddy/engine/route.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/router/rma_rank_rings.hpp"
#include "buddy/transport/active_message.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/rma_ring.hpp"
#include "buddy/transport/worker.hpp"
#include "buddy/wire/batch.hpp"

namespace buddy::router {

/// Per-job settings the ranks asked for (hello message).
struct job_settings {
    std::uint64_t job = 0;
    std::uint32_t size = 0;          ///< ranks in the job
    std::size_t granularity = 32 * 1024;
    std::uint32_t depth = 4;
    std::size_t max_message = 1024 * 1024;
    bool checksum = false;           ///< BUDDY_CHECKSUM: outbound chunks end with a trailer; seal what we write
};

/// The job's routing table, as the ranks handed it over; immutable once made.
struct job_table {
    std::uint32_t self = 0;                   ///< this router's index among the job's routers
    std::vector<std::uint32_t> rank_to_router;
    struct router_entry {
        std::uint64_t instance = 0;
        std::string name;                                 ///< for messages: "router 1 (node7)"
        std::vector<std::vector<std::byte>> addresses;    ///< one UCX worker address per thread
    };
    std::vector<router_entry> routers;
};

/// What the control thread learns from a thread about a job (rare path, locked).
struct job_health {
    std::mutex mu;
    std::string failure;  ///< non-empty: the job cannot produce a correct result any more
    std::atomic<bool> failed{false};
    void fail(const std::string& why) {
        std::lock_guard<std::mutex> g(mu);
        if (failure.empty()) failure = why;
        failed.store(true, std::memory_order_release);
    }
    std::string reason() {
        std::lock_guard<std::mutex> g(mu);
        return failure;
    }
};

/// Adds `n` to a router counter.  Only the owning router thread writes a
/// counter, so a relaxed load and a relaxed store (no read-modify-write, hence
/// no locked instruction on the data path) cannot lose an update.  The
/// atomic_ref makes the 8-byte store single-copy atomic, so another thread that
/// reads it with a relaxed load (forwarder::counters()) sees the old or the new
/// value, never a torn one; it needs no ordering with anything else it reads.
inline void bump(std::uint64_t& counter, std::uint64_t n) noexcept {
    std::atomic_ref<std::uint64_t> a(counter);
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
static_assert(std::atomic_ref<std::uint64_t>::required_alignment == alignof(std::uint64_t),
              "router counters are plain uint64 fields used through atomic_ref");

class forwarder {
public:
    /// `index`: this thread's index in its router; `name` appears in UCX and logs.
    forwarder(std::uint32_t index, std::string name);
    ~forwarder();
    forwarder(const forwarder&) = delete;
    forwarder& operator=(const forwarder&) = delete;

    /// This thread's UCX worker address (routers of a job exchange them).
    const std::vector<std::byte>& address() const noexcept { return worker_.address(); }
    std::uint32_t index() const noexcept { return index_; }

    /// Starts routing a job: `rings` are (rank, outbound ring, inbound ring)
    /// of this thread for each rank of the job attached to this router.
    struct rank_rings {
        std::uint32_t rank;
        void* outbound;  ///< initialised ring memory; this thread is its consumer
        void* inbound;   ///< initialised ring memory; this thread is its producer
        /// Placement dpu: the rings are this thread's rings over RMA for the
        /// rank (offer_rma_rings, connect_rma_rings); outbound and inbound unused.
        bool rma = false;
    };
    /// `scheme` picks the next hop of records for ranks of other routers
    /// (engine::route); records that reach a router which does not serve their
    /// rank are forwarded on (transit).
    void add_job(const job_settings& s, std::shared_ptr<const job_table> table,
                 std::shared_ptr<job_health> health, const std::vector<rank_rings>& rings,
                 engine::next_hop_scheme scheme = engine::direct);
    /// Stops serving one rank (detached, or dead); its rings are no longer touched.
    void remove_rank(std::uint64_t job, std::uint32_t rank);
    /// Forgets a job: closes its endpoints, drops its queued batches.
    void remove_job(std::uint64_t job);
    bool has_job(std::uint64_t job) const { return jobs_.count(job) != 0; }

    // ---- placement dpu: a rank's rings over RMA (only on this thread) ----
    /// Makes `rank` of `job`'s two rings here, registered with this thread's
    /// RMA worker (made with worker_features::am_and_rma on the first such
    /// rank: host jobs never pay for it, and the batch worker keeps its
    /// transports), and returns this side for the hello reply.
    control::rma_thread_rings offer_rma_rings(std::uint64_t job, std::uint32_t rank, std::size_t capacity);
    /// Reaches the rank with the sides its `attached` carried; returns how
    /// this thread's writes reach it.  Throws naming what is wrong.
    transport::carrier connect_rma_rings(std::uint64_t job, std::uint32_t rank, const control::rma_thread_rings& theirs,
                           const std::string& rank_name, std::size_t depth, double stall_timeout_s);
    /// Forgets them (after remove_rank or before add_job): closes the endpoint, frees the memory.
    void drop_rma_rings(std::uint64_t job, std::uint32_t rank);

    /// One pass over everything this thread serves.  Returns true if anything
    /// moved.  After a pass that moved nothing, partial batches and inbound
    /// chunks are flushed (which is what lets a barrier finish).
    bool step();

    /// Sends every partial batch and commits every partial inbound chunk now.
    void flush_all();

    /// This thread's counters over every job it served; any thread may call it
    /// (relaxed loads, see bump()).
    router_counters counters() const noexcept;
    /// This thread's counters for one job (zero if it does not serve the job).
    /// Only on this thread (router_thread::call): the job map is this thread's.
    router_counters job_counters(std::uint64_t job) const noexcept;
    /// Batches and bytes this thread sent per next-hop router for one job (only on this thread).
    std::vector<link_report> job_links(std::uint64_t job) const;

    /// The thread's pass loop reports idle stretches here (router_thread::run):
    /// one clock pair per stretch, never per pass.
    void add_idle_time(std::uint64_t ns) noexcept { bump(totals_.time_idle_ns, ns); }

private:
    struct job_state;

    /// A rank served here, whatever carries its rings.
    struct rank_slot {
        job_state* job = nullptr;
        std::uint32_t rank = 0;
        bool rma = false;                   ///< a basic_local_rank over RMA (rma_rank), else host_rank
        std::span<const std::byte> chunk;   ///< outbound chunk being forwarded (data() null: none)
        std::size_t offset = 0;             ///< how far into it
        std::byte* in_begin = nullptr;      ///< reserved inbound chunk (batch header goes here)
        wire::window win;                   ///< its record area
        bool broken = false;                ///< stopped after bad data
    };
    /// The rings' types are fixed per slot at compile time: the pass loop and
    /// the per-record path are templates with one instantiation per kind, so
    /// no record pays a branch on the placement (only make_room, per chunk).
    template <class Out, class In>
    struct basic_local_rank : rank_slot {
        Out out;  ///< this thread consumes the rank's outbound ring
        In in;    ///< and produces its inbound ring
    };
    using host_rank = basic_local_rank<ring::consumer, ring::producer>;
    struct rma_rank : basic_local_rank<transport::rma_consumer, transport::rma_producer> {
        const transport::rma_channel* channel = nullptr;  ///< what publish and release issue on
    };
    /// Whether an inbound chunk may be published now.  Host: always.  RMA: only
    /// with room in the channel's window (a publish is up to 3 operations,
    /// credit 1 more), so the thread never waits inside the channel for a rank
    /// that is slow to complete operations: the chunk waits, as for a full ring.
    static bool can_publish(const host_rank&) noexcept { return true; }
    static bool can_publish(const rma_rank& s) noexcept {
        return s.channel->in_flight() + rma_publish_margin <= s.channel->depth();
    }
    static constexpr std::size_t rma_publish_margin = 16;

    struct link {
        forwarder* self;
        job_state* job;
        void send(engine::batch_buffer* b);
        void wait_for_credit(std::uint32_t hop, std::chrono::steady_clock::time_point since);
    };

    struct job_state {
        job_settings settings;
        std::shared_ptr<const job_table> table;
        std::shared_ptr<job_health> health;
        std::vector<wire::window*> window_of;    ///< per destination rank: where its records go
        std::vector<std::int32_t> hop_of;        ///< per destination: next-hop router (engine::route), -1 if served here
        std::vector<rank_slot*> local_of;        ///< per destination: its rings here, or null
        std::unique_ptr<engine::aggregator> agg; ///< one hop per router of the job
        std::vector<std::optional<transport::endpoint>> peers;
        std::size_t inbound_target = 0;          ///< record bytes per inbound chunk
        wire::batch_limits limits;               ///< what batches from the network must satisfy
        wire::record_limits record_limits;       ///< what records in outbound rings must satisfy
        forwarder* owner = nullptr;
        router_counters counters;                ///< this thread's counters for this job
        engine::next_hop_scheme scheme = engine::direct;
        /// Per source router (made on its first batch): for each router t,
        /// whether the route sends records for t's ranks from that source
        /// through this router.  A record that could not have come this way is
        /// forged or misrouted.
        std::vector<std::vector<std::uint8_t>> via_here;
        /// The thread's pass and idle figures when the job started here: a
        /// job's are the thread's since then (the pass is the thread's, not a job's).
        std::uint64_t passes_at_start = 0, passes_idle_at_start = 0, idle_ns_at_start = 0;
        std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    };

    struct arrived {
        transport::received_batch rb;
        job_state* job;
        std::size_t offset;  ///< where the records not yet distributed start (from the batch's start)
        std::size_t end;     ///< where the records end (a checksum trailer may follow)
    };

    // Forwards records of the slot's outbound ring; false if it stopped on a full target.
    template <class Slot>
    bool forward(Slot& s, bool& moved);
    bool forward_chunk(rank_slot& s);
    template <class Slot>
    bool open_sealed_chunk(Slot& s);
    bool make_room(job_state& j, std::uint32_t dest, std::size_t bytes);
    template <class Slot>
    bool make_room_local(Slot& s, std::size_t bytes);
    template <class Slot>
    void commit_inbound(Slot& s);
    template <class Slot>
    void forward_all(std::vector<std::unique_ptr<Slot>>& slots, bool& moved);
    template <class Slot>
    void flush_inbound(std::vector<std::unique_ptr<Slot>>& slots);
    bool progress_rma();
    void report_refused_writes();
    bool receive();
    bool distribute(arrived& a);
    const std::uint8_t* via_here(job_state& j, std::uint32_t source);
    using counter_of = std::uint64_t router_counters::*;
    /// Adds `n` to a counter of the job and to the thread's totals.
    void count(job_state& j, counter_of which, std::uint64_t n = 1) noexcept {
        bump(j.counters.*which, n);
        bump(totals_.*which, n);
    }
    void bad_input(job_state& j, const std::string& why, counter_of which);
    transport::endpoint& peer(job_state& j, std::uint32_t hop);
    static void on_sent(void* token, ucs_status_t status);

    std::uint32_t index_;
    std::string name_;
    transport::worker worker_;
    engine::batch_pool receive_pool_;
    transport::batch_receiver receiver_;
    /// Placement dpu only (made on the first dpu rank): the worker that
    /// carries rings over RMA, and each dpu rank's rings here.
    std::optional<transport::worker> rma_worker_;
    /// Writes from dpu ranks carried as messages land through it (made with
    /// the worker, gone after every rank's rings withdrew their windows).
    std::optional<transport::write_target> rma_writes_;
    std::uint64_t refusals_reported_ = 0;
    std::map<std::pair<std::uint64_t, std::uint32_t>, std::unique_ptr<rma_rank_rings>> rma_links_;
    std::unordered_map<std::uint64_t, std::unique_ptr<job_state>> jobs_;
    std::vector<std::unique_ptr<host_rank>> slots_;
    std::vector<std::unique_ptr<rma_rank>> rma_slots_;  ///< served by the same templated loop
    std::deque<arrived> arrived_;
    router_counters totals_;  ///< every job's counters summed (jobs come and go)
};

}  // namespace buddy::router
