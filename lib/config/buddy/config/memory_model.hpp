// How much buffer memory buddy takes, from the knobs and the job's shape: the
// figures --buddy-verbose prints and docs/perf.md tabulates for 2 to 100,000
// ranks.  Worst cases (every buffer that can exist at once), not averages:
// a batch is opened only toward a hop that is sent to, so a job that talks
// to few peers uses less.
//
// inproc, per rank: toward each peer on another node one open batch and up
//   to `depth` in flight; from each, up to `depth` arrived and not yet
//   delivered.  From each other rank of its node, one inbound node ring
//   (shared memory; node_ring_capacity below), whose chunks are the batches.
// host, per rank: one outbound and one inbound ring per router thread
//   (shared memory, the router maps the same pages).
// host, per router: its ranks' rings (the pages above), and per thread one
//   open and `depth` in-flight batches toward each peer router, `depth`
//   arrived from each.
#pragma once

#include <cstdint>
#include <string>

#include "buddy/config.hpp"

namespace buddy::memory_model {

/// wire::batch_header's size, the checksum trailer's, ring::chunk_header's,
/// ring::ring_header's and ring::min_capacity (lib/config stays free of lib/wire and lib/ring; a unit
/// test checks they agree).
inline constexpr std::uint64_t batch_header_bytes = 32;
inline constexpr std::uint64_t checksum_trailer_bytes = 8;
inline constexpr std::uint64_t ring_chunk_header_bytes = 8;
inline constexpr std::uint64_t ring_min_capacity = 4096;
inline constexpr std::uint64_t ring_header_bytes = 384;
/// What a rank's inbound node rings may take together before each is halved.
inline constexpr std::uint64_t node_rings_budget = std::uint64_t{32} << 20;

/// Data bytes of each node ring (placement inproc, direct route) on a node
/// of `ranks_here` ranks: room for 4 x (depth + 1) whole batches, halved
/// while a rank's inbound rings (one per other rank of its node) would pass
/// node_rings_budget together, but never below depth + 1 batches; a power
/// of two.  Measured (index_gather, 2 ranks): rings of depth + 1 batches
/// made senders wait for room about 300 times per run and ran at 0.84x of
/// UCX; four times that, no waits and 1.19x.  A rank polls once per batch
/// it sends, so a peer may send several batches between two polls.
std::uint64_t node_ring_capacity(const config& c, std::uint64_t ranks_here);

/// The job's shape.
struct job_shape {
    std::uint64_t ranks = 2;
    std::uint64_t ranks_per_node = 2;
    /// inproc: the ranks of a node reach each other through node rings (the
    /// default, on the direct route); otherwise through batches like any peer.
    bool node_rings = true;
};

struct estimate {
    std::uint64_t batch_bytes = 0;       ///< one batch buffer: header + granularity
    std::uint64_t peers_per_rank = 0;    ///< inproc: ranks of other nodes a rank batches for
    std::uint64_t node_peers = 0;        ///< inproc: other ranks of its node (a node ring from each)
    std::uint64_t node_ring_bytes = 0;   ///< inproc: its inbound node rings together (shared memory)
    std::uint64_t peers_per_router = 0;  ///< host: other routers a router thread batches for
    std::uint64_t rank_bytes = 0;        ///< batches private to each rank (inproc) or its share of rings (host)
    std::uint64_t router_bytes = 0;      ///< per router, its rings excluded (host)
    std::uint64_t ring_bytes_per_router = 0;  ///< host: the rings of the router's ranks
};

/// Worst-case buffer bytes for `c` and `shape`, direct route.
estimate worst_case(const config& c, const job_shape& shape);

/// A size for people: "512 KiB", "1.5 GiB".
std::string human_bytes(std::uint64_t n);

/// One line for --buddy-verbose: "memory: ..." with the figures and formulas.
std::string describe(const config& c, const job_shape& shape);

}  // namespace buddy::memory_model
