// Placement host: this rank's control session with its buddy-router (the
// rank side of lib/control's protocol).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "buddy/control/bodies.hpp"
#include "buddy/control/channel.hpp"
#include "runtime.hpp"

namespace buddy::detail {

using clock_deadline = control::clock::time_point;

/// What the router said about itself and this rank's rings in its hello reply.
struct router_attachment {
    std::uint64_t instance = 0;  ///< tells routers apart across the job
    std::uint32_t pid = 0;
    std::uint32_t threads = 0;   ///< one outbound and one inbound ring per thread
    std::string node, out_segment, in_segment;
    std::vector<std::vector<std::byte>> addresses;  ///< one UCX worker address per thread
    /// Placement dpu (router_endpoint::rma): the router's rings over RMA, one per thread.
    std::vector<control::rma_thread_rings> rma;
    std::string name;  ///< "buddy-router (pid P) on node N", for messages
};

/// Where this rank's router listens.
struct router_endpoint {
    /// A Unix socket path (placement host), or tcp://HOST:PORT (placement
    /// dpu: from the dpu map).
    std::string address;
    /// Host only: when none listens, start router `router_index` of `routers`
    /// on this node (the first ranks of the node do).
    bool may_start = false;
    unsigned router_index = 0, routers = 1;
    /// Placement dpu: ask for rings over RMA (hello_flag_rma); a router that
    /// does not offer them is fatal.
    bool rma = false;
};

class router_client {
public:
    /// Connects to the router at `where` and says hello (with the job's
    /// secret); a Unix socket nobody listens on gets a router started when
    /// `may_start`.  A router that is just exiting drops the connection: that
    /// is tried again.  Fatal when no router answers in time: min(BUDDY_TIMEOUT,
    /// 30 s) on a Unix socket, BUDDY_TIMEOUT over TCP (each connect attempt
    /// bounded by it too), naming the address.
    router_client(runtime& rt, router_endpoint where, unsigned local_index);
    /// Detaches (orderly goodbye); a router that does not answer is not waited for long.
    ~router_client();

    const router_attachment& router() const noexcept { return router_; }
    /// The socket path or tcp:// address it is connected to.
    const std::string& address() const noexcept { return address_; }
    /// Live while the client is: lets router_watch look for job_failed and the close.
    control::channel& channel() noexcept { return *channel_; }

    /// Says the rings are mapped (the router unlinks their names).
    void attached();
    /// The same with a body: a whole `attached` message (placement dpu: the
    /// rank's rings over RMA, control::put_rma_rings).
    void attached(std::span<const std::byte> message);
    /// Hands the router the job's table (the first rank of each router does).
    void send_table(std::span<const std::byte> table_message);
    /// Sends a request and waits (bounded) for its reply; fatal on refusal.
    /// With `tolerate_close`, a router that closes instead yields an empty reader.
    control::reader request(std::span<const std::byte> m, control::type want, bool tolerate_close = false);

private:
    bool hello(unsigned local_index);
    std::string label() const;
    /// One connection attempt; null when nobody answered (why in `why_not`;
    /// `busy`: a local router listens but does not accept now, so starting
    /// another one would not help).
    std::unique_ptr<control::channel> connect_once(clock_deadline deadline, std::string& why_not, bool& busy);

    runtime& rt_;
    double timeout_;
    std::string address_, started_;
    bool tcp_ = false, rma_ = false;
    std::unique_ptr<control::channel> channel_;
    router_attachment router_;
};

}  // namespace buddy::detail
