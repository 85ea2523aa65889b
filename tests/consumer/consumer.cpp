// A program outside buddy's tree, built against an installed (or subproject)
// buddy: tests/integration/test_consumer.sh builds it with pkg-config, CMake
// and as a meson subproject, and runs it at 2 ranks under each placement.
//
// Every rank sends `messages` records to every rank; each carries a payload
// and its checksum, which the receiver recomputes, and the first handler
// passes the message on to the next rank, whose handler checks it again.  After barrier() the job
// compares what was handled with what was sent, per rank and in total, so a
// lost, duplicated, misrouted or corrupted message fails the run.
#include <buddy/comm.hpp>
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::uint64_t handled = 0;
std::uint64_t checksum_errors = 0;

std::uint64_t checksum(const std::vector<std::uint32_t>& words) {
    std::uint64_t sum = 0;
    for (const std::uint32_t w : words) sum = sum * 31 + w;
    return sum;
}

void receive(std::uint64_t sum, const std::vector<std::uint32_t>& payload) {
    ++handled;
    if (checksum(payload) != sum) ++checksum_errors;
}

}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    const long messages = argc > 1 ? std::atol(argv[1]) : 20000;
    const int me = world.rank();
    const int ranks = world.size();

    for (long i = 0; i < messages; ++i) {
        for (int dest = 0; dest < ranks; ++dest) {
            std::vector<std::uint32_t> words(1 + static_cast<std::size_t>(i % 7));
            for (std::size_t w = 0; w < words.size(); ++w)
                words[w] = static_cast<std::uint32_t>(me * 1000003 + i * 7 + static_cast<long>(w));
            // First delivery: check, then relay to the next rank (a handler
            // that sends, which barrier() must wait for too).
            world.async(
                dest,
                [](buddy::comm& c, std::uint64_t sum, const std::vector<std::uint32_t>& payload) {
                    receive(sum, payload);
                    c.async((c.rank() + 1) % c.size(),
                            [](buddy::comm&, std::uint64_t s, const std::vector<std::uint32_t>& p) { receive(s, p); },
                            sum, payload);
                },
                checksum(words), words);
        }
    }
    world.barrier();

    // Each rank received `messages` from every rank, plus one relayed copy of
    // each message its predecessor received first.
    const std::uint64_t expected_here = 2ull * static_cast<std::uint64_t>(messages) * static_cast<std::uint64_t>(ranks);
    std::uint64_t local[3] = {handled, checksum_errors, handled == expected_here ? 0ull : 1ull};
    std::uint64_t total[3] = {};
    MPI_Allreduce(local, total, 3, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    const std::uint64_t expected_total = expected_here * static_cast<std::uint64_t>(ranks);
    const bool ok = total[0] == expected_total && total[1] == 0 && total[2] == 0;
    if (me == 0)
        std::printf("consumer: placement=%s ranks=%d handled=%llu expected=%llu checksum_errors=%llu %s\n",
                    world.placement_name(), ranks, static_cast<unsigned long long>(total[0]),
                    static_cast<unsigned long long>(expected_total), static_cast<unsigned long long>(total[1]),
                    ok ? "OK" : "WRONG");
    return ok ? 0 : 1;
}
