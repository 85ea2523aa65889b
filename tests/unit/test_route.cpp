// engine::route with no processes: who serves a rank, the next hop, and the lane.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "buddy/engine/route.hpp"

using namespace buddy::engine;

TEST_CASE("direct: the next hop is the destination's router, or this router for its own ranks") {
    const route r({0, 0, 1, 1, 2, 2, 2}, 3);
    CHECK(r.ranks() == 7);
    CHECK(r.routers() == 3);
    for (std::uint32_t from = 0; from < 3; ++from) {
        for (std::uint32_t d = 0; d < 7; ++d) {
            CHECK(r.next_hop(from, d) == r.router_of(d));
            CHECK(r.serves(from, d) == (r.router_of(d) == from));
        }
    }
    CHECK(r.router_of(3) == 1);
    CHECK(r.router_of(6) == 2);
}

TEST_CASE("inproc: each rank is its own router") {
    const route r = route::one_router_per_rank(5);
    CHECK(r.routers() == 5);
    for (std::uint32_t from = 0; from < 5; ++from) {
        for (std::uint32_t d = 0; d < 5; ++d) {
            CHECK(r.router_of(d) == d);
            CHECK(r.next_hop(from, d) == d);
        }
    }
}

TEST_CASE("a rank served by a router outside the job is refused") {
    CHECK_THROWS_AS(route({0, 3}, 3), std::invalid_argument);
    CHECK_NOTHROW(route({0, 2}, 3));
}

TEST_CASE("a scheme with intermediate hops reaches every destination; a broken one is refused") {
    // Routers on a ring, always one step forward: the path visits routers in order.
    const next_hop_scheme forward = [](std::uint32_t from, std::uint32_t, std::uint32_t routers) {
        return (from + 1) % routers;
    };
    const route r({0, 1, 2, 3}, 4, forward);
    for (std::uint32_t start = 0; start < 4; ++start) {
        for (std::uint32_t d = 0; d < 4; ++d) {
            std::uint32_t at = start, hops = 0;
            while (!r.serves(at, d)) {
                at = r.next_hop(at, d);
                REQUIRE(++hops < 4);
            }
            CHECK(hops == (d + 4 - start) % 4);
        }
    }
    const route loops({0, 1}, 2, [](std::uint32_t from, std::uint32_t, std::uint32_t) { return from; });
    CHECK_THROWS_AS(loops.next_hop(0, 1), std::logic_error);
    CHECK(loops.next_hop(1, 1) == 1);  // its own ranks never ask the scheme
    const route outside({0, 1}, 2, [](std::uint32_t, std::uint32_t, std::uint32_t routers) { return routers; });
    CHECK_THROWS_AS(outside.next_hop(0, 1), std::logic_error);
}

TEST_CASE("lanes: a destination's router thread, the same for rank and router") {
    CHECK(lane_of(0, 4) == 0);
    CHECK(lane_of(5, 4) == 1);
    CHECK(lane_of(7, 1) == 0);
    for (std::uint32_t d = 0; d < 100; ++d) CHECK(lane_of(d, 3) < 3);
}
