// Placement host: this rank's control session with its buddy-router (the
// rank side of lib/control's protocol).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "buddy/control/channel.hpp"
#include "runtime.hpp"

namespace buddy::detail {

/// What the router said about itself and this rank's rings in its hello reply.
struct router_attachment {
    std::uint64_t instance = 0;  ///< tells routers apart across the job
    std::uint32_t pid = 0;
    std::uint32_t threads = 0;   ///< one outbound and one inbound ring per thread
    std::string node, out_segment, in_segment;
    std::vector<std::vector<std::byte>> addresses;  ///< one UCX worker address per thread
    std::string name;  ///< "buddy-router (pid P) on node N", for messages
};

class router_client {
public:
    /// Connects to the router at `socket_path` and says hello; when none
    /// listens and `may_start`, starts one first (router `router_index` of
    /// `routers` on this node).  A router that is just exiting drops the
    /// connection: that is tried again.  Fatal when no router answers in time.
    router_client(runtime& rt, std::string socket_path, unsigned local_index, unsigned router_index,
                  unsigned routers, bool may_start);
    /// Detaches (orderly goodbye); a router that does not answer is not waited for long.
    ~router_client();

    const router_attachment& router() const noexcept { return router_; }
    const std::string& socket_path() const noexcept { return socket_path_; }
    /// Live while the client is: lets router_watch look for job_failed and the close.
    control::channel& channel() noexcept { return *channel_; }

    /// Says the rings are mapped (the router unlinks their names).
    void attached();
    /// Hands the router the job's table (the first rank of each router does).
    void send_table(std::span<const std::byte> table_message);
    /// Sends a request and waits (bounded) for its reply; fatal on refusal.
    /// With `tolerate_close`, a router that closes instead yields an empty reader.
    control::reader request(std::span<const std::byte> m, control::type want, bool tolerate_close = false);

private:
    bool hello(unsigned local_index);
    std::string label() const;

    runtime& rt_;
    double timeout_;
    std::string socket_path_, started_;
    std::unique_ptr<control::channel> channel_;
    router_attachment router_;
};

}  // namespace buddy::detail
