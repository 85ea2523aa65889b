#include "buddy/transport/active_message.hpp"

#include <cstring>
#include <new>

namespace buddy::transport {

namespace {
void on_send_done(void* request, ucs_status_t status, void* user_data) {
    auto* ticket = static_cast<send_ticket*>(user_data);
    ticket->done(ticket->token, status);
    ucp_request_free(request);
}
}  // namespace

send_state send_batch(endpoint& ep, const void* data, std::size_t bytes, send_ticket* ticket) {
    if (ep.failed())
        throw transport_error("cannot send to " + ep.peer_name() + ": " + ucs_status_string(ep.status()));
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    param.cb.send = &on_send_done;
    param.user_data = ticket;
    void* req = ucp_am_send_nbx(ep.handle(), batch_am_id, nullptr, 0, data, bytes, &param);
    if (req == nullptr) return send_state::completed;
    if (UCS_PTR_IS_ERR(req)) {
        throw_ucs("ucp_am_send_nbx", UCS_PTR_STATUS(req), "sending a batch to " + ep.peer_name());
    }
    return send_state::pending;
}

batch_receiver::batch_receiver(worker& w, buffer_source buffers) : worker_(w), buffers_(buffers) {
    ucp_am_handler_param_t param{};
    param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
                       UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
    param.id = batch_am_id;
    param.flags = UCP_AM_FLAG_WHOLE_MSG | UCP_AM_FLAG_PERSISTENT_DATA;
    param.cb = &batch_receiver::on_message;
    param.arg = this;
    const ucs_status_t st = ucp_worker_set_am_recv_handler(w.handle(), &param);
    if (st != UCS_OK) throw_ucs("ucp_worker_set_am_recv_handler", st, w.name());
}

batch_receiver::~batch_receiver() {
    received_batch b;
    while (take(b)) release(b);
    ucp_am_handler_param_t param{};
    param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB;
    param.id = batch_am_id;
    param.cb = nullptr;
    ucp_worker_set_am_recv_handler(worker_.handle(), &param);
}

bool batch_receiver::take(received_batch& out) noexcept {
    if (ready_.empty()) return false;
    out = ready_.front();
    ready_.pop_front();
    return true;
}

void batch_receiver::release(const received_batch& b) noexcept {
    if (b.ucx_descriptor) ucp_am_data_release(worker_.handle(), b.ucx_descriptor);
    if (b.owned) buffers_.release(buffers_.context, b.owned);
}

ucs_status_t batch_receiver::on_message(void* arg, const void*, std::size_t, void* data, std::size_t length,
                                        const ucp_am_recv_param_t* param) {
    auto* self = static_cast<batch_receiver*>(arg);
    if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
        // Rendezvous: pull the data into a buffer of ours; it is queued on completion.
        std::byte* buffer = self->buffers_.acquire(self->buffers_.context, length);
        auto* pending = new arriving_batch{self, buffer, length};
        ucp_request_param_t rp{};
        rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
        rp.cb.recv_am = &batch_receiver::on_rendezvous_done;
        rp.user_data = pending;
        void* req = ucp_am_recv_data_nbx(self->worker_.handle(), data, buffer, length, &rp);
        if (req == nullptr) {
            self->ready_.push_back(received_batch{buffer, length, nullptr, buffer});
            delete pending;
        } else if (UCS_PTR_IS_ERR(req)) {
            self->failure_ = UCS_PTR_STATUS(req);
            self->buffers_.release(self->buffers_.context, buffer);
            delete pending;
        } else {
            ++self->arriving_;
        }
        return UCS_OK;
    }
    const bool persistent = (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_DATA) != 0;
    const bool aligned = (reinterpret_cast<std::uintptr_t>(data) % 8) == 0;
    if (persistent && aligned) {
        // Keep UCX's buffer until the batch has been delivered: no copy.
        self->ready_.push_back(received_batch{static_cast<std::byte*>(data), length, data, nullptr});
        return UCS_INPROGRESS;
    }
    // Transient or misaligned data: copy it out (records must be 8-aligned for
    // zero-copy spans in handlers).
    std::byte* buffer = self->buffers_.acquire(self->buffers_.context, length);
    std::memcpy(buffer, data, length);
    self->ready_.push_back(received_batch{buffer, length, nullptr, buffer});
    return UCS_OK;
}

void batch_receiver::on_rendezvous_done(void* request, ucs_status_t status, std::size_t, void* user_data) {
    auto* pending = static_cast<arriving_batch*>(user_data);
    batch_receiver* self = pending->self;
    --self->arriving_;
    if (status == UCS_OK) {
        self->ready_.push_back(received_batch{pending->buffer, pending->bytes, nullptr, pending->buffer});
    } else {
        self->failure_ = status;
        self->buffers_.release(self->buffers_.context, pending->buffer);
    }
    delete pending;
    ucp_request_free(request);
}

}  // namespace buddy::transport
