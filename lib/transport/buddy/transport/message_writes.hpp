// Remote writes carried as active messages: the other carrier of rma_channel.
//
// Over transports without remote-access hardware (tcp; shared memory for
// memory the caller allocated) UCX 1.13 emulates put and atomics with
// messages that the *target* applies and then acknowledges.  An
// acknowledgement that cannot be sent because the initiator just died ends
// the target process (ucs_fatal "unexpected error: Endpoint timeout" from
// ucp_put_handler): a router shared by several jobs would lose them all when
// one rank is killed.  This carrier sends the same writes as eager active
// messages that nobody acknowledges: the target's handler, run when its
// worker progresses, checks the address against the windows it exposed and
// copies the bytes (or adds the value) there, which is what UCX's emulation
// did, minus the reply.  Messages of one endpoint arrive in the order sent
// (one lane), so a fence needs nothing more.
//
// Target side: one write_target per worker; expose() each block that peers
// may write (the ring copies), withdraw() before unmapping it.  A write that
// falls outside every window, or is malformed, is refused and counted, never
// applied.  The table is touched only by the thread that progresses the
// worker (the handler runs inside its progress call), so it takes no lock.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "buddy/transport/worker.hpp"

namespace buddy::transport {

inline constexpr unsigned write_am_id = 0x43;

/// The active message header of one remote write (host byte order: both
/// sides run this code; a mixed-endian pair would need RDMA hardware anyway).
struct write_header {
    enum : std::uint32_t { put = 1, add64 = 2 };
    std::uint64_t address = 0;  ///< in the target's address space
    std::uint64_t value = 0;    ///< add64: the addend; put: the data's length
    std::uint32_t op = 0;
    std::uint32_t reserved = 0;
};
static_assert(sizeof(write_header) == 24);

class write_target {
public:
    explicit write_target(worker& w);
    ~write_target();
    write_target(const write_target&) = delete;
    write_target& operator=(const write_target&) = delete;

    /// Peers may write [base, base + bytes) from now on.
    void expose(void* base, std::size_t bytes);
    /// No longer: later writes there are refused.
    void withdraw(void* base) noexcept;

    /// Writes refused so far (outside every window, malformed, or not eager).
    std::uint64_t refused() const noexcept { return refused_; }
    /// What the first refused write was ("" while none).
    const std::string& first_refusal() const noexcept { return first_refusal_; }

private:
    struct window {
        std::uintptr_t base;
        std::size_t bytes;
    };
    static ucs_status_t on_message(void* arg, const void* header, std::size_t header_length, void* data,
                                   std::size_t length, const ucp_am_recv_param_t* param);
    std::byte* find(std::uint64_t address, std::size_t bytes) const noexcept;
    void refuse(const char* why, const write_header& h, std::size_t length) noexcept;

    worker& worker_;
    std::vector<window> windows_;  ///< few (two per ring pair): a scan
    std::uint64_t refused_ = 0;
    std::string first_refusal_;
};

}  // namespace buddy::transport
