// Payload checksum (BUDDY_CHECKSUM=1): CRC-32C over whole batches and ring
// chunks, never per record.
//
// Why CRC-32C (Castagnoli, the polynomial of iSCSI, SCTP, ext4 and Btrfs):
//  * it is a checksum with proven detection, not just a hash with good odds:
//    every burst error of up to 32 bits and every error of up to 3 flipped
//    bits in buffers as large as our batches is caught, which is the kind of
//    damage a stray write or a torn copy does;
//  * both of our targets compute it in hardware, one instruction per 8 bytes
//    (SSE4.2 `crc32` on x86-64, the ARMv8 CRC extension on the BlueField's
//    Cortex-A78), chosen at run time, with a table fallback that gives the
//    same values everywhere (checked against the standard test vector);
//  * it needs no library: xxHash would be faster per byte but is not
//    installed here, and it gives no guarantee for small error patterns.
//
// The value is the standard one (initial value and final xor ~0), so
// crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace buddy::wire {

/// CRC-32C of `bytes` bytes at `data`; continues from `crc` (the value for
/// the bytes before) when given, so crc32c(b, crc32c(a)) == crc32c(a + b).
std::uint32_t crc32c(const void* data, std::size_t bytes, std::uint32_t crc = 0) noexcept;

/// The portable implementation (for tests: it must agree with the hardware one).
std::uint32_t crc32c_portable(const void* data, std::size_t bytes, std::uint32_t crc = 0) noexcept;

/// Which implementation crc32c() uses on this machine, for logs and docs.
const char* crc32c_implementation() noexcept;

/// What follows a checksummed batch's records, or a checksummed ring chunk's:
/// the CRC-32C of everything before it, and a zero word (keeps 8-alignment,
/// and a trailer with a non-zero word is refused: one more check for free).
struct checksum_trailer {
    std::uint32_t crc;
    std::uint32_t zero;
};
static_assert(sizeof(checksum_trailer) == 8);
inline constexpr std::size_t checksum_trailer_bytes = sizeof(checksum_trailer);

/// Writes the trailer for the `bytes` bytes at `data` right after them.
inline void write_checksum_trailer(std::byte* data, std::size_t bytes) noexcept {
    const checksum_trailer t{crc32c(data, bytes), 0};
    std::memcpy(data + bytes, &t, sizeof t);
}

/// Checks a buffer that ends with a trailer: true if the trailer matches what
/// precedes it.  `found`/`expected` receive the stored and computed values.
inline bool check_checksum_trailer(const std::byte* data, std::size_t bytes_with_trailer, std::uint32_t& found,
                                   std::uint32_t& expected) noexcept {
    found = expected = 0;
    if (bytes_with_trailer < checksum_trailer_bytes) return false;
    const std::size_t body = bytes_with_trailer - checksum_trailer_bytes;
    checksum_trailer t;
    std::memcpy(&t, data + body, sizeof t);
    found = t.crc;
    expected = crc32c(data, body);
    return t.zero == 0 && found == expected;
}

}  // namespace buddy::wire
