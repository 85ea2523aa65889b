// Two references the distributed count is checked against, both computed by
// code that shares nothing with the query path but the generator:
//  * serial_count: rank 0 generates the whole graph, builds the full symmetric
//    adjacency and counts with a mark array (small graphs only);
//  * ghost_recount: every rank fetches, with plain MPI, a copy of each row
//    L[u] its own rows refer to, and recounts |L[v] ∩ L[u]| for its edges by
//    marking L[v] in a stamp array and probing it with L[u] (any size).
#pragma once

#include <mpi.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "triangles/csr.hpp"
#include "triangles/exchange.hpp"
#include "triangles/rmat.hpp"

namespace triangles {

struct graph_figures {
    std::uint64_t triangles = 0;
    std::uint64_t edges = 0;    ///< undirected, without self loops and duplicates
    std::uint64_t wedges = 0;   ///< sum over v of C(|L[v]|, 2): what the query path tests
};

inline graph_figures serial_count(const rmat_params& p, std::uint64_t edge_count) {
    const std::uint64_t n = std::uint64_t{1} << p.scale;
    std::vector<std::uint64_t> keys;
    keys.reserve(edge_count);
    for (std::uint64_t i = 0; i < edge_count; ++i) {
        vertex s, t;
        rmat_edge(p, i, s, t);
        if (s != t) keys.push_back(s > t ? pack(s, t) : pack(t, s));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

    // Full symmetric adjacency.
    std::vector<std::uint64_t> off(n + 1, 0), lower(n, 0);
    for (std::uint64_t k : keys) {
        ++off[key_row(k) + 1];
        ++off[key_col(k) + 1];
        ++lower[key_row(k)];
    }
    for (std::uint64_t v = 0; v < n; ++v) off[v + 1] += off[v];
    std::vector<vertex> adj(off[n]);
    std::vector<std::uint64_t> fill(off.begin(), off.end() - 1);
    for (std::uint64_t k : keys) {
        adj[fill[key_row(k)]++] = key_col(k);
        adj[fill[key_col(k)]++] = key_row(k);
    }
    for (std::uint64_t v = 0; v < n; ++v) std::sort(adj.begin() + off[v], adj.begin() + off[v + 1]);

    graph_figures f;
    f.edges = keys.size();
    for (std::uint64_t v = 0; v < n; ++v) f.wedges += lower[v] ? lower[v] * (lower[v] - 1) / 2 : 0;
    // Triangle v < u < w: mark N(v), walk N(u) above u for each neighbour u > v.
    std::vector<std::uint64_t> mark(n, 0);
    for (std::uint64_t v = 0; v < n; ++v) {
        for (std::uint64_t i = off[v]; i < off[v + 1]; ++i) mark[adj[i]] = v + 1;
        for (std::uint64_t i = off[v]; i < off[v + 1]; ++i) {
            const vertex u = adj[i];
            if (u <= v) continue;
            for (std::uint64_t k = off[u]; k < off[u + 1]; ++k) {
                const vertex w = adj[k];
                if (w > u && mark[w] == v + 1) ++f.triangles;
            }
        }
    }
    return f;
}

/// This rank's share of the recount (sum over ranks = the triangle count).
inline std::uint64_t ghost_recount(const csr& L, const owner_map& map, int rank, MPI_Comm c) {
    const int p = static_cast<int>(map.ranks);
    // Rows this rank refers to but does not own, each once, grouped by owner.
    std::vector<vertex> wanted;
    for (vertex u : L.columns)
        if (map.owner(u) != rank) wanted.push_back(u);
    tbb::parallel_sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::vector<std::vector<std::uint32_t>> ask(p);
    for (vertex u : wanted) ask[map.owner(u)].push_back(u);

    std::vector<int> asked_counts;
    const std::vector<std::uint32_t> asked = alltoallv(ask, c, &asked_counts);
    std::vector<std::vector<std::uint32_t>> answer(p);
    std::size_t at = 0;
    for (int s = 0; s < p; ++s) {
        for (int i = 0; i < asked_counts[s]; ++i, ++at) {
            const auto row = L.row(map.local_row(asked[at]));
            answer[s].push_back(static_cast<std::uint32_t>(row.size()));
            answer[s].insert(answer[s].end(), row.begin(), row.end());
        }
    }
    const std::vector<std::uint32_t> rows_in = alltoallv(answer, c);

    // Ghost rows, indexed like `wanted` once regrouped: (vertex, start, length) sorted by vertex.
    struct ghost {
        vertex u;
        std::uint32_t length;
        std::size_t start;
    };
    std::vector<ghost> ghosts;
    ghosts.reserve(wanted.size());
    at = 0;
    for (int d = 0; d < p; ++d) {
        for (vertex u : ask[d]) {
            const std::uint32_t len = rows_in[at];
            ghosts.push_back({u, len, at + 1});
            at += 1 + len;
        }
    }
    std::sort(ghosts.begin(), ghosts.end(), [](const ghost& a, const ghost& b) { return a.u < b.u; });

    // |L[v] ∩ L[u]| for every edge (v, u) of this rank: mark the members of
    // L[v] in a per-thread stamp array over all vertex ids, then look up every
    // element of L[u] (all of them are < u, so a marked one is a w < u of row v).
    const std::size_t n = static_cast<std::size_t>(map.ranks) * L.rows();
    tbb::enumerable_thread_specific<std::vector<std::uint32_t>> stamps(
        [n] { return std::vector<std::uint32_t>(n, 0); });
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, L.rows(), 256), std::uint64_t{0},
        [&](const tbb::blocked_range<std::size_t>& r, std::uint64_t acc) {
            std::vector<std::uint32_t>& stamp = stamps.local();
            for (std::size_t q = r.begin(); q < r.end(); ++q) {
                const auto row = L.row(q);
                const std::uint32_t mark = static_cast<std::uint32_t>(q + 1);
                for (vertex w : row) stamp[w] = mark;
                for (std::size_t j = 1; j < row.size(); ++j) {
                    const vertex u = row[j];
                    const vertex* other;
                    std::size_t other_len;
                    if (map.owner(u) == rank) {
                        const auto o = L.row(map.local_row(u));
                        other = o.data();
                        other_len = o.size();
                    } else {
                        const auto g = std::lower_bound(ghosts.begin(), ghosts.end(), u,
                                                        [](const ghost& x, vertex y) { return x.u < y; });
                        other = rows_in.data() + g->start;
                        other_len = g->length;
                    }
                    for (std::size_t k = 0; k < other_len; ++k) acc += stamp[other[k]] == mark ? 1 : 0;
                }
            }
            return acc;
        },
        [](std::uint64_t a, std::uint64_t b) { return a + b; });
}

}  // namespace triangles
