#include "buddy/config/memory_model.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>

#include "buddy/config/knobs.hpp"

namespace buddy::memory_model {

std::string human_bytes(std::uint64_t n) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        ++u;
    }
    char b[32];
    std::snprintf(b, sizeof b, u == 0 || v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return b;
}

std::uint64_t node_ring_capacity(const config& c, std::uint64_t ranks_here) {
    const std::uint64_t batch = (batch_header_bytes + c.granularity + (c.checksum ? checksum_trailer_bytes : 0) +
                                 ring_chunk_header_bytes + 7) & ~std::uint64_t{7};
    const std::uint64_t least = std::max(ring_min_capacity, std::bit_ceil((std::uint64_t{c.depth} + 1) * batch));
    const std::uint64_t peers = ranks_here > 1 ? ranks_here - 1 : 1;
    std::uint64_t capacity = 4 * least;
    while (capacity > least && peers * capacity > node_rings_budget) capacity /= 2;
    return capacity;
}

estimate worst_case(const config& c, const job_shape& shape) {
    estimate e;
    const std::uint64_t ranks = std::max<std::uint64_t>(shape.ranks, 1);
    const std::uint64_t per_node = std::clamp<std::uint64_t>(shape.ranks_per_node, 1, ranks);
    e.batch_bytes = batch_header_bytes + c.granularity;
    // Toward each peer: one open + depth in flight; from each peer: depth arrived.
    const std::uint64_t buffers_per_peer = 2ull * c.depth + 1;
    switch (c.where) {
        case placement::inproc:
            if (shape.node_rings) {
                e.node_peers = per_node - 1;
                e.peers_per_rank = ranks - per_node;
            } else {
                e.peers_per_rank = ranks - 1;
            }
            e.rank_bytes = e.peers_per_rank * buffers_per_peer * e.batch_bytes;
            if (e.node_peers != 0) e.node_ring_bytes = e.node_peers * (ring_header_bytes + node_ring_capacity(c, per_node));
            break;
        case placement::host:
        case placement::dpu: {
            const std::uint64_t nodes = (ranks + per_node - 1) / per_node;
            const std::uint64_t routers = nodes * c.routers_per_node;
            const std::uint64_t ranks_per_router = (per_node + c.routers_per_node - 1) / c.routers_per_node;
            e.peers_per_router = routers - 1;
            e.rank_bytes = 2ull * c.ring_bytes * c.router_threads;
            e.ring_bytes_per_router = ranks_per_router * e.rank_bytes;
            e.router_bytes = c.router_threads * e.peers_per_router * buffers_per_peer * e.batch_bytes;
            break;
        }
    }
    return e;
}

std::string describe(const config& c, const job_shape& shape) {
    const estimate e = worst_case(c, shape);
    const std::string g = knobs::format_bytes(c.granularity), d = std::to_string(c.depth);
    if (c.where == placement::inproc) {
        std::string line = "memory: at most " + human_bytes(e.rank_bytes) + " of batches per rank (" +
                           std::to_string(e.peers_per_rank) + (shape.node_rings ? " peers on other nodes" : " peers") +
                           " x (2 x depth " + d +
                           " + 1) x (granularity " + g + " + 32 B header))";
        if (e.node_peers != 0)
            line += " and " + human_bytes(e.node_ring_bytes) + " of inbound node rings (" +
                    std::to_string(e.node_peers) + " ranks of its node x " +
                    human_bytes(node_ring_capacity(c, e.node_peers + 1)) + ")";
        return line;
    }
    return "memory: " + human_bytes(e.rank_bytes) + " of rings per rank (2 x ring-bytes " +
           knobs::format_bytes(c.ring_bytes) + " x " + std::to_string(c.router_threads) +
           " router threads); per router " + human_bytes(e.ring_bytes_per_router) +
           " of its ranks' rings and at most " + human_bytes(e.router_bytes) + " of batches (" +
           std::to_string(c.router_threads) + " threads x " + std::to_string(e.peers_per_router) +
           " peer routers x (2 x depth " + d + " + 1) x (granularity " + g + " + 32 B header))";
}

}  // namespace buddy::memory_model
