// Barriers that cannot finish must end the job with an error naming the rank:
//   --late R --sleep S   rank R sleeps S seconds before its barrier() (the
//                        others must give up after BUDDY_TIMEOUT, naming R);
//   --skip R             rank R returns without calling barrier(), so its
//                        comm's final barrier meets the others' barrier()
//                        (the error must name R and both barriers).
// Without either, every rank sends to every other and the barrier completes.
#include <unistd.h>

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
    int late = -1, skip = -1;
    unsigned sleep_seconds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const int value = std::atoi(argv[i + 1]);
        if (flag == "--late") late = value;
        else if (flag == "--skip") skip = value;
        else if (flag == "--sleep") sleep_seconds = static_cast<unsigned>(value);
        else {
            std::fprintf(stderr, "barrier_check: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    for (int d = 0; d < world.size(); ++d) world.async(d, [](buddy::comm&, int) { ++g_handled; }, world.rank());
    if (world.rank() == skip) return 0;  // the comm's destructor runs the final barrier
    if (world.rank() == late) sleep(sleep_seconds);
    world.barrier();
    if (g_handled != static_cast<std::uint64_t>(world.size())) {
        std::fprintf(stderr, "barrier_check: rank %d handled %llu messages, expected %d\n", world.rank(),
                     static_cast<unsigned long long>(g_handled), world.size());
        return 1;
    }
    if (world.rank() == 0) std::printf("barrier_check: ok\n");
    return 0;
}
