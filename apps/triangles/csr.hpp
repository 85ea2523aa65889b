// The local part of the lower triangle L (rows of the vertices this rank owns,
// each row sorted ascending and free of duplicates) and sorted-list intersection.
#pragma once

#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "triangles/rmat.hpp"

namespace triangles {

/// Compressed rows: row q holds the neighbours u < v of the vertex v with local row q.
struct csr {
    std::vector<std::uint64_t> offsets;  ///< rows + 1 entries
    std::vector<vertex> columns;

    std::size_t rows() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
    std::span<const vertex> row(std::size_t q) const noexcept {
        return {columns.data() + offsets[q], columns.data() + offsets[q + 1]};
    }
};

/// An edge (v, u) with u < v packed as v << 32 | u, so sorting keys sorts by row, then column.
inline std::uint64_t pack(vertex v, vertex u) noexcept { return (std::uint64_t{v} << 32) | u; }
inline vertex key_row(std::uint64_t k) noexcept { return static_cast<vertex>(k >> 32); }
inline vertex key_col(std::uint64_t k) noexcept { return static_cast<vertex>(k); }

/// Sorts, deduplicates and compresses the received keys (all rows owned here) into `rows` rows.
inline csr build_csr(std::vector<std::uint64_t>& keys, const owner_map& map, std::size_t rows) {
    tbb::parallel_sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    csr g;
    g.offsets.assign(rows + 1, 0);
    g.columns.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        ++g.offsets[map.local_row(key_row(keys[i])) + 1];
        g.columns[i] = key_col(keys[i]);
    }
    for (std::size_t q = 0; q < rows; ++q) g.offsets[q + 1] += g.offsets[q];
    return g;
}

/// |a ∩ b| for two ascending, duplicate-free lists.  A linear merge when the
/// lengths are close; a shrinking binary search of the longer list for each
/// element of the shorter one when they are far apart.
inline std::uint64_t count_common(const vertex* a, std::size_t na, const vertex* b, std::size_t nb) noexcept {
    if (na > nb) {
        std::swap(a, b);
        std::swap(na, nb);
    }
    if (na == 0) return 0;
    std::uint64_t hits = 0;
    if (na * 16 < nb) {
        const vertex* lo = b;
        const vertex* const end = b + nb;
        for (std::size_t i = 0; i < na && lo != end; ++i) {
            lo = std::lower_bound(lo, end, a[i]);
            if (lo != end && *lo == a[i]) {
                ++hits;
                ++lo;
            }
        }
        return hits;
    }
    std::size_t i = 0, j = 0;
    while (i < na && j < nb) {
        const vertex x = a[i], y = b[j];
        hits += x == y;
        i += x <= y;
        j += y <= x;
    }
    return hits;
}

/// One row at a time, marked in a bitmap over all vertex ids: "is w in the
/// row?" is then one bit test, with no branch to mispredict.  Marking and
/// clearing cost the row's length; the bitmap costs 2^scale / 8 bytes.
/// (A per-row open-addressing hash set was tried first: 8x slower on the
/// probes, which mostly miss and mispredict -- see docs/apps/triangles.md.)
class row_marks {
public:
    explicit row_marks(std::size_t vertices = 0) : bits_((vertices + 63) / 64, 0) {}
    void mark(const vertex* row, std::size_t len) noexcept {
        for (std::size_t i = 0; i < len; ++i) bits_[row[i] >> 6] |= std::uint64_t{1} << (row[i] & 63);
    }
    void clear(const vertex* row, std::size_t len) noexcept {
        for (std::size_t i = 0; i < len; ++i) bits_[row[i] >> 6] = 0;
    }
    std::uint64_t has(vertex x) const noexcept { return (bits_[x >> 6] >> (x & 63)) & 1; }

private:
    std::vector<std::uint64_t> bits_;
};

/// Answers, for every entry u = row[j] (j >= 1) that `mine(u)` accepts, the
/// questions "is row[k] in L[u]?" for all k < j, and counts the yeses.  A short
/// L[u] is probed against the row marked in a bitmap; an L[u] much longer than
/// the candidate list is searched for the candidates instead.  Returns (hits, wedges).
template <typename Mine, typename RowOf>
std::pair<std::uint64_t, std::uint64_t> answer_row(const vertex* row, std::size_t len, Mine mine, RowOf row_of,
                                                   row_marks& marks) {
    std::uint64_t hits = 0, wedges = 0;
    bool built = false;
    for (std::size_t j = 1; j < len; ++j) {
        if (!mine(row[j])) continue;
        const std::span<const vertex> other = row_of(row[j]);
        wedges += j;
        if (other.size() > 16 * j) {
            hits += count_common(row, j, other.data(), other.size());
            continue;
        }
        if (!built) {
            marks.mark(row, len);
            built = true;
        }
        // Every element of L[u] is below u = row[j], so a member of the row is one of row[0, j).
        for (vertex x : other) hits += marks.has(x);
    }
    if (built) marks.clear(row, len);
    return {hits, wedges};
}

}  // namespace triangles
