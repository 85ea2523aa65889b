#include "buddy/transport/endpoint.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace buddy::transport {

endpoint::endpoint(worker& w, std::span<const std::byte> peer_address, std::string peer_name,
                   failure_detection detection)
    : state_(new shared_state{std::move(peer_name), UCS_OK}) {
    ucp_ep_params_t params{};
    params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                        UCP_EP_PARAM_FIELD_ERR_HANDLER;
    params.address = reinterpret_cast<const ucp_address_t*>(peer_address.data());
    params.err_mode = detection == failure_detection::by_transport ? UCP_ERR_HANDLING_MODE_PEER
                                                                  : UCP_ERR_HANDLING_MODE_NONE;
    params.err_handler.cb = &endpoint::on_error;
    params.err_handler.arg = state_;
    const ucs_status_t st = ucp_ep_create(w.handle(), &params, &ep_);
    if (st != UCS_OK) {
        const std::string name = state_->peer_name;
        delete state_;
        state_ = nullptr;
        throw_ucs("ucp_ep_create", st, "connecting " + w.name() + " to " + name);
    }
}

void endpoint::on_error(void* arg, ucp_ep_h, ucs_status_t status) {
    static_cast<shared_state*>(arg)->status = status;
}

endpoint::~endpoint() {
    // An endpoint not closed explicitly is abandoned: its worker is being torn
    // down anyway and UCX reclaims it there.
    delete state_;
}

endpoint::endpoint(endpoint&& other) noexcept
    : ep_(std::exchange(other.ep_, nullptr)), state_(std::exchange(other.state_, nullptr)) {}

endpoint& endpoint::operator=(endpoint&& other) noexcept {
    if (this != &other) {
        delete state_;
        ep_ = std::exchange(other.ep_, nullptr);
        state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
}

std::string endpoint::describe() const {
    if (!ep_) return "(no endpoint)";
    char* text = nullptr;
    std::size_t bytes = 0;
    FILE* f = ::open_memstream(&text, &bytes);
    if (f == nullptr) return "(open_memstream failed)";
    ucp_ep_print_info(ep_, f);
    std::fclose(f);
    std::string out(text, bytes);
    std::free(text);
    return out;
}

void endpoint::close(worker& w, double timeout_seconds) noexcept {
    if (!ep_) return;
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    // A failed peer cannot take part in a graceful close; force it.
    param.flags = failed() ? UCP_EP_CLOSE_FLAG_FORCE : 0;
    void* req = ucp_ep_close_nbx(ep_, &param);
    if (UCS_PTR_IS_PTR(req)) {
        const auto deadline = std::chrono::steady_clock::now() +
                              std::chrono::duration<double>(timeout_seconds);
        while (ucp_request_check_status(req) == UCS_INPROGRESS &&
               std::chrono::steady_clock::now() < deadline) {
            w.progress();
        }
        if (ucp_request_check_status(req) == UCS_INPROGRESS) ucp_request_cancel(w.handle(), req);
        ucp_request_free(req);
    }
    ep_ = nullptr;
}

}  // namespace buddy::transport
