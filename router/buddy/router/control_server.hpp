// buddy-router's control thread: one poll(2) loop over the listener and every
// rank's channel, handing each message to the job state machine.
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include "buddy/control/channel.hpp"
#include "buddy/router/jobs.hpp"

namespace buddy::router {

class control_server {
public:
    control_server(std::unique_ptr<control::listener> listener, job_registry& jobs);
    /// Drops every session that is still there.
    ~control_server();

    /// Waits up to `timeout_ms` for connections and messages and serves them.
    /// False when waiting itself failed (the loop should end).
    bool serve(int timeout_ms);
    /// Ends the sessions of ranks whose process is gone while their channel
    /// lingers (held open by a child of the rank), and of connections that
    /// said no accepted hello within `hello_wait`.
    void close_dead_ranks();
    static constexpr std::chrono::seconds hello_wait{10};
    bool idle() const noexcept { return sessions_.empty(); }
    /// Stops accepting, then drops every session (their ranks see the channel
    /// close and end with an error naming this router).
    void shut_down();

private:
    void accept_one();
    void close_session(int key);

    std::unique_ptr<control::listener> listener_;
    job_registry& jobs_;
    std::map<int, std::unique_ptr<rank_session>> sessions_;  ///< by readiness_fd()
};

}  // namespace buddy::router
