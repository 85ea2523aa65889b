// Barriers that cannot finish must end the job with an error naming the rank:
//   --late R --sleep S   rank R sleeps S seconds before its barrier() (the
//                        others must give up after BUDDY_TIMEOUT, naming R);
//   --gone R             rank R ends its process (_exit, no MPI_Finalize)
//                        where the others call barrier(): a rank of their
//                        node must say it is gone, before BUDDY_TIMEOUT;
//   --skip R             rank R returns without calling barrier(), so its
//                        comm's final barrier meets the others' barrier()
//                        (the error must name R and both barriers);
//   --until FILE         barriers one after another until FILE exists (for at
//                        most 60 s), then as without flags: the cluster test
//                        has a record forged into the job meanwhile, and the
//                        barrier that counts it must end the job.
// Without either, every rank sends to every other and the barrier completes.
#include <mpi.h>
#include <unistd.h>

#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "buddy/comm.hpp"

namespace {
std::uint64_t g_handled = 0;
}

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    int late = -1, skip = -1, gone = -1;
    unsigned sleep_seconds = 0;
    const char* until = nullptr;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const int value = std::atoi(argv[i + 1]);
        if (flag == "--until") until = argv[i + 1];
        else if (flag == "--late") late = value;
        else if (flag == "--skip") skip = value;
        else if (flag == "--gone") gone = value;
        else if (flag == "--sleep") sleep_seconds = static_cast<unsigned>(value);
        else {
            std::fprintf(stderr, "barrier_check: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    // A 64-bit argument: the payload forge_batch writes (8 bytes) fits it.
    for (int d = 0; d < world.size(); ++d)
        world.async(d, [](buddy::comm&, std::uint64_t) { ++g_handled; }, static_cast<std::uint64_t>(world.rank()));
    if (until != nullptr) {
        // Every rank must run as many barriers: rank 0 looks, all learn it together.
        const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        for (int there = 0; there == 0;) {
            world.barrier();
            usleep(20000);
            there = world.rank() == 0 && (access(until, F_OK) == 0 || std::chrono::steady_clock::now() > limit);
            MPI_Allreduce(MPI_IN_PLACE, &there, 1, MPI_INT, MPI_MAX, world.mpi_comm());
        }
    }
    if (world.rank() == skip) return 0;  // the comm's destructor runs the final barrier
    if (world.rank() == gone) _exit(0);
    if (world.rank() == late) sleep(sleep_seconds);
    world.barrier();
    if (g_handled != static_cast<std::uint64_t>(world.size())) {
        std::fprintf(stderr, "barrier_check: rank %d handled %llu messages, expected %d\n", world.rank(),
                     static_cast<unsigned long long>(g_handled), world.size());
        return 1;
    }
    // Only without flags: with --until a forged record may make one rank
    // leave above (its count is off) while the others would go on into these
    // barriers, and the job must end in the barrier that counts the record.
    if (until != nullptr || late >= 0 || skip >= 0 || gone >= 0) {
        if (world.rank() == 0) std::printf("barrier_check: ok\n");
        return 0;
    }
    // Nothing written since that barrier: the next one is quiet after one
    // counting round.  After a message (rank 0 to the last rank, whose handler
    // answers), it takes more, and both messages have run when it returns.
    const std::uint64_t rounds_before = world.stats().quiescence_rounds;
    world.barrier();
    const std::uint64_t empty_rounds = world.stats().quiescence_rounds - rounds_before;
    if (empty_rounds != 1) {
        std::fprintf(stderr, "barrier_check: rank %d: an empty barrier took %llu rounds, expected 1\n", world.rank(),
                     static_cast<unsigned long long>(empty_rounds));
        return 1;
    }
    if (world.rank() == 0)
        world.async(world.size() - 1, [](buddy::comm& c, int from) {
            ++g_handled;
            c.async(from, [](buddy::comm&, int) { ++g_handled; }, c.rank());
        }, 0);
    const std::uint64_t busy_before = world.stats().quiescence_rounds;
    world.barrier();
    const std::uint64_t busy_rounds = world.stats().quiescence_rounds - busy_before;
    const std::uint64_t expected = static_cast<std::uint64_t>(world.size()) +
                                   (world.rank() == 0 ? 1 : 0) + (world.rank() == world.size() - 1 ? 1 : 0);
    if (g_handled != expected || busy_rounds < 2) {
        std::fprintf(stderr, "barrier_check: rank %d: after a message and its answer handled %llu (expected %llu) "
                     "in %llu rounds (expected 2 or more)\n", world.rank(), static_cast<unsigned long long>(g_handled),
                     static_cast<unsigned long long>(expected), static_cast<unsigned long long>(busy_rounds));
        return 1;
    }
    if (world.rank() == 0) std::printf("barrier_check: ok\n");
    return 0;
}
