// Placement inproc: the rings between the ranks of one node.
//
// For every ordered pair of ranks on a node, one single-producer
// single-consumer ring (lib/ring) in shared memory.  Each chunk is a whole
// batch (batch header, records, checksum trailer when on), written in place by
// the sending rank's async() and delivered by the receiver with the code that
// delivers a batch from UCX.  What it saves against UCX's shared-memory
// transport: the sender's copy of every batch into UCX's FIFO, the
// fragmenting of a 32 KiB batch into 8 KiB segments and their reassembly, and
// the active-message protocol around them; what stays is the receiver's copy
// of a chunk out of the ring before its handlers run (ring_backend.hpp says
// why a rank must not run handlers on a chunk it still holds).
//
// Each rank makes one segment with its inbound rings, one per other rank of
// the node, maps every other rank's segment to reach its outbound ring there,
// and unlinks its own name once all are mapped.  The segment's pages are
// reserved when it is made (posix_fallocate): a /dev/shm too small for them
// is a clean refusal at start, not a SIGBUS when a ring first reaches an
// unbacked page.  Collective over the job (the same calls on every rank,
// a rank alone on its node included):
// where any rank cannot (no shared /dev/shm between ranks that MPI calls one
// node, say), no rank uses rings and every batch goes over UCX as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "buddy/ring/shm_segment.hpp"
#include "buddy/ring/spsc_ring.hpp"

namespace buddy::detail {

class runtime;

class node_rings {
public:
    /// Collective: sets the rings up, or leaves active() false on every rank.
    /// Each ring's size: memory_model::node_ring_capacity for this node.
    explicit node_rings(runtime& rt);
    node_rings(const node_rings&) = delete;
    node_rings& operator=(const node_rings&) = delete;

    /// This rank has rings to the other ranks of its node.
    bool active() const noexcept { return active_; }
    /// The job uses node rings (on every node with two ranks or more), even
    /// where this rank is alone on its node and has none.
    bool in_force() const noexcept { return in_force_; }
    /// Index into outbound()/inbound() of world rank `r`, or -1 (another node, or this rank).
    int index_of(std::uint32_t r) const noexcept { return r < index_of_.size() ? index_of_[r] : -1; }
    /// World rank of ring index i, and its process id (to tell a dead rank from a slow one).
    std::uint32_t rank_of(std::size_t i) const noexcept { return peers_[i]; }
    int pid_of(std::size_t i) const noexcept { return pids_[i]; }
    std::size_t peers() const noexcept { return peers_.size(); }
    ring::producer& outbound(std::size_t i) noexcept { return out_[i]; }
    ring::consumer& inbound(std::size_t i) noexcept { return in_[i]; }
    std::size_t capacity() const noexcept { return capacity_; }
    /// Bytes of shared memory this rank made (its inbound rings).
    std::size_t inbound_bytes() const noexcept { return mine_.size(); }
    /// Why there are no rings, when active() is false ("" when it is true).
    const std::string& why_not() const noexcept { return why_not_; }

private:
    bool active_ = false;
    bool in_force_ = false;
    std::size_t capacity_ = 0;
    std::string why_not_;
    std::vector<int> index_of_;           ///< world rank -> ring index, -1: none
    std::vector<std::uint32_t> peers_;    ///< ring index -> world rank
    std::vector<int> pids_;               ///< ring index -> its process id
    ring::shm_segment mine_;              ///< this rank's inbound rings, one per peer
    std::vector<ring::shm_segment> theirs_;  ///< per peer: its segment (our outbound ring is in it)
    std::vector<ring::producer> out_;
    std::vector<ring::consumer> in_;
};

}  // namespace buddy::detail
