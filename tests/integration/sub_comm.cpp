// buddy::comm made from existing communicators: the application initialises
// MPI itself, makes one comm on MPI_COMM_WORLD and one on a split of it, and
// both carry messages at the same time without mixing them up.
#include <mpi.h>

#include <cstdint>
#include <cstdio>

#include "buddy/comm.hpp"

namespace {
std::uint64_t g_world_hits = 0, g_half_hits = 0, g_wrong = 0;
}

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    bool ok = true;
    {
        buddy::comm world(MPI_COMM_WORLD);
        buddy::config given;
        given.timeout_seconds = 7;
        given.depth = 2;
        buddy::comm group(half, given);
        // Settings given in code stay, except where a BUDDY_* variable is set
        // (the test sets BUDDY_DEPTH=3).
        ok = ok && group.settings().timeout_seconds == 7 && group.settings().depth == 3;
        if (!ok && rank == 0) std::printf("sub_comm: explicit settings lost\n");
        const int rounds = 2000;
        for (int i = 0; i < rounds; ++i) {
            world.async((world.rank() + i) % world.size(),
                        [](buddy::comm& c, int parity_of_sender) {
                            (void)parity_of_sender;
                            c.size() > 0 ? ++g_world_hits : ++g_wrong;
                        },
                        rank % 2);
            group.async((group.rank() + i) % group.size(),
                        [](buddy::comm&, int parity_of_sender, int my_parity_expected) {
                            parity_of_sender == my_parity_expected ? ++g_half_hits : ++g_wrong;
                        },
                        rank % 2, rank % 2);
        }
        world.barrier();
        group.barrier();
        std::uint64_t mine[3] = {g_world_hits, g_half_hits, g_wrong}, total[3];
        MPI_Allreduce(mine, total, 3, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        ok = ok && total[0] == static_cast<std::uint64_t>(rounds) * static_cast<std::uint64_t>(size) &&
             total[1] == static_cast<std::uint64_t>(rounds) * static_cast<std::uint64_t>(size) && total[2] == 0;
        if (rank == 0)
            std::printf("sub_comm: world %llu, halves %llu, wrong %llu: %s\n",
                        static_cast<unsigned long long>(total[0]), static_cast<unsigned long long>(total[1]),
                        static_cast<unsigned long long>(total[2]), ok ? "ok" : "FAILED");
    }
    MPI_Comm_free(&half);
    MPI_Finalize();
    return ok ? 0 : 1;
}
