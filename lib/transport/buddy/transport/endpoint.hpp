// Endpoints to peers, with UCX's peer-failure detection on: when a peer dies,
// UCX calls back and the endpoint is marked failed, so every wait on that peer
// can stop with an error that names it instead of hanging.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "buddy/transport/worker.hpp"

namespace buddy::transport {

class endpoint {
public:
    endpoint() = default;
    /// How a dead peer is noticed.
    enum class failure_detection {
        /// UCX reports a dead peer (UCP_ERR_HANDLING_MODE_PEER).  UCX 1.13 then
        /// uses only transports that support it, which excludes shared memory:
        /// use it between nodes (routers), not between ranks of one node.
        by_transport,
        /// The caller bounds its waits and checks liveness by other means
        /// (MPI's job control, a router's control socket).  Allows every transport.
        by_caller,
    };

    /// Connects to the worker whose address is `peer_address`; `peer_name` is
    /// what errors call the peer ("rank 3", "router node7/0").
    endpoint(worker& w, std::span<const std::byte> peer_address, std::string peer_name,
             failure_detection detection);
    ~endpoint();
    endpoint(endpoint&& other) noexcept;
    endpoint& operator=(endpoint&& other) noexcept;
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    ucp_ep_h handle() const noexcept { return ep_; }
    const std::string& peer_name() const noexcept { return state_->peer_name; }
    /// UCS_OK while the peer is reachable; the failure reported by UCX otherwise.
    ucs_status_t status() const noexcept { return state_ ? state_->status : UCS_ERR_NOT_CONNECTED; }
    bool failed() const noexcept { return status() != UCS_OK; }

    /// UCX's description of the endpoint (its lanes: which transport carries
    /// active messages, RMA and atomics), for diagnostics and docs.
    std::string describe() const;

    /// Closes gracefully, progressing `w` until done or `timeout_seconds` pass.
    void close(worker& w, double timeout_seconds) noexcept;

private:
    struct shared_state {
        std::string peer_name;
        ucs_status_t status = UCS_OK;
    };
    static void on_error(void* arg, ucp_ep_h ep, ucs_status_t status);
    ucp_ep_h ep_ = nullptr;
    // Heap-held so the error callback's argument stays valid when the endpoint moves.
    shared_state* state_ = nullptr;
};

}  // namespace buddy::transport
