// Publish policies: how a ring producer makes a written chunk visible to the
// consumer.  The producer is a template over its policy (like a DPDK rte_ring
// sync mode, fixed per ring at compile time), so the hot path has no branch on
// the placement and the policy call is inlined.
//
// A policy is callable as `void(const publication&) noexcept` and runs once per
// chunk, after the producer wrote the skip marker (if any), the chunk header
// and the payload into the ring memory it holds.  The publication names those
// bytes and the new tail, which is all a policy needs:
//   * shared_memory_publish (host placement): both sides map the same memory,
//     so one release store of the tail publishes everything written before it.
//   * rma_publish (lib/transport/buddy/transport/rma_ring.hpp, placement
//     dpu): the producer's copy is local staging memory; it puts the skip
//     marker and the chunk into the consumer's ring (UCX put, at the same
//     offsets from `ring`), fences, then advances the consumer's tail by a
//     remote atomic add.
// The consumer's side of the same choice is release.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace buddy::ring {

/// One chunk a producer is publishing.  Offsets of the spans from `ring` are
/// the offsets in the consumer's copy of the ring block.
struct publication {
    std::byte* ring;                       ///< start of the ring block the producer writes
    std::span<const std::byte> skip;       ///< skip marker before the chunk (empty: none)
    std::span<const std::byte> chunk;      ///< chunk header + payload (padded to 8 bytes)
    std::uint64_t* tail;                   ///< the block's shared tail index
    std::uint64_t new_tail;                ///< value to publish: bytes published so far
};

/// Host placement: producer and consumer share the ring's memory.
struct shared_memory_publish {
    void operator()(const publication& p) const noexcept {
        // release: the skip marker, chunk header and payload written before
        // this store become visible to the consumer no later than the new tail
        // it reads with acquire (consumer::front).  The producer is the only
        // writer of tail, so nothing needs to be read first.
        std::atomic_ref<std::uint64_t>(*p.tail).store(p.new_tail, std::memory_order_release);
    }
};

}  // namespace buddy::ring
