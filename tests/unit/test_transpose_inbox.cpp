// The transpose app's inbox (apps/transpose/inbox.hpp): nonzeros stored on
// arrival by bucket of rows and source, and the CSR build from them, checked
// against a plain sort of the same triples.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "transpose/inbox.hpp"

using transpose_app::bucket_rows_for;
using transpose_app::csr;
using transpose_app::inbox;
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

std::uint64_t total(const std::vector<std::vector<triple>>& lists) {
    std::uint64_t n = 0;
    for (const auto& list : lists) n += list.size();
    return n;
}

/// Adds list k as source k's nonzeros, the sources' adds interleaved one by
/// one (as arrivals from several ranks are); returns how many were refused.
std::uint64_t feed(inbox& in, const std::vector<std::vector<triple>>& lists) {
    std::uint64_t refused = 0;
    std::size_t longest = 0;
    for (const auto& list : lists) longest = std::max(longest, list.size());
    for (std::size_t i = 0; i < longest; ++i)
        for (std::size_t k = 0; k < lists.size(); ++k)
            if (i < lists[k].size()) {
                const triple& t = lists[k][i];
                if (!in.add(static_cast<std::uint32_t>(k), t.row, t.col, t.val)) ++refused;
            }
    return refused;
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

TEST_CASE("the inbox builds what a sort of the triples gives, in one bucket and in many, in order or shuffled") {
    struct shape {
        std::uint64_t rows;
        std::uint32_t per_row;
        std::uint32_t sources;
    };
    // 500 rows x ~600 per row: 64-row buckets (8 of them, the last one short);
    // 300 rows x ~2: one bucket; 1 row; 0 rows.
    for (const shape s : {shape{500, 600, 3}, shape{300, 2, 2}, shape{1, 50, 2}, shape{0, 4, 2}}) {
        for (const bool in_order : {true, false}) {
            CAPTURE(s.rows);
            CAPTURE(in_order);
            const auto lists = make_lists(s.rows, s.per_row, s.sources, in_order, s.rows * 2 + in_order);
            inbox in;
            in.prepare(s.rows, s.sources, total(lists));
            CHECK(!std::has_single_bit(in.chunk_size()));  // chunk starts not a power of two apart
            if (s.rows == 500) CHECK(in.bucket_rows() == 64);
            REQUIRE(feed(in, lists) == 0);
            CHECK(in.size() == total(lists));
            csr m;
            const std::uint64_t sorted = in.build(1 << 20, 7, m);
            CHECK(m.rows == s.rows);
            CHECK(m.first_row == 7);
            REQUIRE(m.ptr.size() == s.rows + 1);
            CHECK(m.ptr[0] == 0);
            CHECK(m.ptr[s.rows] == m.col.size());
            CHECK(m.col.size() == m.val.size());
            CHECK(same(flatten(m), expected(lists, s.rows)));
            // Each source's entries in column order, placed in source order:
            // no row needs a sort, however the sources' arrivals interleave.
            if (in_order) CHECK(sorted == 0);
            if (!in_order && s.rows == 500) CHECK(sorted > 0);
            // Emptied and filled again (the app transposes twice with one inbox).
            in.clear();
            CHECK(in.size() == 0);
            CHECK(in.any() == nullptr);
            REQUIRE(feed(in, lists) == 0);
            csr again;
            CHECK(in.build(1 << 20, 7, again) == sorted);
            CHECK(again.same_as(m));
            CHECK(in.overflow_blocks() == 0);
        }
    }
}

TEST_CASE("the inbox refuses a row outside its block or an unknown source and stores nothing of it") {
    auto lists = make_lists(500, 600, 2, true, 5);
    inbox in;
    in.prepare(500, 2, total(lists));
    REQUIRE(feed(in, lists) == 0);
    CHECK_FALSE(in.add(0, 500, 3, 1.0));
    CHECK_FALSE(in.add(1, 0xFFFFFFFFu, 4, 2.0));
    CHECK_FALSE(in.add(2, 0, 5, 3.0));
    CHECK(in.size() == total(lists));
    csr m;
    CHECK(in.build(1 << 20, 0, m) == 0);
    CHECK(same(flatten(m), expected(lists, 500)));
}

TEST_CASE("an inbox that receives far more than expected grows by blocks and loses nothing") {
    const auto lists = make_lists(500, 600, 3, false, 9);
    const auto want = expected(lists, 500);
    inbox in;
    in.prepare(500, 3, 100);
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        in.clear();
        REQUIRE(feed(in, lists) == 0);
        CHECK(in.overflow_blocks() > 0);
        csr m;
        in.build(1 << 20, 0, m);
        CHECK(same(flatten(m), want));
    }
}

TEST_CASE("with many sources the buckets grow, so empty lists' chunks stay under half the expected size") {
    const std::uint64_t rows = 131072, expected = 2'000'000;
    inbox few;
    few.prepare(rows, 2, expected);
    CHECK(few.bucket_rows() == bucket_rows_for(expected, rows));  // 2 sources: the L2-sized bucket
    inbox many;
    many.prepare(rows, 1024, expected);
    const std::uint64_t buckets = (rows + many.bucket_rows() - 1) / many.bucket_rows();
    CHECK(many.bucket_rows() > few.bucket_rows());
    CHECK(buckets * 1024 * many.chunk_size() <= expected / 2);
    // Still correct: one nonzero from the last source into the last row.
    REQUIRE(many.add(1023, rows - 1, 5, 1.5));
    csr m;
    many.build(1 << 20, 0, m);
    CHECK(m.col.size() == 1);
    CHECK(m.ptr[rows - 1] == 0);
    CHECK(m.ptr[rows] == 1);
}

TEST_CASE("any() points at a stored nonzero") {
    inbox in;
    in.prepare(100, 4, 1000);
    CHECK(in.any() == nullptr);
    REQUIRE(in.add(3, 42, 9, 0.25));
    triple* t = in.any();
    REQUIRE(t != nullptr);
    CHECK(t->row == 42);
    CHECK(t->col == 9);
    CHECK(t->val == 0.25);
    t->val = 0.5;  // what --corrupt does: the build must carry it
    csr m;
    in.build(100, 0, m);
    REQUIRE(m.val.size() == 1);
    CHECK(m.val[0] == 0.5);
    CHECK(m.ptr[42] == 0);
    CHECK(m.ptr[43] == 1);
}
