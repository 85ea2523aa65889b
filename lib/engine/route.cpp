#include "buddy/engine/route.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace buddy::engine {

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

}  // namespace buddy::engine
