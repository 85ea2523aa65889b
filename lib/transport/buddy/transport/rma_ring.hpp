// Rings over RMA (placement dpu): the ring keeps its format (spsc_ring.hpp);
// each side *writes remotely and reads locally*.
//
//   producer                                consumer
//   staging copy of the ring  --put-->      its copy of the ring
//     head  <--------------atomic add-----    (credit)
//                          --put, fence,
//                            atomic add-->    tail
//
// The producer writes records into its own staging copy; rma_publish puts the
// skip marker (if any) and the chunk into the consumer's copy at the same
// offsets, fences, and adds the tail's advance to the consumer's tail.  The
// consumer polls its own memory; rma_release adds its head's advance to the
// producer's head, once a quarter of the ring was consumed and always before
// front() reports an empty ring.  Both indices move by a remote 64-bit atomic
// add, not a put: UCX over tcp (and a kernel copy over cma) may write an 8-byte
// put in pieces, and a poller that saw half a tail would read chunks that are
// not there yet (docs/ring.md, "RMA").
//
// Wiring (the control plane carries the rma_ring_side bytes):
//   side A: memory_region r(w, ring, ring_bytes(cap)); send rma_ring_side::of(r).to_bytes()
//   side B: remote_ring peer(ep, rma_ring_side::from_bytes(received), ring_bytes(cap));
//           rma_producer p(staging, rma_publish(channel, peer, staging));   // or
//           rma_consumer c(ring, rma_release(channel, peer, ring));
// Both copies of a ring start from init_ring (head = tail = 0).  The channel
// and the remote_ring outlive the producer or consumer that uses them.
//
// Progress: over tcp and shared memory, data, tail and credit land when the
// *receiving* worker progresses.  The ring never calls UCX: a side that waits
// (for data, or for space) progresses its worker, e.g. rma_channel::wait_for.
#pragma once

#include <ucp/api/ucp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "buddy/ring/spsc_ring.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/memory_region.hpp"
#include "buddy/transport/remote_key.hpp"
#include "buddy/transport/rma.hpp"

namespace buddy::transport {

/// What one side tells the other about its copy of a ring: where it is in the
/// owner's address space, how large, and the packed remote key.  Serialises to
/// bytes for the control plane (little-endian):
///   "BRS1" | u32 rkey bytes | u64 address | u64 bytes | rkey
struct rma_ring_side {
    std::uint64_t address = 0;
    std::uint64_t bytes = 0;
    std::vector<std::byte> rkey;

    static rma_ring_side of(const memory_region& region);
    std::vector<std::byte> to_bytes() const;
    /// Throws std::invalid_argument naming what is wrong (short, bad magic,
    /// length mismatch, empty key, misaligned address).
    static rma_ring_side from_bytes(std::span<const std::byte> bytes);
};

/// The peer's copy of a ring, reachable over `ep`.
class remote_ring {
public:
    /// Throws transport_error naming the peer if the side does not describe a
    /// block of `expected_bytes` (ring_bytes of the agreed capacity), or if its
    /// key does not unpack.
    remote_ring(endpoint& ep, const rma_ring_side& side, std::size_t expected_bytes);

    std::uint64_t address() const noexcept { return address_; }
    ucp_rkey_h key() const noexcept { return key_.handle(); }

private:
    std::uint64_t address_;
    remote_key key_;
};

/// Publish policy of a producer whose consumer is across RMA (see publish.hpp).
struct rma_publish {
    rma_channel* channel = nullptr;
    std::uint64_t remote = 0;     ///< base of the consumer's copy
    ucp_rkey_h key = nullptr;
    std::uint64_t published = 0;  ///< the consumer's tail once our operations land

    rma_publish() = default;
    /// `staging`: the producer's ring block; its tail must equal the consumer's.
    rma_publish(rma_channel& ch, const remote_ring& consumer_copy, const void* staging) noexcept
        : channel(&ch), remote(consumer_copy.address()), key(consumer_copy.key()),
          // acquire: as the producer's attach reads it.
          published(std::atomic_ref<std::uint64_t>(
                        const_cast<ring::ring_header*>(static_cast<const ring::ring_header*>(staging))->tail)
                        .load(std::memory_order_acquire)) {}

    void operator()(const ring::publication& p) noexcept {
        // The marker and the chunk land at their offsets in the consumer's
        // copy; the fence keeps them ahead of the tail that covers them.
        if (!p.skip.empty()) channel->put(p.skip.data(), p.skip.size(), at(p, p.skip.data()), key);
        channel->put(p.chunk.data(), p.chunk.size(), at(p, p.chunk.data()), key);
        channel->fence();
        channel->add64(p.new_tail - published, at(p, reinterpret_cast<const std::byte*>(p.tail)), key);
        published = p.new_tail;
        // relaxed: only this thread reads the staging tail (a later attach);
        // the consumer reads its own copy.
        std::atomic_ref<std::uint64_t>(*p.tail).store(p.new_tail, std::memory_order_relaxed);
    }

private:
    std::uint64_t at(const ring::publication& p, const std::byte* q) const noexcept {
        return remote + static_cast<std::uint64_t>(q - p.ring);
    }
};

/// Release policy of a consumer whose producer is across RMA (see release.hpp).
///
/// Rule: credit goes back when at least a quarter of the ring was consumed
/// since the last return, and whenever front() finds the ring empty while some
/// is still owed.  No deadlock: a producer that looks full has published
/// chunks the consumer has not returned; the consumer, polling, reads them all
/// and then finds the ring empty, which returns everything it owes; the
/// producer then sees an empty ring, where any chunk up to max_chunk_payload
/// fits.  What it costs: at most four credit operations per ring's worth of
/// data, plus one each time the consumer catches up.
struct rma_release {
    rma_channel* channel = nullptr;
    std::uint64_t remote = 0;    ///< base of the producer's staging copy
    ucp_rkey_h key = nullptr;
    std::uint64_t returned = 0;  ///< the producer's head once our operations land
    std::uint64_t batch = 0;     ///< bytes consumed before credit goes back unasked

    rma_release() = default;
    /// `ring`: the consumer's ring block; its head must equal the producer's.
    rma_release(rma_channel& ch, const remote_ring& producer_copy, const void* ring) noexcept
        : channel(&ch), remote(producer_copy.address()), key(producer_copy.key()),
          // acquire: as the consumer's attach reads it.
          returned(std::atomic_ref<std::uint64_t>(
                       const_cast<ring::ring_header*>(static_cast<const ring::ring_header*>(ring))->head)
                       .load(std::memory_order_acquire)),
          batch(static_cast<const ring::ring_header*>(ring)->capacity / 4) {}

    void operator()(const ring::credit& c) noexcept {
        // relaxed: our own copy's head, read only by a later attach here.
        std::atomic_ref<std::uint64_t>(*c.head).store(c.new_head, std::memory_order_relaxed);
        if (c.new_head - returned >= batch) [[unlikely]]
            give(c);
    }

    void idle(const ring::credit& c) noexcept {
        if (c.new_head != returned) [[unlikely]]
            give(c);
    }

private:
    void give(const ring::credit& c) noexcept {
        // release: our reads of the chunks below new_head are done before the
        // operation that lets the producer overwrite them is issued (the
        // transport's own stores, or a doorbell, come after this fence).
        std::atomic_thread_fence(std::memory_order_release);
        channel->add64(c.new_head - returned,
                       remote + static_cast<std::uint64_t>(reinterpret_cast<std::byte*>(c.head) - c.ring), key);
        returned = c.new_head;
    }
};

using rma_producer = ring::basic_producer<rma_publish>;
using rma_consumer = ring::basic_consumer<rma_release>;

}  // namespace buddy::transport
