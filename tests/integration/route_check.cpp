// Known traffic for route tests: rank s sends count(s, d) = 40 + 7 s + 3 d
// messages to every rank d (itself included), so a test can work out how many
// records take 0, 1 or 2 hops under a route and compare with the report.
// Each rank checks it received exactly count(s, me) messages from every s,
// payloads intact.  Prints one JSON line with "verified".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "buddy/comm.hpp"

namespace {
std::vector<std::uint64_t>* g_from = nullptr;  // messages received per source
bool g_payload_ok = true;

std::uint64_t count(int s, int d) { return 40 + 7 * static_cast<std::uint64_t>(s) + 3 * static_cast<std::uint64_t>(d); }

struct note {
    void operator()(buddy::comm&, int source, std::uint64_t i, std::uint64_t check) const {
        if (check != (static_cast<std::uint64_t>(source) << 32 ^ i) * 2654435761u) g_payload_ok = false;
        ++(*g_from)[static_cast<std::size_t>(source)];
    }
};
}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
    std::vector<std::uint64_t> from(static_cast<std::size_t>(world.size()), 0);
    g_from = &from;
    const int me = world.rank();
    for (int round = 0; round < rounds; ++round) {
        // Interleaved over destinations, so every next hop's batch fills at once.
        std::uint64_t most = 0;
        for (int d = 0; d < world.size(); ++d) most = std::max(most, count(me, d));
        for (std::uint64_t i = 0; i < most; ++i) {
            for (int d = 0; d < world.size(); ++d)
                if (i < count(me, d))
                    world.async(d, note{}, me, i, (static_cast<std::uint64_t>(me) << 32 ^ i) * 2654435761u);
            if (i % 64 == 0) world.progress();
        }
        world.barrier();
    }
    bool ok = g_payload_ok;
    for (int s = 0; s < world.size(); ++s)
        if (from[static_cast<std::size_t>(s)] != count(s, me) * static_cast<std::uint64_t>(rounds)) ok = false;
    int mine = ok ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, world.mpi_comm());
    if (me == 0)
        std::printf("{\"app\": \"route_check\", \"ranks\": %d, \"rounds\": %d, \"verified\": %s}\n", world.size(),
                    rounds, all ? "true" : "false");
    return all ? 0 : 1;
}
