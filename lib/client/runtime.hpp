// What a rank runs behind buddy::comm: MPI bootstrap, handler dispatch,
// quiescence detection, counters, and one backend that moves batches (inproc:
// UCX between ranks; host: shared rings to a buddy-router).
#pragma once

#include <mpi.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "barrier_epochs.hpp"
#include "sum_reduction.hpp"
#include "buddy/control/job_secret.hpp"
#include "wait_choice.hpp"
#include "buddy/comm.hpp"
#include "buddy/engine/aggregator.hpp"
#include "buddy/wire/batch.hpp"

namespace buddy::detail {

class runtime;
struct hw_counters;  // hw_counters.hpp

/// Moves records off the lanes and delivers what arrives.  Calls are per
/// batch or per wait, never per record, so a virtual call here is free.
class backend {
public:
    virtual ~backend() = default;
    virtual wire::window* lanes() noexcept = 0;
    virtual const std::uint32_t* lane_of() const noexcept = 0;
    /// Makes lanes()[lane] hold at least `bytes`; may send, and wait for credit.
    virtual void make_room(std::uint32_t lane_index, std::size_t bytes) = 0;
    /// Hands on every partly filled batch.
    virtual void flush(engine::flush_reason why) = 0;
    /// True if some lane holds records not yet handed on.
    virtual bool has_unsent() const noexcept = 0;
    /// Messages async() has written on this rank so far (the lanes count them).
    virtual std::uint64_t messages_written() const noexcept = 0;
    /// Polls once; delivers arrived batches through runtime::deliver() if
    /// `run_handlers`.  Returns true if anything happened.
    virtual bool poll(bool run_handlers) = 0;
    /// Before teardown: waits (bounded) until nothing this rank sent is in flight.
    virtual void drain() = 0;
    /// Adds the backend's own counters.
    virtual void add_counters(counters& c) const noexcept = 0;
    /// The routers' counters for this job that this rank reports: its
    /// router's, per thread, if it is that router's first rank; none otherwise
    /// (and none without routers).  Not collective; may ask the router.
    virtual std::vector<router_report> router_stats() { return {}; }
    /// Batches and bytes per link of the rank's own engine (inproc); none otherwise.
    virtual std::vector<link_report> links() const { return {}; }
    /// A line describing the backend's setup, for --buddy-verbose and reports.
    virtual std::string describe() const = 0;
    /// Whether the job's ranks pass batches to the others of their node
    /// through node rings (inproc), the same on every rank.
    virtual bool node_rings_active() const noexcept { return false; }
    /// On an idle wait that no party of the backend's own answers (barrier()):
    /// ends the job if a peer the backend can watch is gone.  A few cheap
    /// checks a call at most, so it may be called every few idle spins.
    virtual void check_peers() {}
};

class runtime {
public:
    runtime(comm& owner, MPI_Comm world, config settings, bool own_mpi);
    ~runtime();

    void make_room(std::uint32_t lane_index, std::size_t bytes) { backend_->make_room(lane_index, bytes); }
    /// The backend's lanes, and each destination's lane.  Backends size their
    /// lanes once, at construction, so these pointers hold for the comm's life.
    void attach_lanes(wire::window*& lanes, wire::window* const*& lane_for) {
        lanes = backend_->lanes();
        const std::uint32_t* lane_of = backend_->lane_of();
        lane_for_.resize(static_cast<std::size_t>(size_));
        for (std::size_t d = 0; d < lane_for_.size(); ++d) lane_for_[d] = lanes + lane_of[d];
        lane_for = lane_for_.data();
    }
    /// The user's barrier(); the destructor's is barrier(barrier_kind::final).
    void barrier() { barrier(barrier_kind::explicit_call); }
    void progress();
    void finish() noexcept;

    /// Validates a batch and runs its handlers.  Fatal on a malformed batch:
    /// the messages in it are lost, so the job cannot produce a correct answer.
    void deliver(std::span<const std::byte> batch, const char* from);

    /// Handlers may run now (false deep inside nested waits, to bound the stack).
    bool handlers_allowed() const noexcept { return nesting_ < max_nesting; }
    /// Ends the job with a message naming this rank and the reason.
    [[noreturn]] void fatal(const std::string& why) const;
    /// Polls every other comm of this process once; true if anything moved.
    bool poll_other_comms();

    /// One idle step of a waiting loop: first gives every other comm of this
    /// process a poll (a wait in one comm must not starve another: the party
    /// this comm waits for may itself wait on a comm nobody drains), then, if
    /// nothing moved there either, waits one idle pass by the policy in force
    /// (ring::idle_step: spin, or spin-yield-nap when ranks outnumber cores).
    void idle_pause(unsigned& idle_spins);

    const config& settings() const noexcept { return settings_; }
    /// The waiting policy in force (knob `wait`, auto resolved at start).
    const wait_choice& waiting() const noexcept { return wait_; }
    MPI_Comm mpi() const noexcept { return world_; }
    int rank() const noexcept { return rank_; }
    int size() const noexcept { return size_; }
    /// The most ranks of this job on one node (the same on every rank).
    int ranks_per_node() const noexcept { return ranks_per_node_; }
    std::uint64_t job() const noexcept { return job_; }
    /// The job's secret, the same on every rank (drawn by rank 0): every hello
    /// presents it, and a router binds the job id to it.
    control::secret_view job_secret() const noexcept { return secret_; }
    const std::string& host() const noexcept { return host_; }
    counters snapshot() const noexcept;
    /// Collective: every rank's counters, and on rank 0 the routers' (job_report.cpp).
    /// `final`: the end-of-job report, which also stops the hardware counters
    /// (a print_stats() before it leaves them counting).
    job_report gather_report(bool final = false);
    comm& owner() noexcept { return owner_; }

    static constexpr int max_nesting = 8;

    using clock = std::chrono::steady_clock;

    /// Times one wait of this rank (a barrier, one backpressure wait) into a
    /// time counter: one clock pair per wait, never per message.  Exclusive:
    /// handler, barrier and stall time spent inside the wait is not counted
    /// twice.  Inside a handler it does nothing (that time is handler time).
    class timed_wait {
    public:
        timed_wait(runtime& rt, std::uint64_t counters::*into) noexcept
            : c_(rt.owner_.counters_), into_(into), on_(rt.nesting_ == 0) {
            if (on_) {
                others_ = accounted(c_);
                start_ = clock::now();
            }
        }
        ~timed_wait() {
            if (!on_) return;
            const auto elapsed = static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_).count());
            const std::uint64_t inside = accounted(c_) - others_;
            c_.*into_ += elapsed > inside ? elapsed - inside : 0;
        }
        timed_wait(const timed_wait&) = delete;
        timed_wait& operator=(const timed_wait&) = delete;

    private:
        static std::uint64_t accounted(const counters& c) noexcept {
            return c.time_handlers_ns + c.time_barrier_ns + c.time_stall_ns;
        }
        counters& c_;
        std::uint64_t counters::*into_;
        bool on_;
        std::uint64_t others_ = 0;
        clock::time_point start_{};
    };

private:
    void barrier(barrier_kind kind);
    /// Ends the job: the barrier `tag` made no progress for BUDDY_TIMEOUT, or
    /// (`mismatch`) ranks are in different barriers.  Names the ranks.
    [[noreturn]] void barrier_failed(std::uint64_t tag, bool mismatch, double waited_seconds);
    /// The barrier's sums stayed unequal and unchanged for BUDDY_TIMEOUT.
    [[noreturn]] void barrier_unbalanced(std::uint64_t tag, std::uint64_t written, std::uint64_t handled,
                                         double stuck_seconds);
    /// Collective: writes the JSON report (rank 0); false on every rank if it could not.
    bool write_report();

    comm& owner_;
    config settings_;
    bool own_mpi_;
    bool finished_ = false;
    MPI_Comm world_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 0;
    int ranks_per_node_ = 1;  ///< the most ranks of this job on one node
    std::uint64_t job_ = 0;
    std::array<std::uint8_t, control::secret_bytes> secret_{};
    std::string host_;
    int nesting_ = 0;
    std::uint64_t barrier_epoch_ = 0;  ///< barriers this rank has entered
    /// The job's sums (written, handled) when the last barrier returned: a
    /// barrier whose first round finds them unchanged is quiet at once.
    std::uint64_t settled_[2] = {0, 0};
    std::unique_ptr<barrier_epochs> epochs_;
    std::unique_ptr<sum_reduction> sums_;  ///< the barrier's counting rounds
    wait_choice wait_;
    wire::batch_limits limits_;
    std::unique_ptr<backend> backend_;
    std::vector<wire::window*> lane_for_;  ///< destination rank -> its lane (comm::async reads it)
    clock::time_point started_ = clock::now();  ///< the comm's life starts (wall time of the report)
    std::unique_ptr<hw_counters> hw_;            ///< hardware counters, only when a report is asked for
};

/// The inproc backend (inproc_backend.cpp).
std::unique_ptr<backend> make_inproc_backend(runtime& rt);
/// The host backend (host_backend.cpp): rings to a buddy-router on this node.
std::unique_ptr<backend> make_host_backend(runtime& rt);
/// The dpu backend (dpu_backend.cpp): a buddy-router on a DPU, reached over
/// TCP (control) and UCX RMA (the rings).  Throws config_error for a missing
/// or bad dpu map.
std::unique_ptr<backend> make_dpu_backend(runtime& rt);

}  // namespace buddy::detail
