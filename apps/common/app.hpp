// What every workload shares: the --json result line, timing, verification exit
// status, the --mode flag and the debug flag that corrupts one value to prove
// that verification bites.
#pragma once

#include <CLI/CLI.hpp>
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace apps {

__extension__ typedef unsigned __int128 uint128_t;  // GCC/Clang extension, used for one multiply

/// Parses the command line.  On --help or a bad flag, rank 0 prints CLI11's
/// message (every rank parses the same arguments, so the others stay quiet)
/// and the status to leave main() with is returned; nullopt means "go on".
/// `extra_check` runs after parsing and may throw CLI::ValidationError.
template <typename Check = void (*)()>
inline std::optional<int> parse_command_line(CLI::App& cli, int argc, char** argv, int rank,
                                             Check extra_check = [] {}) {
    try {
        cli.parse(argc, argv);
        extra_check();
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        if (rank == 0) return cli.exit(e);
        std::ostringstream quiet;
        return cli.exit(e, quiet, quiet);
    }
}

/// Wall-clock seconds (MPI_Wtime is the job-wide clock baselines also use).
inline double now() { return MPI_Wtime(); }

/// Escapes a string for a JSON value.
inline std::string json_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (char ch : s) {
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", ch);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    return out;
}

/// One JSON object, fields in insertion order, printed as the last line of stdout.
class result_line {
public:
    result_line& add(const std::string& key, const std::string& value) {
        fields_.emplace_back(key, "\"" + json_escape(value) + "\"");
        return *this;
    }
    result_line& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
    result_line& add(const std::string& key, bool value) {
        fields_.emplace_back(key, value ? "true" : "false");
        return *this;
    }
    result_line& add(const std::string& key, double value) {
        std::ostringstream s;
        if (std::isfinite(value)) {
            s.precision(6);
            s << value;
        } else {
            s << "null";
        }
        fields_.emplace_back(key, s.str());
        return *this;
    }
    template <typename I>
        requires std::is_integral_v<I>
    result_line& add(const std::string& key, I value) {
        fields_.emplace_back(key, std::to_string(value));
        return *this;
    }
    std::string str() const {
        std::string out = "{";
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            if (i) out += ", ";
            out += "\"" + json_escape(fields_[i].first) + "\": " + fields_[i].second;
        }
        return out + "}";
    }

private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

/// Sum of a 64-bit count over the job.
inline std::uint64_t sum_all(std::uint64_t v, MPI_Comm c) {
    std::uint64_t total = 0;
    MPI_Allreduce(&v, &total, 1, MPI_UINT64_T, MPI_SUM, c);
    return total;
}

/// True on every rank only if true on every rank.
inline bool all_true(bool v, MPI_Comm c) {
    int mine = v ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, c);
    return all != 0;
}

/// Largest value of a double over the job (the slowest rank's time).
inline double max_all(double v, MPI_Comm c) {
    double out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, c);
    return out;
}

/// splitmix64: a counter-based generator; the same (seed, index) gives the same
/// number on any rank, which is what decomposition-independent results need.
inline std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// A small, fast generator for hot loops (xoshiro-style state, seeded by splitmix64).
class fast_rng {
public:
    explicit fast_rng(std::uint64_t seed) noexcept
        : a_(splitmix64(seed)), b_(splitmix64(seed ^ 0xD1B54A32D192ED03ull) | 1) {}
    std::uint64_t next() noexcept {
        // xorshift128+: two loads, a few shifts; ample quality for picking ranks and slots.
        std::uint64_t s1 = a_;
        const std::uint64_t s0 = b_;
        a_ = s0;
        s1 ^= s1 << 23;
        b_ = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        return b_ + s0;
    }
    /// Uniform in [0, n) without division (Lemire's multiply-shift).
    std::uint64_t below(std::uint64_t n) noexcept {
        return static_cast<std::uint64_t>((static_cast<uint128_t>(next()) * n) >> 64);
    }

private:
    std::uint64_t a_, b_;
};

}  // namespace apps
