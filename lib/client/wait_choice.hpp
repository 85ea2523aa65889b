// Which waiting policy a rank uses (knob `wait`): the choice `auto` resolved
// once, collectively, when a comm starts.  The policy itself (what one idle
// pass does) is ring::idle_step.
#pragma once

#include <mpi.h>

#include <string>

#include "buddy/config.hpp"
#include "buddy/ring/idle_backoff.hpp"

namespace buddy::detail {

struct wait_choice {
    ring::wait_mode mode = ring::wait_mode::yield;
    std::string why;  ///< for --buddy-verbose: the policy and, for auto, the figures it came from
};

/// What auto decides from: the figures of one node.
struct node_load {
    int ranks = 0;          ///< this job's ranks on the node
    int router_threads = 0; ///< router threads this job's ranks use on the node (host placement)
    int cores = 0;          ///< cores the node's ranks may run on (union of their affinity masks)
    int others = 0;         ///< tasks runnable at start besides the job's ranks (background load)
};

/// auto's rule: spin only when every rank and router thread, and whatever else
/// was running, has a core of its own.
inline bool spin_fits(const node_load& n) noexcept {
    return n.ranks + n.router_threads + n.others <= n.cores;
}

/// Collective over `world` (every rank calls it): the policy for this rank.
wait_choice choose_wait(MPI_Comm world, const config& settings);

}  // namespace buddy::detail
