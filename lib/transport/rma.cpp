#include "buddy/transport/rma.hpp"

#include <algorithm>
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

const char* to_string(carrier c) noexcept { return c == carrier::rma ? "rma" : "messages"; }

carrier carrier_for(const endpoint& ep) { return carrier_for_lanes(ep.describe()); }

carrier carrier_for_lanes(std::string_view text) {
    // Lines of ucp_ep_print_info look like
    //   "lane[0]:  0:rc_mlx5/mlx5_0:1.0 md[0] -> md[0]/ib/sysdev[255] rma#0 rma_bw#0 amo#0 am am_bw#0"
    // The transport is between "N:" and the first '/' after it.
    bool rma = false, amo = false;
    std::size_t at = 0;
    while ((at = text.find("lane[", at)) != std::string_view::npos) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        const std::string_view line = text.substr(at, end - at);
        at = end;
        const std::size_t close = line.find("]:");
        if (close == std::string_view::npos) continue;
        const std::size_t colon = line.find(':', close + 2);
        const std::size_t slash = line.find('/', colon);
        if (colon == std::string_view::npos || slash == std::string_view::npos) continue;
        const std::string_view tl = line.substr(colon + 1, slash - colon - 1);
        const bool rdma = tl.starts_with("rc_") || tl.starts_with("dc_") || tl.starts_with("gga");
        if (!rdma) continue;
        rma |= line.find(" rma#") != std::string_view::npos;
        amo |= line.find(" amo#") != std::string_view::npos;
    }
    return rma && amo ? carrier::rma : carrier::messages;
}

rma_channel::rma_channel(worker& w, endpoint& ep, carrier how, std::size_t depth, double stall_timeout_s)
    : worker_(w), ep_(ep), carrier_(how), stall_timeout_s_(stall_timeout_s) {
    if (depth == 0) throw transport_error("rma_channel to " + ep.peer_name() + ": depth must be at least 1");
    // A power of two, so that a slot is an index & mask.
    const std::size_t slots = std::bit_ceil(depth);
    slots_.assign(slots, nullptr);
    operands_.assign(slots, 0);
    headers_.assign(slots, write_header{});
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
