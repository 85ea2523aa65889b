// Batch buffers: 64-byte aligned, each with a small descriptor in front that
// carries what the transport needs to report completion, so that sending a
// batch allocates nothing.  Buffers of the standard size are recycled through a
// free list; a buffer for one oversized record is allocated for it alone and
// freed when done (rare by construction: the maximum message size is a knob).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "buddy/transport/active_message.hpp"

namespace buddy::engine {

struct batch_buffer {
    transport::send_ticket ticket;  ///< completion callback while in flight
    std::size_t capacity = 0;       ///< bytes available at data()
    std::uint32_t hop = 0;          ///< next hop it was sent to
    std::uint32_t records = 0;      ///< records it carries
    std::size_t bytes = 0;          ///< bytes used, batch header included
    void* owner = nullptr;          ///< whoever sent it, for the completion callback
    bool credited = false;          ///< its in-flight credit was already returned

    std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this) + descriptor_bytes; }
    static constexpr std::size_t descriptor_bytes = 64;
};
static_assert(sizeof(batch_buffer) <= batch_buffer::descriptor_bytes);

class batch_pool {
public:
    /// `standard_bytes`: capacity of ordinary buffers (batch header + granularity).
    explicit batch_pool(std::size_t standard_bytes);
    ~batch_pool();
    batch_pool(const batch_pool&) = delete;
    batch_pool& operator=(const batch_pool&) = delete;

    /// A buffer of at least `bytes` capacity.
    batch_buffer* acquire(std::size_t bytes);
    void release(batch_buffer* b) noexcept;

    std::size_t standard_bytes() const noexcept { return standard_; }
    /// Buffers allocated and not yet returned (for leak checks in tests).
    std::size_t outstanding() const noexcept { return outstanding_; }

    /// Adapters for transport::buffer_source (receive side).
    transport::buffer_source as_source() noexcept;

private:
    static batch_buffer* allocate(std::size_t capacity);
    std::size_t standard_;
    std::vector<batch_buffer*> free_;
    std::size_t outstanding_ = 0;
};

}  // namespace buddy::engine
