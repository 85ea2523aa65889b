// The transpose app's local CSR build (apps/transpose/matrix.hpp): a two-pass
// counting sort by row, checked against a plain sort of the same triples.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "transpose/matrix.hpp"

using transpose_app::build_csr;
using transpose_app::bucket_rows_for;
using transpose_app::csr;
using transpose_app::overwrite_vector;
using transpose_app::triple;

namespace {

/// Every triple with a row below `rows`, sorted by (row, col): what the CSR must hold.
std::vector<triple> expected(const std::vector<std::vector<triple>>& lists, std::uint64_t rows) {
    std::vector<triple> all;
    for (const auto& list : lists)
        for (const triple& t : list)
            if (t.row < rows) all.push_back(t);
    std::sort(all.begin(), all.end(),
              [](const triple& a, const triple& b) { return std::tie(a.row, a.col) < std::tie(b.row, b.col); });
    return all;
}

std::vector<triple> flatten(const csr& m) {
    std::vector<triple> all;
    for (std::uint64_t i = 0; i < m.rows; ++i)
        for (std::uint64_t j = m.ptr[i]; j < m.ptr[i + 1]; ++j)
            all.push_back(triple{static_cast<std::uint32_t>(i), m.col[j], m.val[j]});
    return all;
}

bool same(const std::vector<triple>& a, const std::vector<triple>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const triple& x, const triple& y) {
        return x.row == y.row && x.col == y.col && x.val == y.val;
    });
}

/// `lists` lists of distinct (row, col) pairs, `per_row` columns per row on
/// average; `in_order`: list k holds columns [k*span, (k+1)*span) in ascending
/// order (what a source sends), else everything shuffled across the lists.
std::vector<std::vector<triple>> make_lists(std::uint64_t rows, std::uint32_t per_row, std::uint32_t lists,
                                            bool in_order, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const std::uint32_t span = 4 * per_row + 1;
    std::vector<std::vector<triple>> out(lists);
    std::vector<triple> all;
    for (std::uint32_t k = 0; k < lists; ++k)
        for (std::uint32_t c = k * span; c < (k + 1) * span; ++c)
            for (std::uint64_t r = 0; r < rows; ++r)
                if (rng() % (4 * lists) == 0)
                    (in_order ? out[k] : all).push_back(
                        triple{static_cast<std::uint32_t>(r), c, static_cast<double>(rng() % 1000) + 0.5});
    if (!in_order) {
        std::shuffle(all.begin(), all.end(), rng);
        for (std::size_t i = 0; i < all.size(); ++i) out[i % lists].push_back(all[i]);
    }
    return out;
}

}  // namespace

TEST_CASE("bucket size keeps a bucket's part of the result near 32768 nonzeros, within [64, 65536] rows") {
    CHECK(bucket_rows_for(16 << 20, 1 << 20) == 2048);
    CHECK(bucket_rows_for(0, 1000) == 32768);
    CHECK(bucket_rows_for(1 << 20, 1) == 64);
    CHECK(bucket_rows_for(10, 0) == 32768);
    CHECK(bucket_rows_for(1000, 1 << 30) == 32768);
    for (std::uint64_t per_row : {1ull, 3ull, 17ull, 1000ull, 100000ull})
        CHECK(std::has_single_bit(bucket_rows_for(per_row * 4096, 4096)));
}

TEST_CASE("build_csr equals a sort of the triples, in one bucket and in many, in order or shuffled") {
    struct shape {
        std::uint64_t rows;
        std::uint32_t per_row;
        std::uint32_t lists;
    };
    // 2000 rows x ~600 per row: 64-row buckets (32 of them, the last one short);
    // 300 rows x ~2: one bucket; 1 row; 0 rows.
    for (const shape s : {shape{2000, 600, 3}, shape{300, 2, 2}, shape{1, 50, 2}, shape{0, 4, 2}}) {
        for (const bool in_order : {true, false}) {
            CAPTURE(s.rows);
            CAPTURE(in_order);
            const auto lists = make_lists(s.rows, s.per_row, s.lists, in_order, s.rows * 2 + in_order);
            csr m;
            overwrite_vector<triple> scratch;
            std::vector<std::uint64_t> fill;
            REQUIRE(build_csr(lists, 1 << 20, 7, s.rows, m, scratch, fill));
            CHECK(m.rows == s.rows);
            CHECK(m.first_row == 7);
            REQUIRE(m.ptr.size() == s.rows + 1);
            CHECK(m.ptr[s.rows] == m.col.size());
            CHECK(m.col.size() == m.val.size());
            CHECK(same(flatten(m), expected(lists, s.rows)));
            // The same buffers again (the app builds twice with one workspace).
            csr again;
            REQUIRE(build_csr(lists, 1 << 20, 7, s.rows, again, scratch, fill));
            CHECK(again.same_as(m));
        }
    }
}

TEST_CASE("build_csr drops triples whose row is out of range and says so") {
    auto lists = make_lists(2000, 600, 2, true, 5);
    lists[0].insert(lists[0].begin() + 10, triple{2000, 3, 1.0});
    lists[1].push_back(triple{0xFFFFFFFFu, 4, 2.0});
    csr m;
    overwrite_vector<triple> scratch;
    std::vector<std::uint64_t> fill;
    CHECK_FALSE(build_csr(lists, 1 << 20, 0, 2000, m, scratch, fill));
    CHECK(same(flatten(m), expected(lists, 2000)));
}
