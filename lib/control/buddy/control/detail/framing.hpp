// What the control channels share: waiting on a descriptor until a deadline,
// and turning received bytes into a checked message.  The Unix channel gets
// its message boundaries from the kernel (SOCK_SEQPACKET), the TCP channel
// finds them from the header's length; both accept a message by the same
// checks, here.
#pragma once

#include <cstddef>
#include <span>

#include "buddy/control/channel.hpp"

namespace buddy::control::detail {

/// Milliseconds to `deadline` for poll(2), rounded up so a wait never ends
/// early; 0 once it has passed.
int poll_ms_until(clock::time_point deadline);

enum class wait_result { ready, timed_out, failed };
/// Waits until `fd` has one of `events` (POLLIN, POLLOUT) or an error or
/// hang-up to report, at most until `deadline`.  Interrupted polls resume.
wait_result wait_for(int fd, short events, clock::time_point deadline);

/// The length of the message whose first sizeof(message_header) bytes are
/// `head` (a stream reads that many next), or 0 when `head` cannot start a
/// control message: wrong magic or version, or a length below the header or
/// above max_message_bytes.  Checked before anything is sized by the length.
std::size_t framed_length(std::span<const std::byte> head) noexcept;

/// Fills `out` from one whole message in `bytes` (which must outlive the
/// reader it gets): `message` when magic, version and length check out,
/// `malformed` otherwise.
void open_received(std::span<const std::byte> bytes, received& out);

}  // namespace buddy::control::detail
