// The barrier's counting round (lib/client/sum_reduction) against
// MPI_Allreduce: 300 sums in a row of words that differ per rank and per
// round, with ranks starting each sum at different moments, at whatever rank
// count it is launched with (test_barrier.sh: 1 to 7, so every way of folding
// ranks into a power of two).  Prints "sum_check: ok" when all agree.
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "sum_reduction.hpp"

namespace {
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int failures = 0;
    {
        buddy::detail::sum_reduction sums(MPI_COMM_WORLD);
        for (std::uint64_t round = 0; round < 300; ++round) {
            buddy::detail::sum_reduction::vector local{};
            for (int i = 0; i < buddy::detail::sum_reduction::words; ++i)
                local[static_cast<std::size_t>(i)] = mix(round * 1000 + static_cast<std::uint64_t>(rank) * 10 +
                                                         static_cast<std::uint64_t>(i));
            // Some ranks come late to some sums: the others' messages wait for them.
            if (mix(round ^ static_cast<std::uint64_t>(rank)) % 7 == 0) usleep(200);
            sums.start(local);
            const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (!sums.test()) {
                if (std::chrono::steady_clock::now() > limit) {
                    std::fprintf(stderr, "sum_check: rank %d: sum %llu did not complete in 20 s\n", rank,
                                 static_cast<unsigned long long>(round));
                    MPI_Abort(MPI_COMM_WORLD, 2);
                }
            }
            buddy::detail::sum_reduction::vector expect{};
            MPI_Allreduce(local.data(), expect.data(), buddy::detail::sum_reduction::words, MPI_UINT64_T, MPI_SUM,
                          MPI_COMM_WORLD);
            if (sums.result() != expect) {
                if (failures == 0)
                    std::fprintf(stderr, "sum_check: rank %d of %d: sum %llu differs from MPI_Allreduce\n", rank, size,
                                 static_cast<unsigned long long>(round));
                ++failures;
            }
        }
        sums.close();
    }
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && all == 0) std::printf("sum_check: ok (%d ranks, 300 sums)\n", size);
    MPI_Finalize();
    return all == 0 ? 0 : 1;
}
