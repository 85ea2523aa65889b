// Rank-side cost of async(): nanoseconds per 8-byte message, amortised over
// everything the sending rank pays to hand messages on (encoding, closing and
// sending batches, waiting for pipeline credit).  Rank 0 sends; the other
// ranks only receive, so the figure is the sender's alone.  The handler's work
// on the receiver is not part of it.  Prints the median of --reps runs.
//
//   mpirun -n 2 build/perf/async_cost --messages 20000000 --reps 5
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "buddy/comm.hpp"

namespace {
std::uint64_t g_received = 0;
}

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    CLI::App cli{"async_cost: rank-side nanoseconds per async() of an 8-byte message"};
    std::uint64_t messages = 20'000'000;
    int reps = 5;
    bool self = false;
    cli.add_option("--messages", messages, "messages per repetition")->check(CLI::Range(1ull, 1ull << 36));
    cli.add_option("--reps", reps, "repetitions (the median is reported)")->check(CLI::Range(1, 100));
    cli.add_flag("--self", self, "rank 0 sends to itself (handlers run on the sender too)");
    CLI11_PARSE(cli, argc, argv);

    const int dest = self || world.size() == 1 ? 0 : 1;
    std::vector<double> ns;
    for (int rep = 0; rep < reps; ++rep) {
        world.barrier();
        double loop = 0;
        if (world.rank() == 0) {
            const double t0 = MPI_Wtime();
            for (std::uint64_t i = 0; i < messages; ++i)
                world.async(dest, [](buddy::comm&, std::uint64_t v) { g_received += v & 1; }, i);
            loop = MPI_Wtime() - t0;
        }
        world.barrier();
        ns.push_back(loop * 1e9 / static_cast<double>(messages));
    }
    if (world.rank() == 0) {
        std::sort(ns.begin(), ns.end());
        std::printf("async_cost: placement %s, %d ranks, dest %d, %llu messages x %d reps, granularity %zu\n",
                    world.placement_name(), world.size(), dest, static_cast<unsigned long long>(messages), reps,
                    world.settings().granularity);
        std::printf("async_cost: median %.2f ns/message (min %.2f, max %.2f)\n", ns[ns.size() / 2], ns.front(),
                    ns.back());
        std::printf("{\"bench\": \"async_cost\", \"placement\": \"%s\", \"ranks\": %d, \"median_ns\": %.3f, "
                    "\"min_ns\": %.3f, \"max_ns\": %.3f}\n",
                    world.placement_name(), world.size(), ns[ns.size() / 2], ns.front(), ns.back());
    }
    return 0;
}
