// Route: where a record goes next.  The one home of "which router serves a
// destination rank" and "which router does this router hand a record to".
//
// A job has `routers` routers (index 0..routers-1); each rank is served by one
// of them (router_of).  A scheme maps (this router, the destination's router)
// to the next hop: `direct` sends straight to the destination's router;
// `mesh2d` (routers on a grid, row then column) may return an intermediate
// router, which forwards the record on (transit).  For inproc each rank is its
// own router, so the same schemes apply between ranks.
//
// route is consulted when a job is set up, never per message: its users turn
// it into per-destination tables (the rank's lane_of, the router's window per
// destination), so the scheme can be a plain function and cost nothing on the
// hot path.
//
// Distinct from the next hop is the *lane*: which thread of a router handles a
// destination (host placement: one outbound ring per router thread).  Ranks and
// routers agree on it through lane_of() below.
#pragma once

#include <cstdint>
#include <vector>

#include "buddy/config.hpp"

namespace buddy::engine {

/// A routing scheme: the router that `from` hands a record for a rank of
/// router `to` to (to itself when from == to).  Must return an index < routers
/// and, for from != to, never `from` (that would loop).
using next_hop_scheme = std::uint32_t (*)(std::uint32_t from, std::uint32_t to, std::uint32_t routers);

/// Straight to the destination's router.
constexpr std::uint32_t direct(std::uint32_t, std::uint32_t to, std::uint32_t) noexcept { return to; }

/// The near-square grid mesh2d places `routers` routers on: `cols` =
/// ceil(sqrt(routers)) columns, as many rows as it takes; router i sits at
/// row i / cols, column i % cols.  Every row but the last is full; the last
/// holds the remainder (routers - (rows - 1) * cols, at least one).
struct grid {
    std::uint32_t rows = 0, cols = 0;
    explicit grid(std::uint32_t routers) noexcept;
};

/// Row first, then column: from (ra, ca) to (rb, cb) through the corner
/// (ra, cb).  Where that corner is missing (it would lie past the end of a
/// partial last row, which only happens when `from` is in the last row and
/// `to` is not), column first instead, through (rb, ca): every row but the last
/// is full, so that corner exists.  Either way at most two hops, and every link
/// joins routers of one row or one column, so a router talks to at most
/// (cols - 1) + (rows - 1) peers, about 2 sqrt(routers).  The choice depends on
/// (from, to) alone, and the corner is one step from `to`, so a record in
/// transit goes straight on from there.
std::uint32_t mesh2d(std::uint32_t from, std::uint32_t to, std::uint32_t routers) noexcept;

/// The scheme a job's `route` knob names.
next_hop_scheme scheme_of(routing r) noexcept;

class route {
public:
    /// `router_of_rank[r]`: index of the router that serves rank r (< routers).
    /// Throws std::invalid_argument on an index outside the routers.
    route(std::vector<std::uint32_t> router_of_rank, std::uint32_t routers, next_hop_scheme scheme = direct);

    /// inproc: rank r is router r.
    static route one_router_per_rank(std::uint32_t ranks, next_hop_scheme scheme = direct);

    std::uint32_t ranks() const noexcept { return static_cast<std::uint32_t>(router_of_.size()); }
    std::uint32_t routers() const noexcept { return routers_; }

    /// The router that serves `rank` (< ranks()).
    std::uint32_t router_of(std::uint32_t rank) const noexcept { return router_of_[rank]; }

    /// The router `from` hands a record for `dest` to; == from when `from`
    /// serves dest itself.  Throws std::logic_error if the scheme breaks its
    /// contract (an index outside the routers, or a loop back to `from`).
    std::uint32_t next_hop(std::uint32_t from, std::uint32_t dest) const;

    /// Router `router` delivers records for `dest` itself (no further hop).
    bool serves(std::uint32_t router, std::uint32_t dest) const noexcept { return router_of_[dest] == router; }

    /// Routers a record from `from` to `dest` passes through after `from`
    /// (0 when `from` serves dest, 1 direct, 2 through one transit router).
    /// Throws std::logic_error like next_hop, or if the path exceeds `routers` hops.
    std::uint32_t hops(std::uint32_t from, std::uint32_t dest) const;

    /// The distinct routers `from` hands records to, over every destination.
    std::vector<std::uint32_t> peers(std::uint32_t from) const;

private:
    std::vector<std::uint32_t> router_of_;
    std::uint32_t routers_;
    next_hop_scheme scheme_;
};

/// The lane (router thread, and so outbound ring) that handles records for
/// `dest` on a router with `threads` threads.  The rank writes a record into
/// this lane's ring; the router thread that owns that ring forwards it.
constexpr std::uint32_t lane_of(std::uint32_t dest, std::uint32_t threads) noexcept { return dest % threads; }

}  // namespace buddy::engine
