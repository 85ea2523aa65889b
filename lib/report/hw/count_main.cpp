// buddy-hw-count: hardware counters around one process of a job.
//   mpirun -n 4 buddy-hw-count [--out FILE] -- build/apps/histogram --json
// Counts the command (and every thread and child it starts) with the events
// chosen for this CPU and prints {"pid": ..., "exit_status": ..., "hw_counters": {...}}
// as its last line (or to FILE.RANK, where RANK is OMPI_COMM_WORLD_RANK or the pid).
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "buddy/report/hw/json.hpp"
#include "buddy/report/hw/session.hpp"

int main(int argc, char** argv) {
    std::string out_path;
    int first = 1;
    for (; first < argc; ++first) {
        const std::string arg = argv[first];
        if (arg == "--") { ++first; break; }
        if (arg == "--out" && first + 1 < argc) { out_path = argv[++first]; continue; }
        std::cerr << "usage: buddy-hw-count [--out FILE] -- COMMAND [ARGS...]\n";
        return 2;
    }
    if (first >= argc) {
        std::cerr << "usage: buddy-hw-count [--out FILE] -- COMMAND [ARGS...]\n";
        return 2;
    }
    buddy::report::hw::session hw;
    hw.start();  // before fork: the child inherits the counters
    const pid_t child = fork();
    if (child < 0) {
        std::perror("buddy-hw-count: fork");
        return 1;
    }
    if (child == 0) {
        execvp(argv[first], argv + first);
        std::fprintf(stderr, "buddy-hw-count: cannot run %s: %s\n", argv[first], std::strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    hw.stop();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const std::string line = "{\"pid\": " + std::to_string(child) + ", \"exit_status\": " + std::to_string(code) +
                             ", " + buddy::report::hw::json_fragment(hw.result()) + "}";
    if (out_path.empty()) {
        std::cout << line << std::endl;
    } else {
        const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
        std::ofstream(out_path + "." + (rank ? std::string(rank) : std::to_string(child))) << line << '\n';
    }
    return code;
}
