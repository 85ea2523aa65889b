// engine::route with no processes: who serves a rank, the next hop, and the lane.
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

TEST_CASE("grid: cols = ceil(sqrt(n)), rows as needed, only the last row partial") {
    CHECK(grid(1).cols == 1);
    CHECK(grid(1).rows == 1);
    CHECK(grid(2).cols == 2);
    CHECK(grid(2).rows == 1);
    CHECK(grid(4).cols == 2);
    CHECK(grid(4).rows == 2);
    CHECK(grid(5).cols == 3);
    CHECK(grid(5).rows == 2);
    CHECK(grid(10).cols == 4);
    CHECK(grid(10).rows == 3);
    CHECK(grid(1000).cols == 32);
    CHECK(grid(1000).rows == 32);
    for (std::uint32_t n = 1; n <= 1000; ++n) {
        const grid g(n);
        CHECK(g.rows * g.cols >= n);
        CHECK((g.rows - 1) * g.cols < n);  // no empty row
        CHECK(g.rows <= g.cols);
    }
}

namespace {

// Every pair of routers reachable in <= 2 hops, each hop along a row or a
// column, and the peers of every router within its row and column.
void check_mesh2d(const route& r) {
    const grid g(r.routers());
    for (std::uint32_t from = 0; from < r.routers(); ++from) {
        for (std::uint32_t d = 0; d < r.ranks(); ++d) {
            const std::uint32_t hops = r.hops(from, d);
            REQUIRE(hops <= 2);
            const std::uint32_t to = r.router_of(d);
            CHECK(hops == (from == to ? 0u : (from / g.cols == to / g.cols || from % g.cols == to % g.cols ? 1u : 2u)));
        }
        const std::vector<std::uint32_t> peers = r.peers(from);
        CHECK(peers.size() <= (g.cols - 1) + (g.rows - 1));
        for (std::uint32_t p : peers) CHECK((p / g.cols == from / g.cols || p % g.cols == from % g.cols));
    }
}

}  // namespace

TEST_CASE("mesh2d, one router per rank, n = 1..100: every pair in <= 2 hops, about 2 sqrt(n) peers") {
    for (std::uint32_t n = 1; n <= 100; ++n) {
        CAPTURE(n);
        const route r = route::one_router_per_rank(n, mesh2d);
        check_mesh2d(r);
        // A full square: exactly (cols - 1) + (rows - 1) peers each.
        const grid g(n);
        if (g.rows * g.cols == n)
            for (std::uint32_t from = 0; from < n; ++from) CHECK(r.peers(from).size() == g.cols + g.rows - 2);
        for (std::uint32_t from = 0; from < n; ++from) {
            double root = 1;
            while (root * root < n) root += 1;
            CHECK(static_cast<double>(r.peers(from).size()) <= 2 * root);
        }
    }
}

TEST_CASE("mesh2d, odd shapes: a partial last row goes column first; several ranks per router") {
    // 7 routers on 3 x 3: row 2 holds router 6 only.  From 6 (2,0) to 5 (1,2):
    // the corner (2,2) is missing, so through (1,0) = router 3.
    CHECK(mesh2d(6, 5, 7) == 3);
    CHECK(mesh2d(5, 6, 7) == 3);  // (1,2) to (2,0): row first, corner (1,0)
    CHECK(mesh2d(0, 8, 9) == 2);  // full 3 x 3: (0,0) to (2,2) through (0,2)
    CHECK(mesh2d(0, 1, 9) == 1);  // same row: direct
    CHECK(mesh2d(0, 6, 9) == 6);  // same column: direct
    // 11 routers on 4 x 3 (last row 3 of 4): from router 9 (2,1) to router 3 (0,3): corner (2,3) missing.
    CHECK(mesh2d(9, 3, 11) == 1);
    for (std::uint32_t routers : {3u, 5u, 7u, 11u, 13u, 17u, 31u, 57u, 99u}) {
        CAPTURE(routers);
        // Three ranks per router, numbered router by router, and one router serving a single rank at the end.
        std::vector<std::uint32_t> of;
        for (std::uint32_t i = 0; i < routers; ++i)
            for (std::uint32_t k = 0; k < (i + 1 == routers ? 1u : 3u); ++k) of.push_back(i);
        check_mesh2d(route(of, routers, mesh2d));
    }
    // Round-robin ranks over routers.
    std::vector<std::uint32_t> rr;
    for (std::uint32_t i = 0; i < 40; ++i) rr.push_back(i % 6);
    check_mesh2d(route(rr, 6, mesh2d));
}

TEST_CASE("the route knob names its scheme") {
    CHECK((scheme_of(buddy::routing::direct) == &direct));
    CHECK((scheme_of(buddy::routing::mesh2d) == &mesh2d));
}
