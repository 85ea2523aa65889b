#include "wait_choice.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace buddy::detail {

namespace {

constexpr int mask_words = CPU_SETSIZE / 64;

/// Runnable tasks on the machine now (the kernel's procs_running), or -1.
int runnable_tasks() {
    std::ifstream stat("/proc/stat");
    std::string key;
    long value = 0;
    while (stat >> key) {
        if (key == "procs_running" && stat >> value) return static_cast<int>(value);
        stat.ignore(1 << 16, '\n');
    }
    return -1;
}

/// This job's figures for the node this rank is on (collective over `world`).
node_load measure_node(MPI_Comm world, const config& s) {
    MPI_Comm node;
    int rank = 0;
    MPI_Comm_rank(world, &rank);
    MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    node_load n;
    MPI_Comm_size(node, &n.ranks);
    if (s.where == placement::host)
        n.router_threads = static_cast<int>(s.routers_per_node * s.router_threads);

    // The cores any rank of the node may use: with --bind-to core each mask
    // holds one core, unbound every mask holds all of them.
    std::uint64_t mine[mask_words] = {}, all[mask_words] = {};
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) mine[c / 64] |= std::uint64_t{1} << (c % 64);
    MPI_Allreduce(mine, all, mask_words, MPI_UINT64_T, MPI_BOR, node);
    for (std::uint64_t w : all) n.cores += __builtin_popcountll(w);

    // Background load: the node's ranks all sample the runnable count at once,
    // busy (so each of them counts as runnable itself); the fewest seen, less
    // the ranks, is what else runs.  The minimum over samples and ranks keeps
    // a passing blip (a shell, the launcher waking) from counting.
    MPI_Barrier(node);
    int fewest = 1 << 30;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    for (int k = 0; k < 4 || std::chrono::steady_clock::now() < until; ++k) {
        const int r = runnable_tasks();
        if (r >= 0) fewest = std::min(fewest, r);
        if (k > 1000) break;
    }
    int node_fewest = 0;
    MPI_Allreduce(&fewest, &node_fewest, 1, MPI_INT, MPI_MIN, node);
    n.others = node_fewest == (1 << 30) ? 0 : std::max(0, node_fewest - n.ranks);
    MPI_Comm_free(&node);
    return n;
}

}  // namespace

wait_choice choose_wait(MPI_Comm world, const config& s) {
    wait_choice w;
    switch (s.wait) {
        case wait_policy::spin:
            w.mode = ring::wait_mode::spin;
            w.why = "spin (as set)";
            return w;
        case wait_policy::yield:
            w.mode = ring::wait_mode::yield;
            w.why = "yield (as set)";
            return w;
        case wait_policy::automatic: break;
    }
    const node_load n = measure_node(world, s);
    // One answer per job: a rank's node may fit while another's does not, and
    // ranks that spin waiting for a yielding node gain nothing.
    int fits = spin_fits(n) ? 1 : 0, all_fit = 0;
    MPI_Allreduce(&fits, &all_fit, 1, MPI_INT, MPI_MIN, world);
    w.mode = all_fit ? ring::wait_mode::spin : ring::wait_mode::yield;
    std::ostringstream why;
    why << (all_fit ? "spin" : "yield") << " (auto: on this node " << n.ranks << " ranks + " << n.router_threads
        << " router threads + " << n.others << " other runnable tasks on " << n.cores << " cores"
        << (fits && !all_fit ? "; another node does not fit" : "") << ")";
    w.why = why.str();
    return w;
}

}  // namespace buddy::detail
