#include "buddy/transport/remote_key.hpp"

#include <utility>

namespace buddy::transport {

remote_key::remote_key(endpoint& ep, std::span<const std::byte> packed) {
    if (packed.empty()) throw transport_error("empty remote key from " + ep.peer_name());
    const ucs_status_t st = ucp_ep_rkey_unpack(ep.handle(), packed.data(), &rkey_);
    if (st != UCS_OK) {
        rkey_ = nullptr;
        throw_ucs("ucp_ep_rkey_unpack", st, "remote key of " + std::to_string(packed.size()) +
                                                " bytes from " + ep.peer_name());
    }
}

remote_key::~remote_key() {
    if (rkey_ != nullptr) ucp_rkey_destroy(rkey_);
}

remote_key::remote_key(remote_key&& other) noexcept : rkey_(std::exchange(other.rkey_, nullptr)) {}

remote_key& remote_key::operator=(remote_key&& other) noexcept {
    if (this != &other) {
        if (rkey_ != nullptr) ucp_rkey_destroy(rkey_);
        rkey_ = std::exchange(other.rkey_, nullptr);
    }
    return *this;
}

}  // namespace buddy::transport
