// Release policies: how a ring consumer returns credit (its head index) to the
// producer.  The mirror image of publish.hpp: the consumer is a template over
// its policy, fixed per ring at compile time, so the hot path has no branch on
// the placement and the policy's calls are inlined.
//
// A policy has two members, both `noexcept`:
//   * `operator()(const credit&)` runs from pop(), once per released chunk,
//     after the consumer finished reading it (and any skip marker before it).
//   * `idle(const credit&)` runs from front() when the ring looks empty after
//     re-reading the tail, i.e. just before the consumer reports "nothing".
// Two policies:
//   * shared_memory_release (host placement): both sides map the same memory,
//     so every pop is one release store of head, and idle() does nothing.  The
//     empty idle() compiles away: the host consumer's code is the same as
//     before policies existed.
//   * rma_release (lib/transport, dpu placement): head lives in the producer's
//     memory on another machine; credit goes back by a remote atomic, batched
//     (once a quarter of the ring was consumed) and always before the consumer
//     reports an empty ring, so a producer waiting for space is never starved
//     (docs/ring.md, "RMA").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace buddy::ring {

/// The consumer's index after a pop (or at an idle moment).  `head` is the
/// field in the ring block the consumer holds; its offset from `ring` is the
/// offset of the producer's head field in the producer's copy.
struct credit {
    std::byte* ring;         ///< start of the ring block the consumer reads
    std::uint64_t* head;     ///< the block's head field
    std::uint64_t new_head;  ///< bytes consumed so far (skip markers included)
};

/// Host placement: producer and consumer share the ring's memory.
struct shared_memory_release {
    void operator()(const credit& c) const noexcept {
        // release: our reads of the chunk (and of any skipped marker) happen
        // before the producer, which reads head with acquire, may overwrite
        // that space.  We are the only writer of head.
        std::atomic_ref<std::uint64_t>(*c.head).store(c.new_head, std::memory_order_release);
    }
    /// Every pop already published head: nothing is owed when the ring is empty.
    void idle(const credit&) const noexcept {}
};

}  // namespace buddy::ring
