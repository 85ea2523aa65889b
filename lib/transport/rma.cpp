#include "buddy/transport/rma.hpp"

#include <bit>
#include <cstdio>
#include <thread>

namespace buddy::transport {

namespace {
std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}
}  // namespace

rma_channel::rma_channel(worker& w, endpoint& ep, std::size_t depth, double stall_timeout_s)
    : worker_(w), ep_(ep), stall_timeout_s_(stall_timeout_s) {
    if (depth == 0) throw transport_error("rma_channel to " + ep.peer_name() + ": depth must be at least 1");
    // A power of two, so that a slot is an index & mask.
    const std::size_t slots = std::bit_ceil(depth);
    slots_.assign(slots, nullptr);
    operands_.assign(slots, 0);
    mask_ = slots - 1;
}

rma_channel::~rma_channel() {
    // Requests still in flight are handed back to UCX, which frees them when
    // they complete (or when the worker is destroyed).  Callers that need the
    // data to have landed flush first.
    for (; oldest_ != next_; ++oldest_) ucp_request_free(slots_[oldest_ & mask_]);
}

void rma_channel::retire() noexcept {
    while (oldest_ != next_) {
        void* req = slots_[oldest_ & mask_];
        const ucs_status_t st = ucp_request_check_status(req);
        if (st == UCS_INPROGRESS) return;
        ucp_request_free(req);
        ++oldest_;
        if (st != UCS_OK) fail("RMA operation", st);
    }
}

void rma_channel::drain_one() noexcept {
    // Slow path: the window is full.  Progress until the oldest operation
    // completes, the peer fails, or the stall timeout passes.
    ++stalls_;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(stall_timeout_s_);
    for (unsigned spins = 1; next_ - oldest_ == slots_.size() && !failed_; ++spins) {
        // Nothing moved: let the peer run, in case it shares our core (its
        // progress is what completes our operations over tcp and sm).
        if (!worker_.progress()) std::this_thread::yield();
        retire();
        if (ep_.failed()) {
            fail("waiting for a completion", ep_.status());
            return;
        }
        if (spins % 256 == 0 && std::chrono::steady_clock::now() >= deadline) {
            failed_ = true;
            error_ = "RMA to " + ep_.peer_name() + ": no completion within " + seconds(stall_timeout_s_) +
                     " s (" + std::to_string(slots_.size()) + " operations in flight)";
            return;
        }
    }
}

void rma_channel::fail(const char* what, ucs_status_t st) noexcept {
    if (failed_) return;
    failed_ = true;
    try {
        error_ = "RMA to " + ep_.peer_name() + ": " + what + " failed: " + ucs_status_string(st);
    } catch (...) {
        // Out of memory while describing the error: the flag still stops the channel.
    }
}

void rma_channel::flush(double timeout_s) {
    check();
    ucp_request_param_t param;
    param.op_attr_mask = 0;
    void* req = ucp_ep_flush_nbx(ep_.handle(), &param);
    if (UCS_PTR_IS_ERR(req)) throw_ucs("ucp_ep_flush_nbx", UCS_PTR_STATUS(req), "flushing RMA to " + ep_.peer_name());
    if (req != nullptr) {
        try {
            wait_for([&] { return ucp_request_check_status(req) != UCS_INPROGRESS; }, timeout_s, "a flush");
        } catch (...) {
            ucp_request_free(req);
            throw;
        }
        const ucs_status_t st = ucp_request_check_status(req);
        ucp_request_free(req);
        if (st != UCS_OK) throw_ucs("ucp_ep_flush_nbx", st, "flushing RMA to " + ep_.peer_name());
    }
    // Everything issued before the flush is complete: retire it all.
    retire();
    check();
}

void rma_channel::peer_failed(std::string_view what) const {
    throw transport_error("RMA to " + ep_.peer_name() + " failed while waiting for " + std::string(what) +
                          ": " + ucs_status_string(ep_.status()));
}

void rma_channel::timed_out(std::string_view what, double timeout_s) const {
    throw transport_error("timed out after " + seconds(timeout_s) + " s waiting for " + std::string(what) +
                          " from " + ep_.peer_name());
}

}  // namespace buddy::transport
