// Block-row CSR matrices for the transpose workload: the generators
// (Erdős–Rényi and R-MAT), hashing for order-independent checksums, and the
// per-nonzero "memory work" kernel.  Received nonzeros and the CSR build from
// them are in inbox.hpp.
//
// Every random number comes from splitmix64 keyed by (seed, row, k), so the
// matrix depends only on the seed, the global size and the generator — never
// on how many ranks share it.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/app.hpp"

namespace transpose_app {

__extension__ using u128 = unsigned __int128;

/// Uniform in [0, n) from 64 random bits (multiply-shift, no division).
inline std::uint64_t scale_to(std::uint64_t bits, std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<u128>(bits) * n) >> 64);
}

/// Exact n / d for 32-bit n and d with one multiply (Lemire, Kaser & Kurz,
/// "Faster remainder by direct computation", 2019: c = ceil(2^64 / d)).
class divider32 {
public:
    explicit divider32(std::uint32_t d) noexcept : c_(d > 1 ? ~std::uint64_t{0} / d + 1 : 0), one_(d <= 1) {}
    std::uint32_t operator()(std::uint32_t n) const noexcept {
        return one_ ? n : static_cast<std::uint32_t>((static_cast<u128>(c_) * n) >> 64);
    }

private:
    std::uint64_t c_;
    bool one_;
};

/// Uniform double in (0, 1) from 64 random bits.
inline double unit_open(std::uint64_t bits) noexcept {
    return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53;
}

/// One nonzero in flight or gathered: (row, column, value), 16 bytes.
struct triple {
    std::uint32_t row;
    std::uint32_t col;
    double val;
};
static_assert(sizeof(triple) == 16);

/// A column/value pair, used while sorting a row.
struct entry {
    std::uint32_t col;
    double val;
};

/// std::allocator, except that resize() leaves new elements of a trivial type
/// uninitialised: the CSR build overwrites its arrays in full right after, and a
/// zero fill first would double the bytes it stores (12 a nonzero, through a
/// memory system the ranks of a node share).
template <typename T>
struct overwrite_allocator : std::allocator<T> {
    template <typename U>
    struct rebind {
        using other = overwrite_allocator<U>;
    };
    overwrite_allocator() = default;
    template <typename U>
    overwrite_allocator(const overwrite_allocator<U>&) noexcept {}
    template <typename U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;  // default-, not value-initialised
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        std::allocator_traits<std::allocator<T>>::construct(*this, p, std::forward<Args>(args)...);
    }
};

/// A vector whose resize() does not zero what the caller is about to overwrite.
template <typename T>
using overwrite_vector = std::vector<T, overwrite_allocator<T>>;

/// Rows [first_row, first_row + rows) of an n x n matrix, CSR with columns
/// sorted ascending and no duplicates.  Columns and values are kept apart
/// (structure of arrays) so a row segment travels as two compact spans.
struct csr {
    std::uint64_t n = 0;
    std::uint64_t first_row = 0;
    std::uint64_t rows = 0;
    std::vector<std::uint64_t> ptr;  ///< rows + 1 offsets
    overwrite_vector<std::uint32_t> col;
    overwrite_vector<double> val;

    std::uint64_t nonzeros() const noexcept { return col.size(); }
    bool same_as(const csr& o) const noexcept {
        return n == o.n && first_row == o.first_row && rows == o.rows && ptr == o.ptr && col == o.col &&
               std::equal(val.begin(), val.end(), o.val.begin(), o.val.end(), [](double a, double b) {
                   return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
               });
    }
};

enum class generator { er, rmat };

/// R-MAT quadrant probabilities (d = 1 - a - b - c).
constexpr double rmat_a = 0.57, rmat_b = 0.19, rmat_c = 0.19, rmat_d = 1.0 - rmat_a - rmat_b - rmat_c;

/// The value of entry (row, col): deterministic, so any two copies compare exactly.
inline double value_of(std::uint64_t seed, std::uint64_t row, std::uint64_t col) noexcept {
    const std::uint64_t h = apps::splitmix64(apps::splitmix64(seed ^ 0x5851F42D4C957F2Dull) + (row << 32 | col));
    return unit_open(h) * 2.0 - 1.0;
}

/// Order-independent fingerprint of one nonzero (summed over a matrix).
inline std::uint64_t fingerprint(std::uint64_t row, std::uint64_t col, double val) noexcept {
    return apps::splitmix64(apps::splitmix64(row << 32 | col) ^ std::bit_cast<std::uint64_t>(val));
}

/// Poisson(mean) from a counter stream: inversion for small means, a rounded
/// normal (Box–Muller) for large ones.
inline std::uint64_t poisson(double mean, std::uint64_t key) noexcept {
    if (mean <= 0) return 0;
    const double u = unit_open(apps::splitmix64(key));
    if (mean < 40.0) {
        double p = std::exp(-mean), cdf = p;
        std::uint64_t k = 0;
        while (u > cdf && k < 1000) {
            ++k;
            p *= mean / static_cast<double>(k);
            cdf += p;
        }
        return k;
    }
    const double u2 = unit_open(apps::splitmix64(key + 0x9E3779B97F4A7C15ull));
    const double z = std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * u2);
    const double k = std::floor(mean + std::sqrt(mean) * z + 0.5);
    return k < 0 ? 0 : static_cast<std::uint64_t>(k);
}

/// Draws the rows [first_row, first_row + rows) of the n x n matrix.
class matrix_generator {
public:
    matrix_generator(generator kind, std::uint64_t seed, std::uint64_t n, double avg_degree)
        : kind_(kind), seed_(seed), n_(n), degree_(avg_degree) {
        scale_ = n <= 1 ? 0 : static_cast<unsigned>(std::bit_width(n - 1));
        f0_ = 2.0 * (rmat_a + rmat_b);
        f1_ = 2.0 * (rmat_c + rmat_d);
        t0_ = static_cast<std::uint32_t>(rmat_a / (rmat_a + rmat_b) * 65536.0);
        t1_ = static_cast<std::uint32_t>(rmat_c / (rmat_c + rmat_d) * 65536.0);
        // Mean R-MAT row weight over the rows that exist (n need not be a power of
        // two): sum_{r<n} prod_bits f(bit), by digits of n.  Weights average 1
        // over all 2^scale rows, so a power of two needs no correction.
        mean_weight_ = 1.0;
        if (n > 1 && n != (std::uint64_t{1} << scale_)) {
            double sum = 0, prefix = 1;
            for (int level = static_cast<int>(scale_) - 1; level >= 0; --level) {
                if ((n >> level) & 1) {
                    sum += prefix * f0_ * std::ldexp(1.0, level);
                    prefix *= f1_;
                } else {
                    prefix *= f0_;
                }
            }
            mean_weight_ = sum / static_cast<double>(n);
        }
    }

    /// Expected nonzeros (before duplicate removal) of a row.
    double row_mean(std::uint64_t row) const noexcept {
        if (kind_ == generator::er) return degree_;
        const int ones = std::popcount(row);
        return degree_ * std::pow(f1_, ones) * std::pow(f0_, static_cast<int>(scale_) - ones) / mean_weight_;
    }

    /// Entries drawn for the row (duplicates possible).
    std::uint64_t row_draws(std::uint64_t row) const noexcept { return poisson(row_mean(row), row_key(row) ^ 0xD6E8FEB86659FD93ull); }

    /// Fills out[0..count) with the row's draws (unsorted, may repeat).
    void draw_row(std::uint64_t row, std::span<entry> out) const noexcept {
        const std::uint64_t key = row_key(row);
        std::uint64_t counter = 0;
        auto next = [&]() noexcept { return apps::splitmix64(key + (++counter) * 0x9E3779B97F4A7C15ull); };
        for (entry& e : out) {
            std::uint64_t c;
            if (kind_ == generator::er) {
                c = scale_to(next(), n_);
            } else {
                c = rmat_column(row, next);
            }
            e.col = static_cast<std::uint32_t>(c);
            e.val = value_of(seed_, row, c);
        }
    }

    /// The whole block of rows, with oneTBB: degrees, draws, per-row sort and
    /// duplicate removal, compaction.
    csr generate(std::uint64_t first_row, std::uint64_t rows) const {
        std::vector<std::uint64_t> draws(rows + 1, 0);
        tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, rows), [&](const auto& r) {
            for (std::uint64_t i = r.begin(); i != r.end(); ++i) draws[i] = row_draws(first_row + i);
        });
        std::uint64_t total = 0;
        for (std::uint64_t i = 0; i < rows; ++i) {
            const std::uint64_t d = draws[i];
            draws[i] = total;
            total += d;
        }
        draws[rows] = total;
        // Uninitialised: first touched by the parallel loop below.
        const auto scratch = std::make_unique_for_overwrite<entry[]>(total);
        std::vector<std::uint64_t> kept(rows + 1, 0);
        tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, rows), [&](const auto& r) {
            for (std::uint64_t i = r.begin(); i != r.end(); ++i) {
                std::span<entry> row(scratch.get() + draws[i], draws[i + 1] - draws[i]);
                draw_row(first_row + i, row);
                std::sort(row.begin(), row.end(), [](const entry& a, const entry& b) { return a.col < b.col; });
                auto end = std::unique(row.begin(), row.end(),
                                       [](const entry& a, const entry& b) { return a.col == b.col; });
                kept[i] = static_cast<std::uint64_t>(end - row.begin());
            }
        });
        csr m;
        m.n = n_;
        m.first_row = first_row;
        m.rows = rows;
        m.ptr.assign(rows + 1, 0);
        for (std::uint64_t i = 0; i < rows; ++i) m.ptr[i + 1] = m.ptr[i] + kept[i];
        m.col.resize(m.ptr[rows]);
        m.val.resize(m.ptr[rows]);
        tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, rows), [&](const auto& r) {
            for (std::uint64_t i = r.begin(); i != r.end(); ++i) {
                const entry* from = scratch.get() + draws[i];
                for (std::uint64_t j = m.ptr[i], k = 0; j < m.ptr[i + 1]; ++j, ++k) {
                    m.col[j] = from[k].col;
                    m.val[j] = from[k].val;
                }
            }
        });
        return m;
    }

private:
    std::uint64_t row_key(std::uint64_t row) const noexcept {
        return apps::splitmix64(apps::splitmix64(seed_ ^ (kind_ == generator::er ? 0x1ull : 0x2ull)) + row);
    }

    /// One R-MAT column for `row`: the column bits are drawn level by level
    /// conditioned on the row's bits (P(col bit 0 | row bit 0) = a/(a+b),
    /// P(col bit 0 | row bit 1) = c/(c+d)), 16 random bits per level; columns
    /// past n are redrawn.
    template <typename Next>
    std::uint64_t rmat_column(std::uint64_t row, Next& next) const noexcept {
        for (int attempt = 0; attempt < 64; ++attempt) {
            std::uint64_t c = 0, bits = 0;
            for (int level = static_cast<int>(scale_) - 1, used = 4; level >= 0; --level, ++used) {
                if (used == 4) {
                    bits = next();
                    used = 0;
                }
                const auto u = static_cast<std::uint32_t>(bits & 0xFFFF);
                bits >>= 16;
                const std::uint32_t threshold = ((row >> level) & 1) ? t1_ : t0_;
                c = (c << 1) | (u < threshold ? 0u : 1u);
            }
            if (c < n_) return c;
        }
        return scale_to(next(), n_);  // vanishingly rare
    }

    generator kind_;
    std::uint64_t seed_;
    std::uint64_t n_;
    double degree_;
    unsigned scale_ = 0;
    double f0_ = 1, f1_ = 1, mean_weight_ = 1;
    std::uint32_t t0_ = 0, t1_ = 0;
};

/// Sum of fingerprints over a block; `swap` fingerprints (col, row) instead, so
/// sum(A, swap) must equal sum(transpose(A)).
inline std::uint64_t matrix_fingerprint(const csr& m, bool swap) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < m.rows; ++i) {
        const std::uint64_t r = m.first_row + i;
        for (std::uint64_t j = m.ptr[i]; j < m.ptr[i + 1]; ++j)
            sum += swap ? fingerprint(m.col[j], r, m.val[j]) : fingerprint(r, m.col[j], m.val[j]);
    }
    return sum;
}

/// Local memory work standing in for what a real handler does with a nonzero:
/// `reads` dependent random reads over `buffer` (each address depends on the
/// previous word read), folded into a checksum that depends only on the
/// nonzero, so the total is the same whatever the order of delivery.
inline std::uint64_t memory_work(const std::uint64_t* buffer, std::uint64_t words, std::uint64_t reads,
                                 std::uint64_t row, std::uint64_t col) noexcept {
    std::uint64_t x = apps::splitmix64(row << 32 | col);
    std::uint64_t acc = 0;
    for (std::uint64_t k = 0; k < reads; ++k) {
        const std::uint64_t w = buffer[scale_to(x, words)];
        acc += w;
        x = (x ^ w) * 0x9E3779B97F4A7C15ull;
        x ^= x >> 29;
    }
    return acc;
}

/// Fills the work buffer (content depends only on the word index).
inline std::vector<std::uint64_t> make_work_buffer(std::uint64_t bytes) {
    const std::uint64_t words = std::max<std::uint64_t>(1, bytes / sizeof(std::uint64_t));
    std::vector<std::uint64_t> buffer(words);
    tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, words), [&](const auto& r) {
        for (std::uint64_t i = r.begin(); i != r.end(); ++i) buffer[i] = apps::splitmix64(i ^ 0x2545F4914F6CDD1Dull);
    });
    return buffer;
}

}  // namespace transpose_app
