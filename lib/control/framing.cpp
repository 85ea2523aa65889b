#include "buddy/control/detail/framing.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace buddy::control::detail {

int poll_ms_until(clock::time_point deadline) {
    const auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::min<decltype(ms)>(ms, 3'600'000));
}

wait_result wait_for(int fd, short events, clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, poll_ms_until(deadline));
        if (n < 0) {
            if (errno == EINTR) continue;
            return wait_result::failed;
        }
        if (n > 0) return wait_result::ready;  // errors and hang-ups too: the next call reports them
        // poll may wake a little early (rounding); only a passed deadline is a timeout.
        if (clock::now() >= deadline) return wait_result::timed_out;
    }
}

std::size_t framed_length(std::span<const std::byte> head) noexcept {
    message_header h{};
    if (head.size() < sizeof h) return 0;
    std::memcpy(&h, head.data(), sizeof h);
    if (h.magic != magic || h.version != version || h.bytes < sizeof h || h.bytes > max_message_bytes) return 0;
    return h.bytes;
}

void open_received(std::span<const std::byte> bytes, received& out) {
    out.body = reader(bytes);
    out.status = out.body.open(out.header) ? receive_status::message : receive_status::malformed;
}

}  // namespace buddy::control::detail
