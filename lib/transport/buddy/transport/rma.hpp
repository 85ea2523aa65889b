// One-sided operations to one peer: put, 64-bit atomic add, fence, flush, with
// a bounded number of operations in flight.  The hot path (put, add64, fence)
// is inline: no lock, no allocation, no virtual call; UCX requests that do not
// complete at once go into a fixed array of `depth` slots, and a full array is
// drained by progressing the worker (a bounded wait) before the next operation.
//
// Errors do not throw from the hot path (ring policies are noexcept): the first
// failure is kept (failed(), error(), check()) and later operations are
// dropped.  Every wait (a full window, flush, wait_for) is bounded and its
// error names the peer (endpoint::peer_name).
//
// Two carriers (chosen per channel, carrier_for picks one from the lane table):
//   rma       ucp_put_nbx and ucp_atomic_op_nbx: the NIC writes the peer's
//             memory (rc/dc on InfiniBand, RoCE, a BlueField-3).
//   messages  each put or add is an eager active message that the peer's
//             write_target applies (message_writes.hpp).  For transports
//             without remote-access hardware (tcp; shared memory for memory
//             the caller allocated), where UCX would emulate RMA with
//             acknowledged messages and its target dies when an initiator
//             dies with operations in flight.
// Either way, without RDMA hardware the writes land when the *target* worker
// progresses: a peer that polls its memory for data must keep progressing its
// own worker (wait_for does).
#pragma once

#include <ucp/api/ucp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/message_writes.hpp"
#include "buddy/transport/worker.hpp"

namespace buddy::transport {

/// How an rma_channel's writes reach the peer (see the top of this file).
enum class carrier { rma, messages };
const char* to_string(carrier c) noexcept;

/// rma when the endpoint's lane table (endpoint::describe) has an RMA lane and
/// an atomic lane on RDMA hardware (rc, dc, gga transports); messages
/// otherwise, including whenever the table cannot be read.
carrier carrier_for(const endpoint& ep);
/// The same rule on the text of a lane table (ucp_ep_print_info).
carrier carrier_for_lanes(std::string_view lane_table);

class rma_channel {
public:
    /// Operations to the peer of `ep`, progressed on `w` (which made `ep`, with
    /// worker_features::am_and_rma).  `depth`: operations in flight at most
    /// (>= 1).  `stall_timeout_s`: how long an operation may wait for a slot
    /// before the channel fails ("no completion from PEER within S s").
    /// `how`: the carrier of its writes; messages need a write_target on the
    /// peer's worker.
    rma_channel(worker& w, endpoint& ep, carrier how, std::size_t depth = 64, double stall_timeout_s = 30.0);
    ~rma_channel();
    rma_channel(const rma_channel&) = delete;
    rma_channel& operator=(const rma_channel&) = delete;

    /// Copies `bytes` at `local` to `remote` in the peer's memory.  `local`
    /// must stay unchanged until the operation completed (flush, or until the
    /// peer acknowledged it in some other way, e.g. by returning ring credit).
    void put(const void* local, std::size_t bytes, std::uint64_t remote, ucp_rkey_h key) noexcept {
        if (!admit()) [[unlikely]]
            return;
        if (carrier_ == carrier::messages) {
            send_write(write_header{remote, bytes, write_header::put, 0}, local, bytes, "put");
            return;
        }
        ucp_request_param_t param;
        param.op_attr_mask = 0;
        track(ucp_put_nbx(ep_.handle(), local, bytes, remote, key, &param), "put");
    }

    /// Atomically adds `value` to the 8-byte aligned word at `remote`: a reader
    /// of that word on the peer sees the old or the new value, never a mix.
    void add64(std::uint64_t value, std::uint64_t remote, ucp_rkey_h key) noexcept {
        if (!admit()) [[unlikely]]
            return;
        if (carrier_ == carrier::messages) {
            send_write(write_header{remote, value, write_header::add64, 0}, nullptr, 0, "atomic add");
            return;
        }
        // The operand lives in the slot until completion, whatever UCX does
        // with the pointer in the meantime.
        std::uint64_t& operand = operands_[next_ & mask_];
        operand = value;
        ucp_request_param_t param;
        param.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE;
        param.datatype = ucp_dt_make_contig(sizeof(std::uint64_t));
        track(ucp_atomic_op_nbx(ep_.handle(), UCP_ATOMIC_OP_ADD, &operand, 1, remote, key, &param), "atomic add");
    }

    /// Operations issued before the fence are applied at the peer before those
    /// issued after it (ucp_worker_fence: every transport of the worker).
    void fence() noexcept {
        if (failed_) [[unlikely]]
            return;
        const ucs_status_t st = ucp_worker_fence(worker_.handle());
        if (st != UCS_OK) [[unlikely]]
            fail("ucp_worker_fence", st);
    }

    /// Progresses the worker once and retires completed operations.  True if
    /// UCX reported activity.
    bool progress() noexcept {
        const bool any = worker_.progress();
        retire();
        return any;
    }

    /// Waits until every operation issued so far has completed at the peer
    /// (ucp_ep_flush_nbx).  Throws transport_error naming the peer on failure
    /// or after `timeout_s`.
    void flush(double timeout_s);

    /// Progresses until `done()` is true.  Throws transport_error naming the
    /// peer when the channel or the endpoint failed, or after `timeout_s`
    /// ("timed out after S s waiting for WHAT from PEER").
    template <class Done>
    void wait_for(Done&& done, double timeout_s, std::string_view what) {
        if (done()) return;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        for (unsigned spins = 1;; ++spins) {
            // Nothing moved: let the peer run, in case it shares our core.
            if (!progress()) std::this_thread::yield();
            if (done()) return;
            check();
            if (ep_.failed()) peer_failed(what);
            if (spins % 256 == 0 && std::chrono::steady_clock::now() >= deadline) timed_out(what, timeout_s);
        }
    }

    bool failed() const noexcept { return failed_; }
    /// The first failure ("" while none).
    const std::string& error() const noexcept { return error_; }
    /// Throws transport_error(error()) once the channel failed.
    void check() const {
        if (failed_) [[unlikely]]
            throw transport_error(error_);
    }

    carrier how() const noexcept { return carrier_; }
    std::size_t in_flight() const noexcept { return static_cast<std::size_t>(next_ - oldest_); }
    std::size_t depth() const noexcept { return slots_.size(); }
    /// How many operations found the window full and waited for a slot.
    std::uint64_t stalls() const noexcept { return stalls_; }
    endpoint& peer() const noexcept { return ep_; }
    worker& owner() const noexcept { return worker_; }

private:
    /// Room for one more request: retires what completed; when the window is
    /// still full, progresses until a slot frees (bounded).  False once failed.
    bool admit() noexcept {
        if (failed_) [[unlikely]]
            return false;
        if (next_ - oldest_ == slots_.size()) [[unlikely]]
            drain_one();
        return !failed_;
    }

    void track(ucs_status_ptr_t req, const char* what) noexcept {
        if (req == nullptr) [[likely]]
            return;  // completed in place
        if (UCS_PTR_IS_ERR(req)) [[unlikely]] {
            fail(what, UCS_PTR_STATUS(req));
            return;
        }
        slots_[next_ & mask_] = req;
        ++next_;
    }

    void send_write(const write_header& h, const void* data, std::size_t bytes, const char* what) noexcept {
        // The header lives in the slot until completion (UCX 1.13 has no
        // flag promising to copy it at once).
        write_header& slot = headers_[next_ & mask_];
        slot = h;
        ucp_request_param_t param;
        param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        // Eager only: a rendezvous would make the target reply (and the
        // target refuses it).
        param.flags = UCP_AM_SEND_FLAG_EAGER;
        track(ucp_am_send_nbx(ep_.handle(), write_am_id, &slot, sizeof slot, data, bytes, &param), what);
    }

    void retire() noexcept;
    void drain_one() noexcept;
    void fail(const char* what, ucs_status_t st) noexcept;
    [[noreturn]] void peer_failed(std::string_view what) const;
    [[noreturn]] void timed_out(std::string_view what, double timeout_s) const;

    worker& worker_;
    endpoint& ep_;
    std::vector<void*> slots_;             ///< requests in flight, oldest at oldest_ & mask_
    std::vector<std::uint64_t> operands_;  ///< add64 operands, by slot
    std::vector<write_header> headers_;    ///< message headers, by slot
    carrier carrier_;
    std::uint64_t mask_;
    std::uint64_t oldest_ = 0;
    std::uint64_t next_ = 0;
    double stall_timeout_s_;
    std::uint64_t stalls_ = 0;
    bool failed_ = false;
    std::string error_;
};

}  // namespace buddy::transport
