// Rank-side cost of async(): nanoseconds per 8-byte message, amortised over
// everything the sending rank pays to hand messages on (encoding, closing and
// sending batches, waiting for pipeline credit).  Rank 0 sends; the other
// ranks only receive, so the figure is the sender's alone.  The handler's work
// on the receiver is not part of it.  Two regimes, medians of several runs:
//
//   burst      --burst messages per run (default 200000: fits in the pipeline,
//              batches in flight or a router's ring), so the figure is what the
//              rank itself pays;
//   sustained  --messages per run (default 20000000): the rank runs into
//              backpressure, so the figure is the whole pipeline's throughput
//              (with a router, also the router's share of the cores).
//
//   mpirun -n 2 build/perf/async_cost
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
    std::uint64_t messages = 20'000'000, burst = 200'000;
    int reps = 5, burst_reps = 21;
    bool self = false;
    cli.add_option("--messages", messages, "messages per repetition")->check(CLI::Range(1ull, 1ull << 36));
    cli.add_option("--reps", reps, "sustained repetitions (the median is reported)")->check(CLI::Range(1, 100));
    cli.add_option("--burst", burst, "messages per burst run")->check(CLI::Range(1ull, 1ull << 36));
    cli.add_option("--burst-reps", burst_reps, "burst repetitions")->check(CLI::Range(1, 1000));
    cli.add_flag("--self", self, "rank 0 sends to itself (handlers run on the sender too)");
    CLI11_PARSE(cli, argc, argv);

    const int dest = self || world.size() == 1 ? 0 : 1;
    auto measure = [&](const char* regime, std::uint64_t count, int runs) {
        std::vector<double> ns;
        for (int rep = 0; rep < runs; ++rep) {
            world.barrier();
            double loop = 0;
            if (world.rank() == 0) {
                const double t0 = MPI_Wtime();
                for (std::uint64_t i = 0; i < count; ++i)
                    world.async(dest, [](buddy::comm&, std::uint64_t v) { g_received += v & 1; }, i);
                loop = MPI_Wtime() - t0;
            }
            world.barrier();
            ns.push_back(loop * 1e9 / static_cast<double>(count));
        }
        if (world.rank() != 0) return;
        std::sort(ns.begin(), ns.end());
        std::printf("async_cost %-9s placement %s, %d ranks, dest %d, %llu messages x %d runs: median %.2f "
                    "ns/message (min %.2f, max %.2f)\n",
                    regime, world.placement_name(), world.size(), dest, static_cast<unsigned long long>(count),
                    runs, ns[ns.size() / 2], ns.front(), ns.back());
        std::printf("{\"bench\": \"async_cost\", \"regime\": \"%s\", \"placement\": \"%s\", \"ranks\": %d, "
                    "\"granularity\": %zu, \"median_ns\": %.3f, \"min_ns\": %.3f, \"max_ns\": %.3f}\n",
                    regime, world.placement_name(), world.size(), world.settings().granularity, ns[ns.size() / 2],
                    ns.front(), ns.back());
    };
    measure("burst", burst, burst_reps);
    measure("sustained", messages, reps);
    return 0;
}
