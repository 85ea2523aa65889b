// R-MAT (Kronecker) edge generator and the vertex -> rank map of the triangles app.
//
// Edge i of the graph is a pure function of (seed, scale, i): its random bits
// come from splitmix64 keyed by the seed and advanced from the edge index, so any
// rank can generate any edge and the graph never depends on the number of ranks.
#pragma once

#include <cstdint>

#include "common/app.hpp"

namespace triangles {

using vertex = std::uint32_t;

/// Quadrant probabilities as cumulative 32-bit thresholds: a, a+b, a+b+c.
struct rmat_params {
    int scale = 16;
    std::uint64_t seed = 1;
    std::uint64_t t_a = 0, t_ab = 0, t_abc = 0;

    rmat_params(int s, std::uint64_t sd, double a, double b, double c) : scale(s), seed(sd) {
        const double two32 = 4294967296.0;
        t_a = static_cast<std::uint64_t>(a * two32);
        t_ab = static_cast<std::uint64_t>((a + b) * two32);
        t_abc = static_cast<std::uint64_t>((a + b + c) * two32);
    }
};

/// Endpoints (source, target) of edge `index`.  One 64-bit draw serves two levels
/// of the recursion (32 bits each); each level picks a quadrant: a = (0,0),
/// b = (0,1), c = (1,0), d = (1,1).
inline void rmat_edge(const rmat_params& p, std::uint64_t index, vertex& s, vertex& t) noexcept {
    std::uint64_t state = apps::splitmix64(apps::splitmix64(p.seed) + index * 0x2545F4914F6CDD1Dull);
    std::uint32_t src = 0, dst = 0;
    std::uint64_t draw = 0;
    for (int level = 0; level < p.scale; ++level) {
        std::uint64_t r;
        if ((level & 1) == 0) {
            state = apps::splitmix64(state);
            draw = state;
            r = draw & 0xFFFFFFFFull;
        } else {
            r = draw >> 32;
        }
        const std::uint32_t sb = r >= p.t_ab ? 1u : 0u;
        const std::uint32_t tb = ((r >= p.t_a && r < p.t_ab) || r >= p.t_abc) ? 1u : 0u;
        src = (src << 1) | sb;
        dst = (dst << 1) | tb;
    }
    s = src;
    t = dst;
}

/// Vertex v lives in "group" v / P, and each group's P consecutive vertices are
/// dealt out to the P ranks rotated by a hash of the group number.  So every
/// rank owns exactly one vertex per group (local row index = v / P, like a
/// plain cyclic map), but the R-MAT bias of the low bits (even ids have far
/// higher degree than odd ones) does not pile onto the same ranks.
struct owner_map {
    std::uint32_t ranks = 1;

    std::uint32_t rotation(std::uint32_t group) const noexcept {
        return static_cast<std::uint32_t>(apps::splitmix64(group ^ 0x7F4A7C15u) % ranks);
    }
    int owner(vertex v) const noexcept {
        const std::uint32_t group = v / ranks;
        return static_cast<int>((v - group * ranks + rotation(group)) % ranks);
    }
    std::uint32_t local_row(vertex v) const noexcept { return v / ranks; }
};

}  // namespace triangles
