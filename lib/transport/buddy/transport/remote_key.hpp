// A peer's packed remote key (memory_region::packed_rkey on its side),
// unpacked on the endpoint to that peer: what RMA operations to the peer's
// memory name.  Valid while the endpoint is.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <span>

#include "buddy/transport/endpoint.hpp"

namespace buddy::transport {

class remote_key {
public:
    remote_key() = default;
    /// Throws transport_error naming the peer if UCX cannot unpack the key
    /// (malformed, or made by a context without RMA).
    remote_key(endpoint& ep, std::span<const std::byte> packed);
    ~remote_key();
    remote_key(remote_key&& other) noexcept;
    remote_key& operator=(remote_key&& other) noexcept;
    remote_key(const remote_key&) = delete;
    remote_key& operator=(const remote_key&) = delete;

    ucp_rkey_h handle() const noexcept { return rkey_; }

private:
    ucp_rkey_h rkey_ = nullptr;
};

}  // namespace buddy::transport
