#include "buddy/transport/message_writes.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

namespace buddy::transport {

write_target::write_target(worker& w) : worker_(w) {
    ucp_am_handler_param_t param{};
    param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
                       UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
    param.id = write_am_id;
    // Whole messages only: a write is applied at once, never in fragments.
    param.flags = UCP_AM_FLAG_WHOLE_MSG;
    param.cb = &write_target::on_message;
    param.arg = this;
    const ucs_status_t st = ucp_worker_set_am_recv_handler(w.handle(), &param);
    if (st != UCS_OK) throw_ucs("ucp_worker_set_am_recv_handler", st, w.name() + " (remote writes)");
}

write_target::~write_target() {
    ucp_am_handler_param_t param{};
    param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB;
    param.id = write_am_id;
    param.cb = nullptr;
    ucp_worker_set_am_recv_handler(worker_.handle(), &param);
}

void write_target::expose(void* base, std::size_t bytes) {
    windows_.push_back(window{reinterpret_cast<std::uintptr_t>(base), bytes});
}

void write_target::withdraw(void* base) noexcept {
    const auto b = reinterpret_cast<std::uintptr_t>(base);
    std::erase_if(windows_, [b](const window& w) { return w.base == b; });
}

std::byte* write_target::find(std::uint64_t address, std::size_t bytes) const noexcept {
    for (const window& w : windows_) {
        // Written so that no sum can wrap: address in the window, and the
        // bytes fit in what is left of it.
        if (address >= w.base && address - w.base <= w.bytes && bytes <= w.bytes - (address - w.base))
            return reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(address));
    }
    return nullptr;
}

void write_target::refuse(const char* why, const write_header& h, std::size_t length) noexcept {
    if (refused_++ != 0) return;
    char text[160];
    std::snprintf(text, sizeof text, "%s (op %u, address 0x%llx, %zu bytes)", why, static_cast<unsigned>(h.op),
                  static_cast<unsigned long long>(h.address), length);
    try {
        first_refusal_ = text;
    } catch (...) {  // out of memory while describing it: the count still shows it
    }
}

ucs_status_t write_target::on_message(void* arg, const void* header, std::size_t header_length, void* data,
                                      std::size_t length, const ucp_am_recv_param_t* param) {
    auto* self = static_cast<write_target*>(arg);
    write_header h;
    if (header_length != sizeof h) {
        self->refuse("a header of the wrong size", h, header_length);
        return UCS_OK;
    }
    std::memcpy(&h, header, sizeof h);  // UCX's buffer may be unaligned
    if ((param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0) {
        // The sender forces eager; a rendezvous offer would need a reply.
        self->refuse("a rendezvous write", h, length);
        return UCS_OK;
    }
    if (h.op == write_header::put) {
        std::byte* to = self->find(h.address, length);
        if (to == nullptr || h.value != length) {
            self->refuse(to == nullptr ? "a put outside every exposed window" : "a put whose length disagrees",
                         h, length);
            return UCS_OK;
        }
        std::memcpy(to, data, length);
    } else if (h.op == write_header::add64) {
        std::byte* to = self->find(h.address, sizeof(std::uint64_t));
        if (to == nullptr || h.address % alignof(std::uint64_t) != 0 || length != 0) {
            self->refuse("an atomic add outside every window, misaligned or with data", h, length);
            return UCS_OK;
        }
        // release: the puts this endpoint delivered before (a chunk before
        // the tail that covers it) are visible to whoever acquires the word;
        // the add is one whole store to a poller on another thread.
        std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(to))
            .fetch_add(h.value, std::memory_order_release);
    } else {
        self->refuse("an unknown operation", h, length);
    }
    return UCS_OK;
}

}  // namespace buddy::transport
