// Placement dpu: one rank's two rings on one router thread, over UCX RMA.
//
// The rank cannot map the router's memory (the router is on a DPU), so each
// ring has two copies, one per side (lib/transport/rma_ring.hpp):
//   * outbound: the rank writes into its staging copy and puts chunks into
//     the router's copy (here); the router consumes locally and returns
//     credit into the rank's staging head;
//   * inbound: the router writes into its staging copy (here) and puts
//     chunks into the rank's ring; the rank consumes locally and returns
//     credit into the head here.
// Built in two steps, both on the router thread that owns `w` (UCX runs in
// single-thread mode): the constructor allocates and registers this side's
// copies (their sides go into the hello reply), connect() reaches the rank's
// worker with the sides its `attached` carried.  The forwarder's consumer and
// producer for the rank are made from outbound()/inbound() with release() and
// publish() and must be gone before this object.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "buddy/control/bodies.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/memory_region.hpp"
#include "buddy/transport/message_writes.hpp"
#include "buddy/transport/rma.hpp"
#include "buddy/transport/rma_ring.hpp"
#include "buddy/transport/worker.hpp"

namespace buddy::router {

class rma_rank_rings {
public:
    /// Two rings of `capacity` bytes each, initialised and registered on `w`
    /// (worker_features::am_and_rma) and exposed to writes carried as
    /// messages on `writes` (w's target).  Throws (std::system_error,
    /// transport_error) when memory or registration fails.
    rma_rank_rings(transport::worker& w, transport::write_target& writes, std::size_t capacity);
    ~rma_rank_rings();
    rma_rank_rings(const rma_rank_rings&) = delete;
    rma_rank_rings& operator=(const rma_rank_rings&) = delete;

    /// This side, for the hello reply: the worker's address and the two sides.
    control::rma_thread_rings offer() const;
    /// Reaches the rank (its `attached` entry for this thread).  `depth`:
    /// RMA operations in flight; `stall_timeout_s` bounds a wait for a slot.
    /// Throws transport_error or std::invalid_argument naming what is wrong.
    void connect(const control::rma_thread_rings& rank, const std::string& rank_name, std::size_t depth,
                 double stall_timeout_s);
    bool connected() const noexcept { return channel_ != nullptr; }
    /// How this side's writes reach the rank (chosen at connect()).
    transport::carrier how() const noexcept { return channel_->how(); }
    const transport::rma_channel& channel() const noexcept { return *channel_; }

    void* outbound() const noexcept { return out_; }  ///< the router's copy of the outbound ring
    void* inbound() const noexcept { return in_; }    ///< the router's staging copy of the inbound ring
    /// Credit for the outbound ring goes into the rank's staging head.
    transport::rma_release release() const noexcept { return transport::rma_release(*channel_, *rank_out_, out_); }
    /// Inbound chunks go into the rank's ring.
    transport::rma_publish publish() const noexcept { return transport::rma_publish(*channel_, *rank_in_, in_); }

    /// Retires completed operations (the thread progresses the worker itself).
    bool progress() noexcept { return channel_ && channel_->progress(); }
    /// The channel or the endpoint failed (the rank is unreachable, or an
    /// operation failed): what it carries from now on is lost.  Two loads.
    bool failed() const noexcept { return channel_ && (channel_->failed() || ep_.failed()); }
    /// Why, naming the rank; once (later calls: empty), so the job is failed once.
    std::string take_failure();

private:
    transport::worker& w_;
    transport::write_target& writes_;
    std::size_t ring_bytes_;
    void* memory_ = nullptr;  ///< both copies, one mapping
    void* out_ = nullptr;
    void* in_ = nullptr;
    transport::memory_region out_region_, in_region_;
    transport::endpoint ep_;
    std::unique_ptr<transport::rma_channel> channel_;
    std::optional<transport::remote_ring> rank_out_, rank_in_;
    bool failure_taken_ = false;
};

}  // namespace buddy::router
