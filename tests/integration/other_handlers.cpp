// A second binary whose handler registry differs from api_check's: a job that
// mixes the two must be refused at start with a clear error, not run the
// wrong handlers.
#include <cstdio>

#include "buddy/comm.hpp"

int main(int argc, char** argv) {
    try {
        buddy::comm world(&argc, &argv);
        world.async(0, [](buddy::comm&, double) {}, 1.0);
        world.barrier();
    } catch (const std::exception& e) {
        std::printf("refused: %s\n", e.what());
        return 3;
    }
    return 0;
}
