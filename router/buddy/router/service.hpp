// The buddy-router service: control socket, ring segments, router threads.
#pragma once

#include "buddy/config.hpp"

#include <string>
#include <vector>

namespace buddy::router {

struct router_options {
    std::string socket;              ///< control socket path (empty: default for index)
    /// "tcp://ADDR:PORT": listen on TCP instead of the Unix socket (a router
    /// on a DPU, placement dpu); always a service.  Empty: the Unix socket.
    std::string listen;
    unsigned threads = 1;            ///< router threads, each with its rings and UCX worker
    std::vector<int> cores;          ///< --router-cores (empty: chosen with hwloc)
    unsigned index = 0;              ///< which router of this node (for the default cores and socket)
    unsigned routers_per_node = 1;
    bool service = false;            ///< stay when the last job detaches
    double idle_exit_seconds = 30;   ///< without --service: exit if no job ever came for this long
    bool verbose = false;
    /// Idle waiting of the router threads; automatic: spin while the ranks
    /// attached here and the threads fit the cores this process may use.
    wait_policy wait = wait_policy::automatic;
};

/// Runs until the last job detaches (or a signal, or forever with `service`).
/// Returns the process exit status.
int run_router(const router_options& o);

}  // namespace buddy::router
