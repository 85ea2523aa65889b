// Batches travel as UCX active messages: one message per batch, no AM header,
// the batch bytes as data.  Sending keeps the caller's buffer until UCX reports
// completion; receiving either holds UCX's own buffer (eager data, no copy) or
// pulls rendezvous data into a buffer the engine provides, and queues the batch
// until the owner of the worker has time to deliver it.  Nothing is delivered
// from inside a UCX callback: handlers may send, and UCX forbids progressing a
// worker from its own callback.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/worker.hpp"

namespace buddy::transport {

inline constexpr unsigned batch_am_id = 0x42;

/// Called once UCX no longer needs a sent buffer (status UCS_OK, or the failure).
using send_done_fn = void (*)(void* token, ucs_status_t status);

/// What to call when a pending send completes.  The caller keeps it alive until
/// then (the engine embeds one in each batch buffer), so a send allocates nothing.
struct send_ticket {
    send_done_fn done = nullptr;
    void* token = nullptr;
};

enum class send_state { completed, pending };

/// Sends `bytes` at `data` to `ep`.  completed: the buffer is free now and the
/// ticket is not used.  pending: `ticket->done(ticket->token, status)` runs from
/// a later progress() call.  Throws transport_error if UCX refuses the send.
send_state send_batch(endpoint& ep, const void* data, std::size_t bytes, send_ticket* ticket);

/// Where received rendezvous data and misaligned eager data go.
struct buffer_source {
    void* context = nullptr;
    std::byte* (*acquire)(void* context, std::size_t bytes) = nullptr;
    void (*release)(void* context, std::byte* buffer) = nullptr;
};

/// One received batch, ready to deliver.  Release it with batch_receiver::release().
struct received_batch {
    std::byte* data = nullptr;
    std::size_t bytes = 0;
    void* ucx_descriptor = nullptr;  ///< held UCX buffer, or null
    std::byte* owned = nullptr;      ///< buffer from the buffer_source, or null
};

class batch_receiver {
public:
    batch_receiver(worker& w, buffer_source buffers);
    ~batch_receiver();
    batch_receiver(const batch_receiver&) = delete;
    batch_receiver& operator=(const batch_receiver&) = delete;

    /// Moves the oldest batch that has fully arrived into `out`; false if none.
    /// The caller delivers it and then hands it to release().  Taking it out of
    /// the queue first makes delivery safe against re-entrant polling.
    bool take(received_batch& out) noexcept;
    /// Returns a taken batch's memory to UCX or the buffer source.
    void release(const received_batch& b) noexcept;
    std::size_t ready() const noexcept { return ready_.size(); }
    /// Rendezvous transfers started but not yet complete.
    std::size_t arriving() const noexcept { return arriving_; }
    /// A transfer failed (its status), or UCS_OK.
    ucs_status_t failure() const noexcept { return failure_; }

private:
    static ucs_status_t on_message(void* arg, const void* header, std::size_t header_length, void* data,
                                   std::size_t length, const ucp_am_recv_param_t* param);
    static void on_rendezvous_done(void* request, ucs_status_t status, std::size_t length, void* user_data);

    struct arriving_batch {
        batch_receiver* self;
        std::byte* buffer;
        std::size_t bytes;
    };

    worker& worker_;
    buffer_source buffers_;
    std::deque<received_batch> ready_;
    std::size_t arriving_ = 0;
    ucs_status_t failure_ = UCS_OK;
};

}  // namespace buddy::transport
