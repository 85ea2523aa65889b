// Recursive messages: every message is forwarded for k more hops to pseudo-random
// ranks by its handler.  barrier() must return only when every hop of every
// chain has been handled, which this program checks by counting per hop level
// across the job, over several barriers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "buddy/comm.hpp"

namespace {
std::vector<std::uint64_t>* g_level_counts = nullptr;

std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

struct hop_handler {
    void operator()(buddy::comm& c, std::uint64_t chain, std::uint32_t hops_left) const {
        ++(*g_level_counts)[hops_left];
        if (hops_left == 0) return;
        const int next = static_cast<int>(mix(chain * 131 + hops_left) % static_cast<std::uint64_t>(c.size()));
        c.async(next, hop_handler{}, chain, hops_left - 1);
    }
};
}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    const std::uint64_t chains = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000;
    const std::uint32_t hops = argc > 2 ? static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 8;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;

    std::vector<std::uint64_t> counts(hops + 1, 0);
    g_level_counts = &counts;
    bool ok = true;
    for (int round = 0; round < rounds; ++round) {
        std::fill(counts.begin(), counts.end(), 0);
        for (std::uint64_t i = 0; i < chains; ++i) {
            const std::uint64_t chain = (static_cast<std::uint64_t>(round) << 48) ^
                                        (static_cast<std::uint64_t>(world.rank()) << 32) ^ i;
            world.async(static_cast<int>(mix(chain) % static_cast<std::uint64_t>(world.size())), hop_handler{},
                        chain, hops);
            if (i % 1024 == 0) world.progress();
        }
        world.barrier();
        // Right after barrier(), without any further communication through
        // buddy, every level must be complete everywhere.
        std::vector<std::uint64_t> total(hops + 1, 0);
        MPI_Allreduce(counts.data(), total.data(), static_cast<int>(hops + 1), MPI_UINT64_T, MPI_SUM,
                      world.mpi_comm());
        const std::uint64_t expected = chains * static_cast<std::uint64_t>(world.size());
        for (std::uint32_t level = 0; level <= hops; ++level) {
            if (total[level] != expected) {
                ok = false;
                if (world.rank() == 0)
                    std::printf("round %d: level %u handled %llu, expected %llu\n", round, level,
                                static_cast<unsigned long long>(total[level]),
                                static_cast<unsigned long long>(expected));
            }
        }
    }
    const buddy::counters c = world.stats();
    std::uint64_t sent = c.messages_sent, handled = c.messages_handled, sum_sent = 0, sum_handled = 0;
    MPI_Allreduce(&sent, &sum_sent, 1, MPI_UINT64_T, MPI_SUM, world.mpi_comm());
    MPI_Allreduce(&handled, &sum_handled, 1, MPI_UINT64_T, MPI_SUM, world.mpi_comm());
    const std::uint64_t expected_all =
        chains * static_cast<std::uint64_t>(world.size()) * (hops + 1) * static_cast<std::uint64_t>(rounds);
    if (sum_sent != expected_all || sum_handled != expected_all) ok = false;
    int all_ok = 0, mine = ok ? 1 : 0;
    MPI_Allreduce(&mine, &all_ok, 1, MPI_INT, MPI_LAND, world.mpi_comm());
    if (world.rank() == 0)
        std::printf("hops: %d ranks, %llu chains x %u hops x %d rounds: sent %llu handled %llu expected %llu: %s\n",
                    world.size(), static_cast<unsigned long long>(chains), hops, rounds,
                    static_cast<unsigned long long>(sum_sent), static_cast<unsigned long long>(sum_handled),
                    static_cast<unsigned long long>(expected_all), all_ok ? "ok" : "FAILED");
    return all_ok ? 0 : 1;
}
