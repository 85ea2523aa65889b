// Placement inproc: the engine runs inside the rank.  One lane and one hop per
// destination rank; batches go to ranks of other nodes as UCX active
// messages, to ranks of this node through shared-memory rings (node_rings.hpp:
// async() writes into the ring chunk itself), and batches to this rank itself
// go straight to its delivery queue.
//
// Each rank is its own router, so a route with intermediate hops (mesh2d)
// makes ranks forward records for others: a batch that arrives holding
// records for other ranks has those copied into their next hop's open batch
// (transit), and the records for this rank are packed to its front and
// delivered.  With the direct route no batch can hold another rank's record,
// and the walk is skipped entirely.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

#include "buddy/engine/aggregator.hpp"
#include "buddy/engine/route.hpp"
#include "buddy/transport/active_message.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/worker.hpp"
#include "node_rings.hpp"
#include "runtime.hpp"

namespace buddy::detail {

namespace {

// Batches up to this size go eagerly: the granularity plus a header, with room
// for records that overshoot it, and at least 1 MiB.
std::size_t eager_limit(const config& c) {
    return std::max<std::size_t>(1 << 20, 2 * (c.granularity + wire::batch_header_bytes));
}


class inproc_backend final : public backend {
public:
    explicit inproc_backend(runtime& rt)
        : rt_(rt),
          rank_(static_cast<std::uint32_t>(rt.rank())),
          worker_("buddy rank " + std::to_string(rt.rank()), eager_limit(rt.settings())),
          aggregator_(engine::aggregator_settings{rt.settings().granularity, rt.settings().depth, rt.job(),
                                                  static_cast<std::uint32_t>(rt.rank()), rt.settings().checksum},
                      static_cast<std::uint32_t>(rt.size())),
          receiver_(worker_, aggregator_.pool().as_source()),
          peers_(static_cast<std::size_t>(rt.size())),
          lane_of_(static_cast<std::size_t>(rt.size())),
          timeout_(rt.settings().timeout_seconds),
          transit_(rt.settings().route != routing::direct) {
        // Each rank is its own router: the lane of a destination is the
        // aggregator hop of route's next hop (with direct, the rank itself).
        const engine::route route = engine::route::one_router_per_rank(static_cast<std::uint32_t>(rt.size()),
                                                                       engine::scheme_of(rt.settings().route));
        for (std::uint32_t d = 0; d < lane_of_.size(); ++d) lane_of_[d] = route.next_hop(rank_, d);
        transit_limits_.job = rt.job();
        transit_limits_.ranks = static_cast<std::uint32_t>(rt.size());
        transit_limits_.max_payload = rt.settings().max_message;
        exchange_addresses();
        // Node rings carry whole batches to one destination: only where a
        // batch never holds records for others (the direct route).  Setting
        // them up is collective, so every rank decides alike (a knob set on
        // some ranks only turns them off for all).
        int want = !transit_ && rt.settings().node_rings ? 1 : 0;
        MPI_Allreduce(MPI_IN_PLACE, &want, 1, MPI_INT, MPI_MIN, rt.mpi());
        if (want) open_node_rings();
    }

    ~inproc_backend() override {
        for (const waiting& w : waiting_) receiver_.release(w.rb);
        for (const auto& [b, r] : ring_queue_) aggregator_.pool().release(b);
        for (auto& p : peers_)
            if (p) p->close(worker_, 1.0);
    }

    wire::window* lanes() noexcept override { return aggregator_.windows(); }
    const std::uint32_t* lane_of() const noexcept override { return lane_of_.data(); }

    void make_room(std::uint32_t lane_index, std::size_t bytes) override {
        link l{this};
        const int r = ring_of(lane_index);
        if (r < 0 || ring_lent_[static_cast<std::size_t>(r)] != 0) {
            aggregator_.make_room(lane_index, bytes, l);
            return;
        }
        const auto ri = static_cast<std::size_t>(r);
        if (bytes + wire::batch_header_bytes + trailer_ > rings_->outbound(ri).max_chunk_payload()) {
            // Larger than a ring chunk can be: over UCX, in a batch of its own.
            commit_ring(lane_index, ri, engine::flush_reason::full);
            make_room_over_ucx(lane_index, ri, bytes, l);
            return;
        }
        ring_make_room(lane_index, ri, bytes);
    }

    void flush(engine::flush_reason why) override {
        link l{this};
        aggregator_.flush_all(why, l);
        for (std::size_t r = 0; r < ring_begin_.size(); ++r) {
            const std::uint32_t lane = rings_->rank_of(r);
            if (ring_begin_[r] != nullptr && aggregator_.windows()[lane].records != 0) commit_ring(lane, r, why);
        }
    }

    bool has_unsent() const noexcept override {
        if (aggregator_.any_records() || !waiting_.empty()) return true;
        for (std::size_t r = 0; r < ring_begin_.size(); ++r)
            if (ring_begin_[r] != nullptr && aggregator_.windows()[rings_->rank_of(r)].records != 0) return true;
        return false;
    }
    // Transit records are in the aggregator's count of records written, but
    // they are not new messages: their origin counted them when it wrote them.
    // Taking them out keeps the job's sum of written equal to the sum of
    // handled once everything is delivered (runtime::barrier counts on that).
    // transit_records_ grows in the same step that copies them into a window
    // (pass_on, which runs no handler and reads no count meanwhile), so the
    // difference never counts a record twice or not at all.
    // Records in open ring chunks are in the aggregator's sum (it adds every
    // window's count); committed ones are counted here.
    std::uint64_t messages_written() const noexcept override {
        return aggregator_.records_written() - transit_records_ + ring_.records;
    }

    bool poll(bool run_handlers) override {
        bool moved = worker_.progress();
        if (receiver_.failure() != UCS_OK)
            rt_.fatal(std::string("receiving a batch failed: ") + ucs_status_string(receiver_.failure()));
        // Node rings are emptied even when handlers may not run (the chunks
        // wait, copied out): a sender waiting for room must never wait on a
        // receiver that is itself waiting deep inside handlers.
        if (!ring_begin_.empty()) moved |= poll_rings(run_handlers);
        if (!run_handlers) return moved;
        // Deliver what is queued now, not what handlers queue meanwhile, so one
        // poll is bounded.  Each batch leaves its queue before delivery, so a
        // handler that polls again (inside a wait) sees a consistent queue.
        for (std::size_t n = self_queue_.size(); n > 0 && !self_queue_.empty(); --n) {
            engine::batch_buffer* b = self_queue_.front();
            self_queue_.pop_front();
            if (!b->credited) aggregator_.credit(rank_);
            rt_.deliver(std::span<const std::byte>(b->data(), b->bytes), "this rank");
            aggregator_.pool().release(b);
            moved = true;
        }
        if (transit_ && !forwarding_) [[unlikely]] moved |= resume_waiting();
        for (std::size_t n = receiver_.ready(); n > 0; --n) {
            transport::received_batch rb;
            if (!receiver_.take(rb)) break;
            moved = true;
            if (transit_ && !forwarding_) [[unlikely]] {
                waiting w{rb};
                if (!pass_on(w)) {
                    waiting_.push_back(w);
                    continue;
                }
                rb = w.rb;
                if (w.kept_records == 0 && w.offset != 0) {  // all of it went on
                    receiver_.release(rb);
                    continue;
                }
            }
            rt_.deliver(std::span<const std::byte>(rb.data, rb.bytes), source_name(rb));
            receiver_.release(rb);
        }
        return moved;
    }

    void drain() override {
        const auto deadline = clock::now() + std::chrono::duration<double>(timeout_);
        unsigned idle = 0;
        while (aggregator_.total_in_flight() > 0 || !waiting_.empty() || rings_in_flight()) {
            if (poll(true)) idle = 0;
            else rt_.idle_pause(idle);
            if (clock::now() > deadline) {
                rt_.fatal("shutdown: " + std::to_string(aggregator_.total_in_flight()) +
                          " batches still unacknowledged after " + std::to_string(timeout_) + " s");
            }
        }
    }

    void add_counters(counters& c) const noexcept override {
        const engine::aggregator_counters& a = aggregator_.counters();
        c.messages_sent += messages_written();
        c.records_transit += transit_records_;
        c.records_self += self_records_;
        c.ring_detours += ring_.detours;
        c.bytes_sent += aggregator_.record_bytes_written() + ring_.record_bytes + ring_open_bytes();
        c.batches_sent += a.batches_sent + ring_.batches;
        c.batch_bytes_sent += a.batch_bytes_sent + ring_.batch_bytes;
        c.flush_full += a.flush_full + ring_.flush_full;
        c.flush_barrier += a.flush_barrier + ring_.flush_barrier;
        c.flush_idle += a.flush_idle + ring_.flush_idle;
        c.backpressure_waits += a.credit_waits + ring_.waits;
        c.in_flight_max = a.in_flight_max;
    }

    std::vector<link_report> links() const override {
        std::vector<link_report> out;
        const std::vector<engine::hop_counters>& hops = aggregator_.hops_sent();
        for (std::uint32_t h = 0; h < hops.size(); ++h) {
            std::uint64_t batches = hops[h].batches, bytes = hops[h].bytes;
            const int r = ring_of(h);
            if (r >= 0) {
                batches += ring_hops_[static_cast<std::size_t>(r)].batches;
                bytes += ring_hops_[static_cast<std::size_t>(r)].bytes;
            }
            if (batches) out.push_back(link_report{h, batches, bytes});
        }
        return out;
    }

    bool node_rings_active() const noexcept override { return rings_ && rings_->in_force(); }

    std::string describe() const override {
        std::string node = ", no node rings";
        if (rings_ && rings_->active())
            node = ", node rings to " + std::to_string(rings_->peers()) + " ranks of this node (" +
                   std::to_string(rings_->capacity()) + " bytes each)";
        else if (rings_ && rings_->in_force())
            node += " (this rank is alone on its node; the job's other nodes use them)";
        else if (rings_ && !rings_->why_not().empty())
            node += " (" + rings_->why_not() + ")";
        else if (transit_)
            node += " (route " + std::string(to_string(rt_.settings().route)) + ")";
        else if (!rt_.settings().node_rings)
            node += " (node-rings off)";
        return "engine: inproc, " + std::to_string(lane_of_.size()) + " hops, route " +
               std::string(to_string(rt_.settings().route)) + ", UCX active messages" + node;
    }

private:
    using clock = std::chrono::steady_clock;

    // What the aggregator calls per batch.
    struct link {
        inproc_backend* self;
        void send(engine::batch_buffer* b) { self->send(b); }
        void wait_for_credit(std::uint32_t hop, clock::time_point since) { self->wait_for_credit(hop, since); }
    };

    void exchange_addresses() {
        const auto& mine = worker_.address();
        const int n = rt_.size();
        std::vector<int> lengths(static_cast<std::size_t>(n));
        const int my_length = static_cast<int>(mine.size());
        MPI_Allgather(&my_length, 1, MPI_INT, lengths.data(), 1, MPI_INT, rt_.mpi());
        offsets_.assign(static_cast<std::size_t>(n) + 1, 0);
        for (int i = 0; i < n; ++i) offsets_[static_cast<std::size_t>(i) + 1] = offsets_[i] + lengths[i];
        addresses_.resize(static_cast<std::size_t>(offsets_.back()));
        MPI_Allgatherv(mine.data(), my_length, MPI_BYTE, addresses_.data(), lengths.data(), offsets_.data(),
                       MPI_BYTE, rt_.mpi());
    }

    // Endpoints are made on first use: a job where each rank talks to a few
    // others never pays for connections to all of them.
    transport::endpoint& peer(std::uint32_t r) {
        auto& slot = peers_[r];
        if (!slot) {
            const std::span<const std::byte> address(addresses_.data() + offsets_[r],
                                                     static_cast<std::size_t>(offsets_[r + 1] - offsets_[r]));
            // Ranks of one node must reach each other over shared memory, which
            // UCX 1.13 offers only without transport-level failure detection
            // (with it, the same traffic went over TCP at 2.2x the cost); a dead
            // rank ends the MPI job, and every wait here is bounded by BUDDY_TIMEOUT.
            slot.emplace(worker_, address, "rank " + std::to_string(r),
                         transport::endpoint::failure_detection::by_caller);
        }
        return *slot;
    }

    static void on_sent(void* token, ucs_status_t status) {
        auto* b = static_cast<engine::batch_buffer*>(token);
        auto* self = static_cast<inproc_backend*>(b->owner);
        if (status != UCS_OK)
            self->rt_.fatal("sending a batch to rank " + std::to_string(b->hop) + " failed: " +
                            ucs_status_string(status));
        self->aggregator_.completed(b);
    }

    void send(engine::batch_buffer* b) {
        if (b->hop == rank_) {
            self_records_ += b->records;
            self_queue_.push_back(b);  // credited when its delivery starts
            return;
        }
        b->owner = this;
        b->ticket = transport::send_ticket{&inproc_backend::on_sent, b};
        transport::send_state st;
        try {
            st = transport::send_batch(peer(b->hop), b->data(), b->bytes, &b->ticket);
        } catch (const std::exception& e) {
            rt_.fatal(e.what());
        }
        if (st == transport::send_state::completed) aggregator_.completed(b);
        // Give arrived batches a turn once per batch sent: keeps received data
        // from piling up while this rank only sends, at a cost spread over a
        // whole batch of records.  Not while passing transit records on: that
        // walk holds a batch half done, and must not recurse into the next.
        if (!forwarding_) poll(rt_.handlers_allowed());
    }

    // ------------------------------------------------------------ node rings
    //
    // A ring lane's window points into a chunk reserved in the ring to that
    // rank, after room for the batch header; commit_ring() writes the header
    // (and checksum trailer) and publishes the chunk, which the receiver
    // delivers as a batch.  The ring's free space is the credit: a full ring
    // means the receiver has not taken depth + 1 batches yet, and the sender
    // waits, polling (running its own handlers), as for UCX credit.

    int ring_of(std::uint32_t lane) const noexcept {
        return ring_begin_.empty() ? -1 : rings_->index_of(lane);
    }

    void open_node_rings() {
        const config& cfg = rt_.settings();
        try {
            rings_.emplace(rt_);
        } catch (const std::exception& e) {
            rt_.fatal(std::string("setting up the rings between the ranks of this node: ") + e.what());
        }
        if (!rings_->active()) return;
        trailer_ = wire::trailer_bytes(cfg.checksum);
        ring_begin_.assign(rings_->peers(), nullptr);
        ring_lent_.assign(rings_->peers(), 0);
        ring_held_.assign(rings_->peers(), 0);
        ring_hops_.assign(rings_->peers(), engine::hop_counters{});
        // No collective call here: a rank alone on its node returned above.
        for (std::size_t r = 0; r < rings_->peers(); ++r)
            inbound_name_.push_back("node ring from rank " + std::to_string(rings_->rank_of(r)));
    }

    // Room for the lane of ring r in a batch of the aggregator (UCX) instead of
    // the ring, whose chunk is committed.  Records that handlers run by a wait
    // in there send to this lane go the same way; the lane comes back to the
    // ring at its next make_room (release_window in ring_make_room).
    void make_room_over_ucx(std::uint32_t lane, std::size_t r, std::size_t bytes, link& l) {
        ++ring_lent_[r];
        aggregator_.make_room(lane, bytes, l);
        --ring_lent_[r];
    }

    void ring_make_room(std::uint32_t lane, std::size_t r, std::size_t bytes) {
        link l{this};
        auto last_progress = clock::now();  // the wait is bounded from the last time anything moved
        unsigned idle = 0;
        bool counted = false;
        std::optional<runtime::timed_wait> timing;
        ring::producer& out = rings_->outbound(r);
        const std::size_t target = wire::batch_header_bytes + rt_.settings().granularity + trailer_;
        for (;;) {
            wire::window& w = aggregator_.windows()[lane];
            if (ring_begin_[r] != nullptr) {
                // A handler run by a wait below may have opened this lane again.
                if (static_cast<std::size_t>(w.limit - w.cursor) >= bytes) return;
                commit_ring(lane, r, engine::flush_reason::full);
                // Give arrived batches a turn once per batch sent, as send() does.
                if (!forwarding_) poll(rt_.handlers_allowed());
                if (counted) last_progress = clock::now();  // a chunk went: the bound counts from here
                continue;
            }
            // The window may still be the aggregator's (after an oversized record): hand it back.
            if (aggregator_.release_window(lane, l)) continue;
            std::size_t granted = 0;
            const std::size_t need = wire::batch_header_bytes + bytes + trailer_;
            std::byte* p = out.try_reserve(need, std::max(target, need), granted);
            if (p != nullptr) {
                ring_begin_[r] = p;
                w = wire::window{p + wire::batch_header_bytes, p + granted - trailer_, 0};
                return;
            }
            if (std::ranges::find(ring_held_, char{1}) != ring_held_.end()) {
                // Running handlers of a chunk still in a ring (poll_rings): waiting
                // here could wait on a peer that waits for that chunk's room.
                ++ring_.detours;
                make_room_over_ucx(lane, r, bytes, l);
                return;
            }
            // The receiver has not taken enough yet: run our own handlers meanwhile
            // (what keeps two flooding ranks from deadlocking).
            if (!counted) {
                ++ring_.waits;
                counted = true;
                timing.emplace(rt_, &counters::time_stall_ns);
            }
            if (poll(rt_.handlers_allowed())) {
                idle = 0;
                last_progress = clock::now();
            } else {
                rt_.idle_pause(idle);
                if ((idle & 63) == 0) check_ring_peer(r, last_progress);
            }
        }
    }

    std::string ring_peer_name(std::size_t r) const {
        return "rank " + std::to_string(rings_->rank_of(r)) + " (pid " + std::to_string(rings_->pid_of(r)) +
               ", this node)";
    }

    /// Ends the job if the node ring's peer r has exited (its pid is gone:
    /// a peer of this node, so the pid is meaningful here).
    void expect_ring_peer_alive(std::size_t r, const char* consequence) const {
        if (::kill(rings_->pid_of(r), 0) != 0 && errno == ESRCH) rt_.fatal(ring_peer_name(r) + " is gone: " + consequence);
    }

    void check_ring_peer(std::size_t r, clock::time_point since) {  // since: the last progress
        expect_ring_peer_alive(r, "its node ring stays full");
        if (clock::now() - since > std::chrono::duration<double>(timeout_))
            rt_.fatal("waited " + std::to_string(timeout_) + " s without progress for " + ring_peer_name(r) +
                      " to take a batch from its node ring (BUDDY_TIMEOUT); is it stuck outside buddy calls?");
    }

    // One peer of the node a call, in turn: a barrier's idle wait finds a
    // dead one within (peers x the caller's interval) instead of BUDDY_TIMEOUT.
    // Peers on other nodes have no pid here; their launcher or the timeout
    // ends the job.
    void check_peers() override {
        if (!rings_ || !rings_->active() || rings_->peers() == 0) return;
        next_peer_checked_ = (next_peer_checked_ + 1) % rings_->peers();
        expect_ring_peer_alive(next_peer_checked_, "barrier() would wait for it");
    }

    void commit_ring(std::uint32_t lane, std::size_t r, engine::flush_reason why) {
        std::byte* const begin = ring_begin_[r];
        if (begin == nullptr) return;
        wire::window& w = aggregator_.windows()[lane];
        const auto used = static_cast<std::size_t>(w.cursor - (begin + wire::batch_header_bytes));
        if (w.records != 0) {
            const std::size_t bytes = wire::finish_batch(begin, rt_.job(), rank_, static_cast<std::uint32_t>(w.records),
                                                         used, trailer_ != 0);
            rings_->outbound(r).commit(bytes);
            ring_.records += w.records;
            ring_.record_bytes += used;
            ++ring_.batches;
            ring_.batch_bytes += bytes;
            ++ring_hops_[r].batches;
            ring_hops_[r].bytes += bytes;
            switch (why) {
                case engine::flush_reason::full: ++ring_.flush_full; break;
                case engine::flush_reason::barrier: ++ring_.flush_barrier; break;
                case engine::flush_reason::idle: ++ring_.flush_idle; break;
            }
        } else {
            rings_->outbound(r).commit(0);
        }
        ring_begin_[r] = nullptr;
        w = wire::window{};
    }

    // Delivers each arrived chunk where it lies in the ring when handlers may
    // run and nothing copied out waits before it; otherwise copies it out (the
    // ring is free again at once) and queues it.
    //
    // Why delivering in place cannot deadlock: while a rank runs the handlers
    // of a chunk still in its ring (ring_held_), the sender of that chunk may
    // be waiting for that very room, and may itself be running handlers of a
    // chunk of ours.  So a rank that holds a chunk never waits for room in a
    // node ring: ring_make_room sends what does not fit over UCX instead,
    // whose credit comes back with the peer's UCX progress alone (every poll,
    // whatever its handlers do).  A held ring is skipped by nested polls: its
    // front is the chunk being delivered.
    bool poll_rings(bool run) {
        bool moved = false;
        if (run) {
            for (std::size_t n = ring_queue_.size(); n > 0 && !ring_queue_.empty(); --n) {
                auto [b, r] = ring_queue_.front();
                ring_queue_.pop_front();
                deliver_copy(b, r);
                moved = true;
            }
        }
        for (std::size_t r = 0; r < ring_begin_.size(); ++r) {
            if (ring_held_[r]) continue;
            ring::consumer& in = rings_->inbound(r);
            const std::span<const std::byte> c = in.front();
            if (c.data() == nullptr) {
                if (in.corrupted()) rt_.fatal("the " + inbound_name_[r] + " is corrupted (bad chunk framing)");
                continue;
            }
            moved = true;
            if (run && ring_queue_.empty()) {
                deliver_in_place(c, r);
                in.pop();
                continue;
            }
            engine::batch_buffer* b = aggregator_.pool().acquire(c.size());
            std::memcpy(b->data(), c.data(), c.size());
            b->bytes = c.size();
            in.pop();
            ring_queue_.emplace_back(b, r);
        }
        return moved;
    }

    // The chunk stays in ring r (unpopped: its sender may not reuse the room)
    // while its handlers run.  Saves copying every chunk out: 4.1% of an
    // index_gather run's samples was that copy.
    void deliver_in_place(std::span<const std::byte> chunk, std::size_t r) {
        struct hold {
            char& held;
            explicit hold(char& h) : held(h) { held = 1; }
            ~hold() { held = 0; }  // also when a handler throws
        } holding(ring_held_[r]);
        rt_.deliver(chunk, inbound_name_[r].c_str());
    }

    void deliver_copy(engine::batch_buffer* b, std::size_t r) {
        rt_.deliver(std::span<const std::byte>(b->data(), b->bytes), inbound_name_[r].c_str());
        aggregator_.pool().release(b);
    }

    bool rings_in_flight() noexcept {
        if (!ring_queue_.empty()) return true;
        for (std::size_t r = 0; r < ring_begin_.size(); ++r)
            if (!rings_->outbound(r).drained()) return true;
        return false;
    }

    std::uint64_t ring_open_bytes() const noexcept {
        std::uint64_t n = 0;
        for (std::size_t r = 0; r < ring_begin_.size(); ++r)
            if (ring_begin_[r] != nullptr)
                n += static_cast<std::uint64_t>(aggregator_.windows()[rings_->rank_of(r)].cursor -
                                                (ring_begin_[r] + wire::batch_header_bytes));
        return n;
    }

    // ------------------------------------------------------------ transit
    //
    // Why passing records on cannot deadlock, nor nest without bound:
    //  - pass_on never waits.  A transit record goes into its next hop's open
    //    batch; when that batch is full it is sent only if the hop has credit
    //    (fewer than `depth` batches in flight).  Without credit the arrived
    //    batch waits in waiting_, at the record where it stopped, and delivery
    //    of every other arrived batch goes on past it (records are not promised
    //    in order between a pair of ranks once they take different paths).
    //  - Credit comes back when UCX completes a send, which needs only the
    //    next hop's UCX progress; every wait of every rank progresses its
    //    worker (poll) whatever its handlers do, so a waiting batch always
    //    moves on eventually, and no rank waits on another's handling.
    //  - While pass_on runs, forwarding_ is set: the send it may make does not
    //    poll (which would take and walk the next arrived batch inside this
    //    one), and a poll reached any other way skips transit, so the walk is
    //    never re-entered.  Flushes that do wait for credit (async, barrier)
    //    run at the rank's own level, where a nested poll is allowed.
    //  - A waiting batch counts as unsent (has_unsent), so barrier() and
    //    progress() keep polling until it has moved, and its records, written
    //    at their origin but not yet handled, keep the barrier's sums apart.

    struct waiting {
        transport::received_batch rb;
        std::size_t offset = 0;   ///< next record to look at (0: the batch was not checked yet)
        std::size_t kept = 0;     ///< end of this rank's records, packed at the front
        std::uint32_t kept_records = 0;
    };

    // Passes the batch's records for other ranks on to their next hops and
    // packs this rank's own to its front.  true: w.rb now holds only this
    // rank's records (deliver it); false: a next hop had no credit, try again later.
    bool pass_on(waiting& w) {
        const std::span<std::byte> all(w.rb.data, w.rb.bytes);
        if (w.offset == 0) {
            // The whole batch is checked first.  A bad one is delivered as it is,
            // and deliver() ends the job naming what is wrong with it.
            bool foreign = false;
            const wire::parse_result r = wire::for_each_checked_record(
                all, transit_limits_,
                [&](const wire::record_header& h, const std::byte*, std::size_t) { foreign |= h.dest != rank_; });
            if (!r || !foreign) return true;
            w.offset = w.kept = wire::batch_header_bytes;
        }
        forwarding_ = true;
        link l{this};
        wire::trusted_record_cursor cursor(all, w.offset);
        std::uint64_t passed = 0;
        bool done = true;
        for (wire::record_view v; cursor.next(v);) {
            const std::uint32_t d = v.header.dest;
            if (d == rank_) {
                std::memmove(all.data() + w.kept, v.record, v.record_bytes);  // never forward: kept <= v.record
                w.kept += v.record_bytes;
                ++w.kept_records;
                continue;
            }
            const std::uint32_t hop = lane_of_[d];  // never this rank: route refuses a hop to itself
            wire::window& win = aggregator_.windows()[hop];
            if (static_cast<std::size_t>(win.limit - win.cursor) < v.record_bytes) {
                if (aggregator_.has_records(hop) && aggregator_.in_flight(hop) >= aggregator_.settings().depth) {
                    w.offset = static_cast<std::size_t>(v.record - all.data());
                    done = false;
                    break;
                }
                aggregator_.make_room(hop, v.record_bytes, l);  // sends the full batch: credit is there
            }
            win.copy_in(v.record, v.record_bytes);
            ++passed;
        }
        forwarding_ = false;
        transit_records_ += passed;
        if (!done) return false;
        wire::batch_header h{};
        std::memcpy(&h, all.data(), sizeof h);
        wire::write_batch_header(all.data(), h.job, h.source, w.kept_records, w.kept - wire::batch_header_bytes);
        w.rb.bytes = w.kept;
        return true;
    }

    // Retries the batches that waited for credit, oldest first; delivers those done.
    bool resume_waiting() {
        bool moved = false;
        for (std::size_t n = waiting_.size(); n > 0 && !waiting_.empty(); --n) {
            waiting w = waiting_.front();
            waiting_.pop_front();
            const std::size_t before = w.offset;
            if (!pass_on(w)) {
                moved |= w.offset != before;
                waiting_.push_back(w);
                continue;
            }
            if (w.kept_records != 0) rt_.deliver(std::span<const std::byte>(w.rb.data, w.rb.bytes), source_name(w.rb));
            receiver_.release(w.rb);
            moved = true;
        }
        return moved;
    }

    void wait_for_credit(std::uint32_t hop, clock::time_point since) {
        if (hop == rank_ && !rt_.handlers_allowed()) {
            // Deep inside nested handlers, this rank's own queued batches cannot
            // be delivered here; let them stop counting against the depth
            // rather than wait on ourselves.
            for (engine::batch_buffer* b : self_queue_) {
                if (!b->credited) {
                    b->credited = true;
                    aggregator_.credit(rank_);
                }
            }
            return;
        }
        const runtime::timed_wait timing(rt_, &counters::time_stall_ns);
        unsigned idle = 0;
        const std::uint32_t before = aggregator_.in_flight(hop);
        while (aggregator_.in_flight(hop) >= before) {
            if (poll(rt_.handlers_allowed())) return;  // something moved: let the caller re-check
            if (hop != rank_ && peers_[hop] && peers_[hop]->failed()) {
                rt_.fatal("rank " + std::to_string(hop) + " is unreachable: " +
                          ucs_status_string(peers_[hop]->status()));
            }
            if (clock::now() - since > std::chrono::duration<double>(timeout_)) {
                rt_.fatal("waited " + std::to_string(timeout_) + " s for rank " + std::to_string(hop) +
                          " to accept a batch without progress (BUDDY_TIMEOUT); is it stuck outside "
                          "buddy calls?");
            }
            rt_.idle_pause(idle);
        }
    }

    static const char* source_name(const transport::received_batch&) { return "another rank"; }

    runtime& rt_;
    std::uint32_t rank_;
    transport::worker worker_;
    engine::aggregator aggregator_;
    transport::batch_receiver receiver_;
    std::vector<std::optional<transport::endpoint>> peers_;
    std::vector<std::uint32_t> lane_of_;
    std::deque<engine::batch_buffer*> self_queue_;
    std::vector<std::byte> addresses_;
    std::vector<int> offsets_;
    double timeout_;
    const bool transit_;             ///< the route may hand this rank records for others
    bool forwarding_ = false;        ///< inside pass_on (see the argument above it)
    wire::batch_limits transit_limits_;  ///< structure of arrived batches (their handlers: deliver checks)
    std::deque<waiting> waiting_;    ///< arrived batches whose transit records wait for credit
    std::uint64_t transit_records_ = 0;
    std::uint64_t self_records_ = 0;     ///< records in batches to this rank itself

    // Node rings (empty vectors: none).
    std::optional<node_rings> rings_;
    std::vector<std::byte*> ring_begin_;       ///< per ring: the reserved chunk (its batch header), or null
    std::size_t next_peer_checked_ = 0;        ///< check_peers(): the node ring peer checked last
    std::vector<engine::hop_counters> ring_hops_;
    std::vector<std::string> inbound_name_;    ///< per inbound ring, for messages
    std::deque<std::pair<engine::batch_buffer*, std::size_t>> ring_queue_;  ///< copied out, not yet delivered
    std::size_t trailer_ = 0;                  ///< checksum trailer bytes after each batch's records
    std::vector<unsigned> ring_lent_;          ///< per ring: its lane's window is lent to the aggregator (oversized record)
    std::vector<char> ring_held_;              ///< per inbound ring: its front chunk is being delivered in place
    struct {
        std::uint64_t records = 0, record_bytes = 0, batches = 0, batch_bytes = 0;
        std::uint64_t flush_full = 0, flush_barrier = 0, flush_idle = 0, waits = 0;
        std::uint64_t detours = 0;  ///< room wanted while holding a chunk: the lane went over UCX
    } ring_;                                   ///< committed to node rings
};

}  // namespace

std::unique_ptr<backend> make_inproc_backend(runtime& rt) { return std::make_unique<inproc_backend>(rt); }

}  // namespace buddy::detail
