#include "runtime.hpp"

#include "buddy/config/memory_model.hpp"
#include "buddy/transport/worker.hpp"
#include "hw_counters.hpp"
#include "job_agreement.hpp"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <random>
#include <stdexcept>

namespace buddy::detail {

namespace {
// Every live runtime of this process, so that a wait in one progresses all.
// Only the thread that calls buddy (MPI's funneled use) touches it: no lock.
std::vector<runtime*>& live_runtimes() {
    static std::vector<runtime*> all;
    return all;
}
}  // namespace

runtime::runtime(comm& owner, MPI_Comm world, config settings, bool own_mpi)
    : owner_(owner), settings_(std::move(settings)), own_mpi_(own_mpi) {
    // settings_ were validated by comm before MPI started (comm.cpp).
    MPI_Comm_dup(world, &world_);
    MPI_Comm_rank(world_, &rank_);
    MPI_Comm_size(world_, &size_);
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    MPI_Get_processor_name(name, &len);
    host_.assign(name, static_cast<std::size_t>(len));

    // A job id that routers use to keep concurrent jobs apart, and the job's
    // secret that proves a connection to a router is one of its ranks (the
    // only proof over TCP).  One broadcast carries both.
    struct {
        std::uint64_t job;
        std::uint8_t secret[control::secret_bytes];
    } start{};
    if (rank_ == 0) {
        std::random_device rd;
        start.job = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                    static_cast<std::uint64_t>(getpid()) ^
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        if (start.job == 0) start.job = 1;
        try {
            control::draw_secret(start.secret);
        } catch (const std::exception& e) {
            fatal(e.what());  // the other ranks wait in the broadcast: end them too
        }
    }
    MPI_Bcast(&start, sizeof start, MPI_BYTE, 0, world_);
    job_ = start.job;
    std::copy(std::begin(start.secret), std::end(start.secret), secret_.begin());

    try {
        check_job_agreement(world_, settings_);
    } catch (const config_error&) {
        // A refusal at start like a bad knob's (comm ends every rank with
        // exit status 2), not an exception left to std::terminate.
        MPI_Comm_free(&world_);
        throw;
    }

    limits_.job = job_;
    limits_.ranks = static_cast<std::uint32_t>(size_);
    limits_.handlers = static_cast<std::uint32_t>(handler_count());
    limits_.max_payload = settings_.max_message;
    limits_.only_dest = static_cast<std::uint32_t>(rank_);

    {  // the job's shape, for the memory figures of --buddy-verbose and the report
        MPI_Comm node;
        MPI_Comm_split_type(world_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
        int here = 1;
        MPI_Comm_size(node, &here);
        MPI_Comm_free(&node);
        MPI_Allreduce(&here, &ranks_per_node_, 1, MPI_INT, MPI_MAX, world_);
    }
    // Before the backend: a router this rank starts is told the same policy.
    wait_ = choose_wait(world_, settings_);

    try {
        switch (settings_.where) {
            case placement::inproc: backend_ = make_inproc_backend(*this); break;
            case placement::host: backend_ = make_host_backend(*this); break;
            case placement::dpu:
                try {
                    backend_ = make_dpu_backend(*this);
                } catch (...) {
                    MPI_Comm_free(&world_);
                    throw;
                }
                break;
        }
    } catch (const transport::transport_error& e) {
        // The job cannot run (UCX refused a worker or an endpoint); the other
        // ranks may wait in a collective, so end them all, saying why,
        // rather than leave the exception to std::terminate.
        fatal(std::string("starting the transport: ") + e.what());
    }
    // Hardware counters cost a few system calls at start and end, and only
    // the report shows them: only when one is asked for.
    if (!settings_.report_path.empty()) hw_ = std::make_unique<hw_counters>();
    epochs_ = std::make_unique<barrier_epochs>(world_);
    sums_ = std::make_unique<sum_reduction>(world_);
    live_runtimes().push_back(this);
    // The comm's life, for the report's wall and application time, starts
    // now: MPI start-up, the router attach and address exchange are not the
    // application's time.
    started_ = clock::now();
    if (settings_.verbose && rank_ == 0) {
        const memory_model::job_shape shape{static_cast<std::uint64_t>(size_),
                                            static_cast<std::uint64_t>(ranks_per_node_), backend_->node_rings_active()};
        std::fprintf(stderr, "buddy: %d ranks (at most %d per node), job %016llx\n%s%s\nwait: %s\n%s\n", size_,
                     ranks_per_node_, static_cast<unsigned long long>(job_), settings_.describe().c_str(),
                     backend_->describe().c_str(), wait_.why.c_str(),
                     memory_model::describe(settings_, shape).c_str());
    }
}

runtime::~runtime() { finish(); }

void runtime::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    if (std::uncaught_exceptions() != 0) {
        // This rank is unwinding: it cannot take part in the final barrier, and
        // the other ranks may already be in it (or in the next one) waiting for
        // it.  Ending the job is the only way none of them waits forever.
        fatal("buddy::comm destroyed while an exception propagates; ending the job so that no rank "
              "waits for this one");
    }
    bool report_written = true;
    try {
        // Nothing sent is lost at exit.  A distinct kind: a rank that returns
        // without the barrier() its peers are in must not pass for them.
        barrier(barrier_kind::final);
        if (!settings_.report_path.empty()) report_written = write_report();
        backend_->drain();
        MPI_Barrier(world_);  // no rank tears down while another may still send to it
        epochs_->close();
        sums_->close();
    } catch (const std::exception& e) {
        // The other ranks are in (or on their way to) the collectives above
        // that this rank now skips (the report's broadcast, MPI_Barrier,
        // MPI_Win_free) and would wait there for ever: end the job instead.
        fatal(std::string("error during shutdown: ") + e.what() + "; ending the job so that no rank waits for this one");
    }
    std::erase(live_runtimes(), this);
    backend_.reset();
    MPI_Comm_free(&world_);
    if (own_mpi_) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
    }
    // The user asked for a report and did not get it: the job must not look
    // successful.  Every rank agreed (write_report), so every rank exits so.
    if (!report_written) std::exit(EXIT_FAILURE);
}

void runtime::fatal(const std::string& why) const {
    std::fprintf(stderr, "buddy: rank %d on %s: fatal: %s\n", rank_, host_.c_str(), why.c_str());
    std::fflush(stderr);
    MPI_Abort(world_ != MPI_COMM_NULL ? world_ : MPI_COMM_WORLD, 3);
    std::abort();
}

bool runtime::poll_other_comms() {
    bool moved = false;
    for (runtime* other : live_runtimes())
        if (other != this && other->backend_) moved |= other->backend_->poll(other->handlers_allowed());
    return moved;
}

void runtime::idle_pause(unsigned& idle_spins) {
    if (live_runtimes().size() > 1 && poll_other_comms()) {
        idle_spins = 0;
        return;
    }
    // Ranks escalate sooner than router threads (router_thread.cpp): a rank
    // that waits usually waits for a router or another rank that needs a core.
    static constexpr ring::backoff_steps rank_steps{16, 240, 20'000};  // 20 us naps: far below any timeout
    ring::idle_step(wait_.mode, rank_steps, ++idle_spins);
}

void runtime::deliver(std::span<const std::byte> batch, const char* from) {
    // One pass: check each record, then run it.  A bad record is fatal at a rank
    // (its message is lost, the job's answer would be wrong), so records before
    // it having run changes nothing; a router, which must survive bad input,
    // checks the whole batch first instead.
    const handler_entry* const table = handler_table();
    std::uint16_t running = 0;
    // Handler time: one clock pair per outermost batch, never per record (a
    // nested delivery is already inside its caller's pair).
    const bool timed = nesting_ == 0;
    const clock::time_point start = timed ? clock::now() : clock::time_point{};
    ++nesting_;
    wire::parse_result r = wire::parse_batch_header(batch, limits_);
    std::uint64_t count = 0;
    if (r) [[likely]] {
        wire::record_cursor cursor(batch.first(wire::batch_header_bytes + r.records.size()), limits_.records(),
                                   wire::batch_header_bytes);
        try {
            for (wire::record_view v; cursor.next(v);) {
                running = v.header.handler;
                const handler_entry& e = table[v.header.handler];
                if (e.run != nullptr && v.payload_bytes == e.run_payload) [[likely]] {
                    // This record and the ones after it with the same header
                    // word, in one call; the cursor checks what follows.
                    const std::byte* const stop = e.run(owner_, v.record, cursor.end());
                    count += static_cast<std::uint64_t>(stop - v.record) / v.record_bytes;
                    cursor.resume_at(stop);
                } else {
                    e.call(owner_, v.payload, v.payload_bytes);
                    ++count;
                }
            }
        } catch (const std::exception& e) {
            // The rest of the batch, and whatever the handler was doing, is lost: the
            // job's answer cannot be right, so it ends here, naming the handler.
            fatal("handler " + std::string(table[running].name) + " threw: " + e.what());
        } catch (...) {
            fatal("handler " + std::string(table[running].name) + " threw a non-standard exception");
        }
        if (cursor.error().error != wire::parse_errc::ok) [[unlikely]]
            r = wire::batch_error(cursor.error());
        else if (count != r.header.records) [[unlikely]]
            r = wire::batch_error(wire::record_error{wire::parse_errc::count_mismatch, 16, r.header.records});
    }
    --nesting_;
    if (timed) {
        // Stall time inside handlers is handler time: the outer pair covers it.
        owner_.counters_.time_handlers_ns += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count());
    }
    if (!r) [[unlikely]] {
        if (r.error == wire::parse_errc::unknown_handler) {
            fatal("a record from " + std::string(from) + " names unknown handler id " + std::to_string(r.value) +
                  " (this binary registers " + std::to_string(handler_count()) +
                  " handlers); are all ranks running the same binary?");
        }
        fatal("malformed batch from " + std::string(from) + ": " + wire::describe(r));
    }
    owner_.counters_.messages_handled += r.header.records;
    ++owner_.counters_.batches_received;
}

void runtime::progress() {
    if (nesting_ > 0) {  // called from inside a handler: never recurse deeply
        backend_->poll(handlers_allowed());
        return;
    }
    const bool moved = backend_->poll(true);
    if (!moved && backend_->has_unsent()) backend_->flush(engine::flush_reason::idle);
}

void runtime::barrier(barrier_kind kind) {
    if (nesting_ > 0) fatal("barrier() called from inside a handler; handlers must not wait for the whole job");
    ++owner_.counters_.barriers;
    const timed_wait timing(*this, &counters::time_barrier_ns);
    const std::uint64_t tag = barrier_tag(++barrier_epoch_, kind);
    epochs_->enter(tag);
    backend_->flush(engine::flush_reason::barrier);
    const auto ranks = static_cast<std::uint64_t>(size_);
    const double timeout = settings_.timeout_seconds;

    // Quiescence by counting: every rank contributes (sent, handled); the job is
    // quiet when the sums agree and did not change between two consecutive
    // rounds.  A round's contributions are read only after the previous round
    // completed everywhere, so equal sums in two rounds mean no message was in
    // flight in between.  The reduction is non-blocking and this rank keeps
    // delivering and flushing while it waits, so a rank in barrier() never
    // blocks a rank that still has messages for it.
    //
    // The same reduction carries the barrier's tag and its square: the sums are
    // n*tag and n*tag^2 only if every rank's tag is this one (equal mean and
    // mean square mean zero variance; the sums wrap modulo 2^64 alike on every
    // rank, so equal tags always pass), so ranks in different barriers notice at
    // their first round at no extra cost.  A wait without progress for
    // BUDDY_TIMEOUT ends the job naming the rank that did not come.
    //
    // One round is enough when the first finds the sums of the last barrier:
    // each rank's written count only grows, so an unchanged sum means no rank
    // wrote a message since then, and with none written none can be in flight
    // or be sent later by a handler (handlers run only on messages).  So
    // `previous` starts there, and an empty barrier costs one reduction.
    std::uint64_t previous[2] = {settled_[0], settled_[1]};
    // Sums that stay unequal and unchanged round after round never balance by
    // themselves: each round completes, so the wait below never times out.
    // Since when they have (when `stuck`).
    bool stuck = false;
    std::chrono::steady_clock::time_point stuck_since{};
    for (;;) {
        sums_->start({backend_->messages_written(), owner_.counters_.messages_handled, tag, tag * tag});
        // Tested once before the first poll: an empty barrier's round often
        // completes at once, and then costs no poll at all.
        bool done = sums_->test();
        unsigned idle = 0;
        auto last_progress = std::chrono::steady_clock::now();
        while (!done) {
            const bool moved = backend_->poll(true);
            if (backend_->has_unsent()) backend_->flush(engine::flush_reason::barrier);
            done = sums_->test();
            if (moved) {
                idle = 0;
                last_progress = std::chrono::steady_clock::now();
            } else if (!done) {
                idle_pause(idle);
                // The clock only on idle spins, and only every 64th: a barrier
                // that completes at once never reads it.
                if ((idle & 63) == 0) {
                    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - last_progress;
                    if (waited.count() > timeout) barrier_failed(tag, false, waited.count());
                    backend_->check_peers();  // a dead rank of this node: say so now, not at the timeout
                }
            }
        }
        ++owner_.counters_.quiescence_rounds;
        const sum_reduction::vector& global = sums_->result();
        if (global[2] != ranks * tag || global[3] != ranks * tag * tag) [[unlikely]]
            barrier_failed(tag, true, 0.0);
        if (global[0] == previous[0] && global[1] == previous[1]) {
            if (global[0] == global[1]) {
                settled_[0] = global[0];
                settled_[1] = global[1];
                break;
            }
            // The clock only on this rare path: a barrier that completes never reads it.
            const auto now = std::chrono::steady_clock::now();
            if (!stuck) stuck_since = now;
            stuck = true;
            const std::chrono::duration<double> unchanged = now - stuck_since;
            if (unchanged.count() > timeout) barrier_unbalanced(tag, global[0], global[1], unchanged.count());
        } else {
            stuck = false;
        }
        previous[0] = global[0];
        previous[1] = global[1];
        // Let arrivals land before the next round: an immediate second round
        // would only observe the same in-flight state again.
        for (int i = 0; i < 4 && backend_->poll(true); ++i) {
        }
        if (backend_->has_unsent()) backend_->flush(engine::flush_reason::barrier);
    }
}

void runtime::barrier_unbalanced(std::uint64_t tag, std::uint64_t written, std::uint64_t handled,
                                 double stuck_seconds) {
    char stuck[32];
    std::snprintf(stuck, sizeof stuck, "%.0f s", stuck_seconds);
    const std::string counts = "the job's ranks have written " + std::to_string(written) + " messages and handled " +
                               std::to_string(handled) + ", unchanged for " + stuck + " in " +
                               describe_barrier(tag) + " (BUDDY_TIMEOUT)";
    // More handled than written cannot come from the job: a record reached a
    // rank from outside it (a forged batch the routers could not tell from a
    // real one, or a duplicate).  Fewer: messages lost or stuck on the way.
    fatal(handled > written
              ? counts + ": " + std::to_string(handled - written) +
                    " handled that no rank of the job wrote (a record from outside the job, forged or duplicated)"
              : counts + ": " + std::to_string(written - handled) + " written and never handled (lost or stuck on the way)");
}

void runtime::barrier_failed(std::uint64_t tag, bool mismatch, double waited_seconds) {
    // Bounded: the ranks' tags arrive within a few seconds or the sentence says
    // they could not be read.
    const double read_limit = std::min(settings_.timeout_seconds, 2.0);
    const std::optional<std::vector<std::uint64_t>> tags = epochs_->read_all(read_limit);
    const std::string here = describe_barrier(tag);
    char waited[32];
    std::snprintf(waited, sizeof waited, "%.0f s", waited_seconds);
    if (!tags) {
        fatal(std::string(mismatch ? "ranks are in different barriers (this rank is in " + here + ")"
                                   : "waited " + std::string(waited) + " in " + here +
                                         " without progress (BUDDY_TIMEOUT)") +
              (epochs_->readable()
                   ? "; which rank is missing could not be read within " + std::to_string(read_limit) + " s"
                   : std::string("; which rank is missing cannot be read: this MPI offers no RMA window")));
    }
    std::string why;
    int named = 0;
    bool elsewhere = false;  // some rank is in another barrier, not merely behind
    for (int r = 0; r < size_ && named < 8; ++r) {
        const std::uint64_t other = (*tags)[static_cast<std::size_t>(r)];
        if (other == tag) continue;
        if (!why.empty()) why += "; ";
        ++named;
        if (!mismatch && (other >> 1) < (tag >> 1)) {
            why += "rank " + std::to_string(r) + " has not entered " + here + " after " + waited +
                   (other == 0 ? std::string(" (it has entered no barrier yet)")
                               : " (the last it entered is " + describe_barrier(other) + ")");
        } else {
            elsewhere = true;
            why += "rank " + std::to_string(r) + " is in " + describe_barrier(other) + " while rank " +
                   std::to_string(rank_) + " is in " + here;
        }
    }
    if (why.empty()) {
        why = mismatch ? "ranks are in different barriers (this rank is in " + here + ")"
                       : "every rank has entered " + here + ", but its counting round made no progress for " +
                             std::string(waited);
    } else if (elsewhere) {
        why += ": every rank must call barrier() the same number of times before its comm is destroyed";
    }
    fatal(why);
}

counters runtime::snapshot() const noexcept {
    counters c = owner_.counters_;
    backend_->add_counters(c);
    c.time_wall_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started_).count());
    const std::uint64_t accounted = c.time_handlers_ns + c.time_barrier_ns + c.time_stall_ns;
    c.time_application_ns = c.time_wall_ns > accounted ? c.time_wall_ns - accounted : 0;
    return c;
}

}  // namespace buddy::detail
