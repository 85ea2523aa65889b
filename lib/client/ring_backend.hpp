// The rank's side of a buddy-router's rings (placements host and dpu): one
// data path, a template over what carries the rings.
//
// The rank has one outbound and one inbound ring per router thread.  The
// lanes async() writes into are windows into the chunk currently reserved in
// each outbound ring (lane = router thread = engine::lane_of(dest, threads)); make_room()
// commits that chunk and reserves the next, flush() commits partial chunks.
// Inbound ring chunks are complete batches (batch header + records for this
// rank), copied out and handed to runtime::deliver().  Copying them out first
// frees the ring before handlers run, so a handler that waits for outbound
// room never waits on a ring it is itself holding.
//
// `Rings` is what differs between placements (host_backend.cpp,
// dpu_backend.cpp), fixed at compile time so the hot path has no branch on it:
//   using producer, consumer;            the ring types (publish/release policies)
//   static constexpr const char* placement, carried_by;  for describe()
//   void attach(runtime&, router_client&, capacity, vector<producer>&, vector<consumer>&);
//       one of each per router thread of client.router(); says `attached`
//   void* out_ring(t) const;             the rank's copy of outbound ring t (drain reads its head)
//   bool progress() noexcept;            called by every poll (false: nothing to do)
//   void quiesce() noexcept;             before detach: our operations complete while the router listens
//
// Setup is other files' work: router_client (find or start the router, hello,
// attach), router_table_exchange (MPI), router_watch (liveness, checked by
// every wait here).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "buddy/engine/route.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/wire/batch.hpp"
#include "router_client.hpp"
#include "router_stats.hpp"
#include "router_table_exchange.hpp"
#include "router_watch.hpp"
#include "runtime.hpp"

namespace buddy::detail {

template <class Rings>
class ring_backend final : public backend {
public:
    /// Connects to the router at `where` (router_client: hello), attaches
    /// the rings (Rings::attach, which says `attached`), exchanges the table.
    /// `where.router_index` of `where.routers` on this node.
    ring_backend(runtime& rt, router_endpoint where, unsigned local_index)
        : rt_(rt), timeout_(rt.settings().timeout_seconds), routers_(where.routers), router_index_(where.router_index) {
        const config& cfg = rt.settings();
        client_.emplace(rt, std::move(where), local_index);
        const router_attachment& router = client_->router();
        threads_ = router.threads;
        router_name_ = router.name;
        open_rings();
        job_routers_ = exchange_router_table(rt, *client_);
        watch_.emplace(rt, client_->channel(), router.pid, router_name_, client_->address());
        lane_of_.resize(static_cast<std::size_t>(rt.size()));
        for (std::uint32_t d = 0; d < lane_of_.size(); ++d) lane_of_[d] = engine::lane_of(d, threads_);
        // Outbound chunks: the granularity, within sensible bounds for a ring.
        chunk_target_ = std::clamp<std::size_t>(cfg.granularity, 4096, out_[0].max_chunk_payload() / 4);
        trailer_ = wire::trailer_bytes(cfg.checksum);
        for (std::uint32_t t = 0; t < threads_; ++t)
            inbound_name_.push_back("inbound ring " + std::to_string(t) + " from " + router_name_);
        // Nobody sends before every router of the job has its table.
        MPI_Barrier(rt.mpi());
    }

    ~ring_backend() override {
        // Detach while the rings are still mapped or registered (the router drops them first).
        rings_.quiesce();
        watch_.reset();
        client_.reset();
    }

    wire::window* lanes() noexcept override { return lanes_.data(); }
    const std::uint32_t* lane_of() const noexcept override { return lane_of_.data(); }

    void make_room(std::uint32_t l, std::size_t bytes) override {
        if ((++room_calls_ & 63) == 0) watch_->check(false);
        const auto start = std::chrono::steady_clock::now();
        unsigned idle = 0;
        bool counted = false;
        std::optional<runtime::timed_wait> timing;
        for (;;) {
            wire::window& w = lanes_[l];
            if (begin_[l] != nullptr) {
                // A handler run by the wait below may have opened this lane again.
                if (static_cast<std::size_t>(w.limit - w.cursor) >= bytes) return;
                commit(l);
            }
            std::size_t granted = 0;
            // Checksum on: the window stops short of the trailer commit() writes.
            std::byte* p = out_[l].try_reserve(bytes + trailer_, std::max(chunk_target_, bytes) + trailer_, granted);
            if (p != nullptr) {
                begin_[l] = p;
                lanes_[l] = wire::window{p, p + granted - trailer_, 0};
                return;
            }
            if (bytes + trailer_ > out_[l].max_chunk_payload())
                rt_.fatal("a record of " + std::to_string(bytes) + " bytes cannot fit a ring of " +
                          std::to_string(out_[l].capacity()) + " bytes (raise BUDDY_RING_BYTES)");
            // The router has not drained this ring yet: run our own inbound
            // handlers meanwhile (what keeps two flooding ranks from deadlocking).
            if (!counted) {
                ++waits_;
                counted = true;
                timing.emplace(rt_, &counters::time_stall_ns);  // from the first failed try to the return
            }
            if (poll(rt_.handlers_allowed())) idle = 0;
            else rt_.idle_pause(idle);
            watch_->check(true);
            if (std::chrono::steady_clock::now() - start > std::chrono::duration<double>(timeout_))
                rt_.fatal("waited " + std::to_string(timeout_) + " s for " + router_name_ +
                          " to drain an outbound ring (BUDDY_TIMEOUT); it is alive but makes no progress");
        }
    }

    void flush(engine::flush_reason why) override {
        for (std::uint32_t l = 0; l < threads_; ++l) {
            if (begin_[l] == nullptr || lanes_[l].records == 0) continue;
            commit(l);
            if (why == engine::flush_reason::barrier) ++flush_barrier_;
            else if (why == engine::flush_reason::idle) ++flush_idle_;
        }
    }

    bool has_unsent() const noexcept override {
        for (const wire::window& w : lanes_)
            if (w.records != 0) return true;
        return false;
    }

    std::uint64_t messages_written() const noexcept override {
        std::uint64_t n = committed_records_;
        for (const wire::window& w : lanes_) n += w.records;
        return n;
    }

    bool poll(bool run_handlers) override {
        if ((++poll_calls_ & 255) == 0) watch_->check(false);
        // Rings over RMA: the router's puts land, and our operations complete,
        // when our worker progresses (nothing for shared memory rings).
        bool moved = rings_.progress();
        if (run_handlers) {
            // Chunks queued by nested polls first (they are older).
            for (std::size_t n = queued_.size(); n > 0 && !queued_.empty(); --n) {
                auto [b, ring] = std::move(queued_.front());
                queued_.pop_front();
                deliver(b, ring);
                moved = true;
            }
        }
        for (std::uint32_t t = 0; t < threads_; ++t) {
            const std::span<const std::byte> c = in_[t].front();
            if (c.data() == nullptr) {
                if (in_[t].corrupted()) rt_.fatal("the " + inbound_name_[t] + " is corrupted (bad chunk framing)");
                continue;
            }
            std::vector<std::byte> b = take_buffer();
            b.assign(c.begin(), c.end());
            in_[t].pop();
            moved = true;
            if (run_handlers && queued_.empty()) {
                deliver(b, t);
            } else {
                queued_.emplace_back(std::move(b), t);
            }
        }
        return moved;
    }

    void drain() override {
        flush(engine::flush_reason::barrier);
        // Wait (bounded) until the router has taken everything we published.
        const auto start = std::chrono::steady_clock::now();
        unsigned idle = 0;
        for (;;) {
            bool empty = true;
            for (std::uint32_t t = 0; t < threads_; ++t) {
                auto* h = static_cast<ring::ring_header*>(rings_.out_ring(t));
                // Acquire on head: pairs with the router's release after it
                // consumed, so "empty" means it has really taken every chunk.
                // Tail is ours (acquire only for symmetry; we wrote it last).
                const auto head = std::atomic_ref<std::uint64_t>(h->head).load(std::memory_order_acquire);
                const auto tail = std::atomic_ref<std::uint64_t>(h->tail).load(std::memory_order_acquire);
                if (head != tail) empty = false;
            }
            if (empty) return;
            if (poll(true)) idle = 0;
            else rt_.idle_pause(idle);
            watch_->check(true);
            if (std::chrono::steady_clock::now() - start > std::chrono::duration<double>(timeout_))
                rt_.fatal("shutdown: " + router_name_ + " did not drain the outbound rings within " +
                          std::to_string(timeout_) + " s");
        }
    }

    void add_counters(counters& c) const noexcept override {
        std::uint64_t open_bytes = 0;
        for (std::uint32_t l = 0; l < threads_; ++l)
            if (begin_[l]) open_bytes += static_cast<std::uint64_t>(lanes_[l].cursor - begin_[l]);
        c.messages_sent += messages_written();
        c.bytes_sent += committed_bytes_ + open_bytes;
        c.batches_sent += chunks_;
        c.batch_bytes_sent += committed_bytes_;
        c.flush_full += chunks_ - flush_barrier_ - flush_idle_;
        c.flush_barrier += flush_barrier_;
        c.flush_idle += flush_idle_;
        c.backpressure_waits += waits_;
    }

    std::vector<router_report> router_stats() override {
        if (!job_routers_.leader) return {};
        return ask_router_stats(rt_, *client_, job_routers_.index);
    }

    std::string describe() const override {
        return std::string("router: ") + Rings::placement + ", " + router_name_ + ", " + Rings::carried_by + " " +
               client_->address() + ", " + std::to_string(threads_) +
               " router threads (lane = dest % " + std::to_string(threads_) + "), rings of " +
               std::to_string(ring_capacity_) + " bytes, outbound chunks of " + std::to_string(chunk_target_) +
               " bytes, router " + std::to_string(router_index_) + " of " + std::to_string(routers_) +
               " on this node, " + std::to_string(job_routers_.count) + " routers in the job";
    }

private:
    // ------------------------------------------------------------ setup

    void open_rings() {
        ring_capacity_ = rt_.settings().ring_bytes;
        try {
            rings_.attach(rt_, *client_, ring_capacity_, out_, in_);
        } catch (const std::exception& e) {
            rt_.fatal("cannot attach the rings of " + router_name_ + ": " + e.what());
        }
        if (out_.size() != threads_ || in_.size() != threads_) rt_.fatal("the rings of " + router_name_ + " are missing");
        lanes_.assign(threads_, wire::window{});
        begin_.assign(threads_, nullptr);
    }

    // ------------------------------------------------------------ data path

    void commit(std::uint32_t l) {
        wire::window& w = lanes_[l];
        const auto used = static_cast<std::size_t>(w.cursor - begin_[l]);
        if (w.records != 0) {
            // One branch per chunk when the checksum is off; on, the CRC of
            // the records goes in the room make_room() kept after them.
            if (trailer_ != 0) wire::write_checksum_trailer(begin_[l], used);
            out_[l].commit(used + trailer_);
            committed_records_ += w.records;
            committed_bytes_ += used;
            ++chunks_;
        } else {
            out_[l].commit(0);
        }
        begin_[l] = nullptr;
        w = wire::window{};
    }

    std::vector<std::byte> take_buffer() {
        if (free_.empty()) return {};
        std::vector<std::byte> b = std::move(free_.back());
        free_.pop_back();
        return b;
    }

    void deliver(std::vector<std::byte>& b, std::uint32_t ring) {
        rt_.deliver(std::span<const std::byte>(b.data(), b.size()), inbound_name_[ring].c_str());
        if (free_.size() < 16) free_.push_back(std::move(b));
    }

    runtime& rt_;
    double timeout_;
    unsigned routers_ = 1, router_index_ = 0;
    std::uint32_t threads_ = 0;
    job_routers job_routers_;
    std::string router_name_;
    std::optional<router_client> client_;
    std::optional<router_watch> watch_;
    std::size_t ring_capacity_ = 0, chunk_target_ = 4096;
    Rings rings_;  ///< what carries the rings; outlives the producers and consumers below
    std::vector<typename Rings::producer> out_;
    std::vector<typename Rings::consumer> in_;
    std::vector<wire::window> lanes_;
    std::vector<std::byte*> begin_;
    std::vector<std::uint32_t> lane_of_;
    std::deque<std::pair<std::vector<std::byte>, std::uint32_t>> queued_;  ///< chunk, inbound ring it came from
    std::vector<std::string> inbound_name_;  ///< per inbound ring, for messages
    std::size_t trailer_ = 0;                ///< checksum trailer bytes after each outbound chunk's records
    std::vector<std::vector<std::byte>> free_;
    std::uint64_t committed_records_ = 0, committed_bytes_ = 0, chunks_ = 0;
    std::uint64_t flush_barrier_ = 0, flush_idle_ = 0, waits_ = 0;
    std::uint64_t room_calls_ = 0, poll_calls_ = 0;
};

}  // namespace buddy::detail
