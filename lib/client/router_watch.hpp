// Placement host (and dpu, over TCP): is this rank's buddy-router still there?
//
// Every wait of the data path calls check(); a router that died, closed the
// control channel, or reported the job failed ends the rank with an error
// naming it.  Cheap when called often: it looks at most every 50 ms (5 ms
// inside waits).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "buddy/control/channel.hpp"
#include "runtime.hpp"

namespace buddy::detail {

class router_watch {
public:
    /// `channel` must outlive the watch; `name` and `socket_path` go into
    /// errors.  The router's pid is checked only where the kernel vouched for
    /// the channel's peer (a Unix socket: the router is on this machine).
    router_watch(runtime& rt, control::channel& channel, std::uint32_t router_pid, std::string name,
                 std::string socket_path);

    /// Fatal when the router is gone.  `waiting`: called from inside a wait
    /// (looks more often, since the wait depends on the router).
    void check(bool waiting);

private:
    runtime& rt_;
    control::channel& channel_;
    std::uint32_t router_pid_;
    std::string name_, where_;
    std::chrono::steady_clock::time_point last_check_ = std::chrono::steady_clock::now();
};

}  // namespace buddy::detail
