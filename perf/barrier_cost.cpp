// Cost of an empty barrier(): microseconds per call of 10,000 barrier()s with
// no messages in flight, against 10,000 MPI_Barrier()s on the same ranks, and
// their ratio.  An empty barrier() is one counting round (a non-blocking sum
// of four words, lib/client/sum_reduction.hpp) plus a poll, so it costs a
// small multiple of one MPI_Barrier; this program keeps that multiple in
// view when barrier() changes.  Medians of --reps repetitions; --json prints
// one line {"barrier_us", "mpi_barrier_us", "ratio"} (perf/ab cmd).
//
//   mpirun -n 2 build/perf/barrier_cost [--json]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "buddy/comm.hpp"

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    CLI::App cli{"barrier_cost: microseconds per empty barrier() and per MPI_Barrier"};
    int calls = 10'000, reps = 5;
    bool json = false;
    cli.add_option("--calls", calls, "barriers per repetition")->check(CLI::Range(1, 100'000'000));
    cli.add_option("--reps", reps, "repetitions (the median is reported)")->check(CLI::Range(1, 100));
    cli.add_flag("--json", json, "print one JSON line");
    CLI11_PARSE(cli, argc, argv);

    const MPI_Comm mpi = world.mpi_comm();
    auto median_us = [&](auto&& one_barrier) {
        std::vector<double> us;
        for (int rep = 0; rep < reps; ++rep) {
            MPI_Barrier(mpi);
            const double t0 = MPI_Wtime();
            for (int i = 0; i < calls; ++i) one_barrier();
            double t = MPI_Wtime() - t0;
            MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, mpi);  // the slowest rank's view
            us.push_back(t * 1e6 / calls);
        }
        std::sort(us.begin(), us.end());
        return us[us.size() / 2];
    };
    const double buddy_us = median_us([&] { world.barrier(); });
    const double mpi_us = median_us([&] { MPI_Barrier(mpi); });
    const double ratio = mpi_us > 0 ? buddy_us / mpi_us : 0.0;
    if (world.rank() == 0 && json) {
        std::printf("{\"ranks\": %d, \"placement\": \"%s\", \"barrier_us\": %.4f, \"mpi_barrier_us\": %.4f, "
                    "\"ratio\": %.4f}\n",
                    world.size(), world.placement_name(), buddy_us, mpi_us, ratio);
    } else if (world.rank() == 0) {
        std::printf("barrier_cost: %d ranks, %s, %d calls x %d reps (median)\n", world.size(), world.placement_name(),
                    calls, reps);
        std::printf("  buddy::comm::barrier()  %9.2f us\n  MPI_Barrier             %9.2f us\n  ratio                   %9.2f\n",
                    buddy_us, mpi_us, ratio);
    }
    return 0;
}
