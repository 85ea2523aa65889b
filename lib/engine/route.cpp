#include "buddy/engine/route.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace buddy::engine {

grid::grid(std::uint32_t routers) noexcept {
    if (routers == 0) return;
    std::uint32_t c = 1;
    while (static_cast<std::uint64_t>(c) * c < routers) ++c;  // ceil(sqrt), exact in integers
    cols = c;
    rows = (routers + c - 1) / c;
}

std::uint32_t mesh2d(std::uint32_t from, std::uint32_t to, std::uint32_t routers) noexcept {
    const grid g(routers);
    const std::uint32_t ra = from / g.cols, ca = from % g.cols;
    const std::uint32_t rb = to / g.cols, cb = to % g.cols;
    if (ra == rb || ca == cb) return to;              // one row or one column: straight there
    const std::uint32_t row_first = ra * g.cols + cb;  // (ra, cb)
    if (row_first < routers) return row_first;
    return rb * g.cols + ca;                           // (rb, ca): rb < ra, a full row
}

next_hop_scheme scheme_of(routing r) noexcept {
    switch (r) {
        case routing::direct: return direct;
        case routing::mesh2d: return mesh2d;
    }
    return direct;
}

route::route(std::vector<std::uint32_t> router_of_rank, std::uint32_t routers, next_hop_scheme scheme)
    : router_of_(std::move(router_of_rank)), routers_(routers), scheme_(scheme) {
    for (std::size_t r = 0; r < router_of_.size(); ++r) {
        if (router_of_[r] >= routers_)
            throw std::invalid_argument("route: rank " + std::to_string(r) + " is served by router " +
                                        std::to_string(router_of_[r]) + ", but the job has " +
                                        std::to_string(routers_) + " routers");
    }
}

route route::one_router_per_rank(std::uint32_t ranks, next_hop_scheme scheme) {
    std::vector<std::uint32_t> self(ranks);
    for (std::uint32_t r = 0; r < ranks; ++r) self[r] = r;
    return route(std::move(self), ranks, scheme);
}

std::uint32_t route::next_hop(std::uint32_t from, std::uint32_t dest) const {
    const std::uint32_t to = router_of_[dest];
    if (to == from) return from;
    const std::uint32_t hop = scheme_(from, to, routers_);
    if (hop >= routers_ || hop == from)
        throw std::logic_error("route: the scheme sends a record for router " + std::to_string(to) + " from router " +
                               std::to_string(from) + " to router " + std::to_string(hop) +
                               (hop == from ? " (itself: a loop)" : " (outside the job)"));
    return hop;
}

std::uint32_t route::hops(std::uint32_t from, std::uint32_t dest) const {
    std::uint32_t at = from, n = 0;
    while (!serves(at, dest)) {
        at = next_hop(at, dest);
        if (++n > routers_) throw std::logic_error("route: a path longer than the job's routers (a cycle)");
    }
    return n;
}

std::vector<std::uint32_t> route::peers(std::uint32_t from) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t d = 0; d < ranks(); ++d)
        if (!serves(from, d)) out.push_back(next_hop(from, d));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace buddy::engine
