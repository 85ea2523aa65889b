// How much buffer memory buddy takes, from the knobs and the job's shape: the
// figures --buddy-verbose prints and docs/perf.md tabulates for 2 to 100,000
// ranks.  Worst cases (every buffer that can exist at once), not averages:
// a batch is opened only toward a hop that is sent to, so a job that talks
// to few peers uses less.
//
// inproc, per rank: toward each peer one open batch and up to `depth` in
//   flight; from each peer up to `depth` arrived and not yet delivered.
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

/// wire::batch_header's size (lib/config stays free of lib/wire; a unit test
/// checks the two agree).
inline constexpr std::uint64_t batch_header_bytes = 32;

/// The job's shape.
struct job_shape {
    std::uint64_t ranks = 2;
    std::uint64_t ranks_per_node = 2;
};

struct estimate {
    std::uint64_t batch_bytes = 0;       ///< one batch buffer: header + granularity
    std::uint64_t peers_per_rank = 0;    ///< inproc: other ranks a rank batches for
    std::uint64_t peers_per_router = 0;  ///< host: other routers a router thread batches for
    std::uint64_t rank_bytes = 0;        ///< private to each rank (inproc) or its share of rings (host)
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
