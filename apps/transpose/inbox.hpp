// The nonzeros a rank of the transpose receives, sorted into buckets of result
// rows and by source as they arrive, and the CSR build from them.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "transpose/matrix.hpp"

namespace transpose_app {

/// Rows of one bucket: about `bucket_entries` nonzeros, so that the bucket's
/// part of the result (4 + 8 bytes per nonzero) and its rows' write positions
/// stay in a core's L2 while the build scatters into them.  A power of two in
/// [64, 65536].
inline std::uint64_t bucket_rows_for(std::uint64_t nonzeros, std::uint64_t rows) noexcept {
    constexpr std::uint64_t bucket_entries = 32768;
    const std::uint64_t per_row = rows == 0 ? 1 : std::max<std::uint64_t>(1, nonzeros / rows);
    return std::clamp<std::uint64_t>(std::bit_floor(std::max<std::uint64_t>(1, bucket_entries / per_row)), 64, 65536);
}

/// Received nonzeros, already transposed: `row` local to this rank's block of
/// the result, `col` global.  `add()` stores each one, as it arrives, in the
/// list of its (bucket of consecutive rows, source rank); `build()` then makes
/// the CSR block a bucket at a time: it counts the bucket's rows and places
/// its nonzeros into them while the bucket is in L2.
///
/// Why on arrival: from lists in arrival order, a build needs a pass to count
/// the rows and one to move the triples into buckets before the pass into the
/// rows (one pass straight into the rows misses the cache on nearly every
/// nonzero once the result outgrows it).  Those two passes were 13 of the 28
/// ms the build took at 2 ranks, 2M nonzeros a rank; here the move into
/// buckets is the store the handler (buddy) or the unpacking loop (MPI) makes
/// anyway, to one of a few hundred lists instead of one.
///
/// Why the rows are counted in build() and not in add(): a counter per row
/// (1 MiB at 262144 rows) bumped between the list stores missed the cache, and
/// MPI mode's unpacking loop of 4M nonzeros at 1 rank took 62 ms instead of 22.
///
/// Why a list per source: each source sends its rows in ascending order, so
/// when the runtime keeps one source's messages in order a list holds each of
/// its result rows' entries in column order, and placing a bucket's lists in
/// source order yields sorted rows with no comparison sort.  `build()` sorts
/// a row only if it is not sorted; nothing relies on the order.
///
/// A list is a chain of fixed-size chunks carved from blocks that `prepare()`
/// allocates and touches (first-touch page faults cost more than the sort on
/// the VMs measured) and `clear()` keeps: a list grows without copying, and
/// only a rank that receives more than `prepare()` expected allocates during
/// the exchange.
class inbox {
public:
    /// Sizes the inbox for `rows` result rows (below 2^32), `sources` sending
    /// ranks and about `expected` nonzeros, touches its memory, and empties it.
    void prepare(std::uint64_t rows, std::uint32_t sources, std::uint64_t expected) {
        rows_ = rows;
        sources_ = std::max<std::uint32_t>(1, sources);
        // Every list holds at least one chunk once it has a nonzero.  With
        // many sources (1024 ranks at 131072 rows: 128 buckets x 1024 lists)
        // that floor would outgrow the data, so buckets grow until the floor
        // is under half the expected size; the build's buckets then outgrow
        // L2, which costs time, not memory.
        std::uint64_t bucket_rows = bucket_rows_for(expected, rows);
        while (bucket_rows < rows && buckets_for(rows, bucket_rows) * sources_ * (chunk_min + line) > expected / 2)
            bucket_rows *= 2;
        bucket_shift_ = static_cast<unsigned>(std::countr_zero(bucket_rows));
        buckets_ = buckets_for(rows, bucket_rows);
        const std::uint64_t lists = buckets_ * sources_;
        // About half a list's expected share, so that the partly filled last
        // chunks of all lists add at most about half the expected size again;
        // plus one cache line, so that chunk starts are not all a power of two
        // apart: the lists fill at about the same pace, and with 64 KiB chunks
        // every list's next store falls in the same few cache sets (1 rank,
        // 4M nonzeros, median of 5: the exchange took 0.037 s without the
        // line in buddy mode, 0.029 s with it; MPI mode 0.062 and 0.049 s).
        chunk_ = std::clamp<std::uint64_t>(std::bit_floor(std::max<std::uint64_t>(1, expected / lists / 2)), chunk_min,
                                           chunk_max) +
                 line;
        const std::uint64_t chunks = (expected + chunk_ - 1) / chunk_ + lists;
        blocks_.clear();
        blocks_.emplace_back(chunks * chunk_);  // overwrite_vector: resize() touches nothing, the fill does
        std::fill(blocks_[0].begin(), blocks_[0].end(), triple{});
        lists_.assign(lists, list{});
        chunk_start_.reserve(chunks);
        chunk_next_.reserve(chunks);
        clear();
    }

    /// Forgets every stored nonzero; the memory stays for the next exchange.
    void clear() {
        std::fill(lists_.begin(), lists_.end(), list{});
        chunk_start_.clear();
        chunk_next_.clear();
        free_ = free_end_ = nullptr;
        next_block_ = 0;
    }

    /// Stores nonzero (row, col, val) of the result, sent by `source`.  False,
    /// and nothing stored, if the row is not in this block or the source is
    /// not a rank.
    bool add(std::uint32_t source, std::uint32_t row, std::uint32_t col, double val) {
        if (row >= rows_ || source >= sources_) [[unlikely]]
            return false;
        list& l = lists_[(static_cast<std::size_t>(row >> bucket_shift_)) * sources_ + source];
        if (l.cursor == l.limit) [[unlikely]]
            start_chunk(l);
        *l.cursor++ = triple{row, col, val};
        return true;
    }

    /// Nonzeros stored.
    std::uint64_t size() const noexcept {
        std::uint64_t total = 0;
        for (const list& l : lists_) total += size_of(l);
        return total;
    }

    /// Some stored nonzero (the first of the first list that has any), or
    /// nullptr when empty: lets a debug flag corrupt one on purpose.
    triple* any() noexcept {
        for (const list& l : lists_)
            if (l.head != none) return chunk_start_[l.head];
        return nullptr;
    }

    /// Rows per bucket and chunk size chosen by prepare() (for tests and reports).
    std::uint64_t bucket_rows() const noexcept { return std::uint64_t{1} << bucket_shift_; }
    std::uint64_t chunk_size() const noexcept { return chunk_; }
    /// Blocks allocated beyond prepare()'s (a rank received more than expected).
    std::size_t overflow_blocks() const noexcept { return blocks_.empty() ? 0 : blocks_.size() - 1; }

    /// Builds rows [first_row, first_row + rows) of the n x n result into
    /// `out`.  Each bucket's place in the result follows from its lists'
    /// sizes; then, a bucket at a time and buckets in parallel (oneTBB; they
    /// are disjoint ranges of the result), its rows are counted, its lists
    /// placed into the rows in source order, and every row that is not sorted
    /// by column sorted.  Returns the number of rows that needed that sort.
    std::uint64_t build(std::uint64_t n, std::uint64_t first_row, csr& out) const {
        out.n = n;
        out.first_row = first_row;
        out.rows = rows_;
        std::vector<std::uint64_t> start(buckets_ + 1, 0);  // where each bucket's rows begin
        for (std::uint64_t b = 0; b < buckets_; ++b) {
            start[b + 1] = start[b];
            for (std::uint32_t s = 0; s < sources_; ++s) start[b + 1] += size_of(lists_[b * sources_ + s]);
        }
        const std::uint64_t nnz = start[buckets_];
        out.ptr.resize(rows_ + 1);
        std::uint64_t* ptr = out.ptr.data();
        ptr[rows_] = nnz;
        out.col.resize(nnz);
        out.val.resize(nnz);
        std::uint32_t* col = out.col.data();
        double* val = out.val.data();

        std::vector<std::uint64_t> sorted(buckets_, 0);
        const auto by_col = [](const entry& x, const entry& y) { return x.col < y.col; };
        const auto place_bucket = [&](std::uint64_t b, std::vector<std::uint64_t>& next, std::vector<entry>& row_buf) {
            const std::uint64_t lo = b << bucket_shift_;
            const std::uint64_t hi = std::min(rows_, lo + (std::uint64_t{1} << bucket_shift_));
            // Count the bucket's rows (its triples then stay in L2 for the
            // placing pass), then place its lists in source order.
            next.assign(hi - lo, 0);
            for_each_of(b, [&](const triple& t) { ++next[t.row - lo]; });
            std::uint64_t at = start[b];
            for (std::uint64_t i = lo; i < hi; ++i) {
                ptr[i] = at;
                const std::uint64_t in_row = next[i - lo];
                next[i - lo] = at;
                at += in_row;
            }
            for_each_of(b, [&](const triple& t) {
                const std::uint64_t k = next[t.row - lo]++;
                col[k] = t.col;
                val[k] = t.val;
            });
            for (std::uint64_t i = lo; i < hi; ++i) {
                // Placed, row i ends where its write position stopped (ptr[hi]
                // is the next bucket's, which another thread may be writing).
                std::uint32_t* c = col + ptr[i];
                const std::uint64_t len = next[i - lo] - ptr[i];
                if (std::is_sorted(c, c + len)) continue;
                ++sorted[b];
                double* v = val + ptr[i];
                row_buf.resize(len);
                for (std::uint64_t k = 0; k < len; ++k) row_buf[k] = entry{c[k], v[k]};
                std::sort(row_buf.begin(), row_buf.end(), by_col);
                for (std::uint64_t k = 0; k < len; ++k) {
                    c[k] = row_buf[k].col;
                    v[k] = row_buf[k].val;
                }
            }
        };
        tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, buckets_), [&](const auto& r) {
            std::vector<std::uint64_t> next;
            std::vector<entry> row_buf;
            for (std::uint64_t b = r.begin(); b != r.end(); ++b) place_bucket(b, next, row_buf);
        });
        return std::accumulate(sorted.begin(), sorted.end(), std::uint64_t{0});
    }

private:
    static constexpr std::uint32_t none = ~std::uint32_t{0};
    static constexpr std::uint64_t line = 64 / sizeof(triple);  ///< triples per cache line
    static constexpr std::uint64_t chunk_min = 16, chunk_max = 4096;  ///< chunk sizes before the line

    /// One (bucket, source) list: its first and last chunk, and the free room
    /// of the last.
    struct list {
        triple* cursor = nullptr;
        triple* limit = nullptr;
        std::uint32_t head = none;
        std::uint32_t tail = none;
    };

    static std::uint64_t buckets_for(std::uint64_t rows, std::uint64_t bucket_rows) noexcept {
        return std::max<std::uint64_t>(1, (rows + bucket_rows - 1) / bucket_rows);
    }

    std::uint64_t size_of(const list& l) const noexcept {
        std::uint64_t total = 0;
        for (std::uint32_t c = l.head; c != none; c = chunk_next_[c])
            total += c == l.tail ? static_cast<std::uint64_t>(l.cursor - chunk_start_[c]) : chunk_;
        return total;
    }

    /// Calls f on every triple of bucket b: its lists in source order, each in
    /// the order stored.
    template <typename F>
    void for_each_of(std::uint64_t b, F&& f) const {
        for (std::uint32_t s = 0; s < sources_; ++s) {
            const list& l = lists_[b * sources_ + s];
            for (std::uint32_t c = l.head; c != none; c = chunk_next_[c]) {
                const triple* t = chunk_start_[c];
                const triple* end = c == l.tail ? l.cursor : t + chunk_;
                for (; t != end; ++t) f(*t);
            }
        }
    }

    /// Cold: gives `l` a new last chunk, from the next block when this one is
    /// used up, allocating a block (half the chunks carved so far, at least
    /// one) when every block is.
    [[gnu::noinline]] void start_chunk(list& l) {
        if (free_ == free_end_) {
            if (next_block_ == blocks_.size())
                blocks_.emplace_back(std::max<std::uint64_t>(1, chunk_start_.size() / 2) * chunk_);
            overwrite_vector<triple>& b = blocks_[next_block_++];  // moving blocks_ keeps each buffer
            free_ = b.data();
            free_end_ = free_ + b.size();
        }
        const auto id = static_cast<std::uint32_t>(chunk_start_.size());
        chunk_start_.push_back(free_);
        chunk_next_.push_back(none);
        if (l.tail == none) {
            l.head = id;
        } else {
            chunk_next_[l.tail] = id;
        }
        l.tail = id;
        l.cursor = free_;
        l.limit = free_ + chunk_;
        free_ += chunk_;
    }

    std::uint64_t rows_ = 0;
    std::uint32_t sources_ = 1;
    unsigned bucket_shift_ = 6;
    std::uint64_t buckets_ = 1;
    std::uint64_t chunk_ = chunk_min + line;
    std::vector<list> lists_;           ///< bucket-major: lists_[bucket * sources_ + source]
    std::vector<triple*> chunk_start_;  ///< by chunk id, in the order carved
    std::vector<std::uint32_t> chunk_next_;
    std::vector<overwrite_vector<triple>> blocks_;  ///< whole chunks each
    std::size_t next_block_ = 0;
    triple* free_ = nullptr;  ///< uncarved room of the current block
    triple* free_end_ = nullptr;
};

}  // namespace transpose_app
