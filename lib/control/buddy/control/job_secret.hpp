// The per-job secret: how a router that cannot ask the kernel who a peer is
// (TCP, placement dpu) tells a job's ranks from anyone else who knows the
// job's id.
//
// Rank 0 draws it at start (getrandom(2)) and broadcasts it with the job id
// (MPI); every rank presents it in each hello, and a router binds a job id to
// the first secret it accepts and refuses any other for that id.  All zeros
// is "no secret": refused over TCP.  Comparisons take the same time whatever
// the bytes, so a peer cannot find the secret byte by byte from how fast it
// is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace buddy::control {

/// 256 bits: far beyond guessing, and the hello has room.
inline constexpr std::size_t secret_bytes = 32;
using secret_view = std::span<const std::uint8_t, secret_bytes>;

/// Fills `out` with fresh random bytes from getrandom(2) (never all zeros).
/// Throws control_error when the kernel cannot give them.
void draw_secret(std::span<std::uint8_t, secret_bytes> out);

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
bool secrets_equal(secret_view a, secret_view b) noexcept;

/// Whether `s` is all zeros (no secret given), in time independent of its bytes.
bool secret_missing(secret_view s) noexcept;

}  // namespace buddy::control
