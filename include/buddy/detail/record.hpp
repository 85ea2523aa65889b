// Record format: one message as it travels through rings and batches.
//
// A record is an 8-byte header followed by the payload, padded to a multiple of
// 8 bytes so that the next record (and any array inside a payload) is 8-aligned.
// Payloads of 65535 bytes or more use an extended header: the 16-bit size field
// holds the escape value and a 32-bit size follows.  The common case (small
// fire-and-forget messages) therefore costs 8 bytes of header, and the router
// can forward a record knowing only `dest` and the length: it never decodes the
// payload or looks at the handler.
//
// This header has no dependencies: it is included by the public API's inline
// hot path, by the engine and by the router.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace buddy::wire {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian; big-endian hosts are not supported");

inline constexpr std::size_t record_alignment = 8;
inline constexpr std::size_t short_header_bytes = 8;
inline constexpr std::size_t long_header_bytes = 16;
inline constexpr std::uint16_t long_size_escape = 0xFFFF;
/// Largest payload one record can describe (the extended size field is 32 bits).
inline constexpr std::size_t max_payload_bytes = 0xFFFFFFF0u;

struct record_header {
    std::uint32_t dest;     ///< destination rank within the job
    std::uint16_t handler;  ///< handler id, meaningful only to the destination binary
    std::uint16_t size;     ///< payload bytes, or long_size_escape
};
static_assert(sizeof(record_header) == short_header_bytes);

constexpr std::size_t align_up(std::size_t n) noexcept {
    return (n + record_alignment - 1) & ~(record_alignment - 1);
}

constexpr std::size_t header_bytes_for(std::size_t payload) noexcept {
    return payload < long_size_escape ? short_header_bytes : long_header_bytes;
}

/// Bytes a record with this payload occupies in a ring or batch, padding included.
constexpr std::size_t record_bytes_for(std::size_t payload) noexcept {
    return align_up(header_bytes_for(payload) + payload);
}

/// Writes a record header at `at` (8-aligned) and returns where the payload goes.
/// The caller has checked that record_bytes_for(payload) bytes are available.
inline std::byte* write_header(std::byte* at, std::uint32_t dest, std::uint16_t handler,
                               std::size_t payload) noexcept {
    if (payload < long_size_escape) [[likely]] {
        // The header as one little-endian word, the layout of record_header.
        // Filling a record_header field by field made GCC insert each field into
        // the previous record's header value, a dependency carried from one
        // async() to the next (through the stack when registers run short).
        const std::uint64_t word = std::uint64_t{dest} | std::uint64_t{handler} << 32 |
                                   static_cast<std::uint64_t>(payload) << 48;
        static_assert(offsetof(record_header, handler) == 4 && offsetof(record_header, size) == 6);
        std::memcpy(at, &word, sizeof word);
        return at + short_header_bytes;
    }
    const record_header h{dest, handler, long_size_escape};
    const std::uint32_t ext[2] = {static_cast<std::uint32_t>(payload), 0};
    std::memcpy(at, &h, sizeof h);
    std::memcpy(at + sizeof h, ext, sizeof ext);
    return at + long_header_bytes;
}

/// Writes zero padding after a payload so records never carry stale bytes.
inline void write_padding(std::byte* payload_end, std::size_t header_and_payload) noexcept {
    const std::size_t pad = align_up(header_and_payload) - header_and_payload;
    if (pad != 0) std::memset(payload_end, 0, pad);
}

/// The writable window records are appended to: the rest of the batch (or ring
/// chunk) a destination's records currently go into.  The public API's inline
/// async() writes at `cursor` while `limit - cursor` is large enough, and asks
/// the engine for a new window otherwise.  Counting records here (one add on a
/// line the producer already holds) spares the engine a walk over the batch.
struct window {
    std::byte* cursor = nullptr;
    std::byte* limit = nullptr;
    std::uint64_t records = 0;  ///< records written into the current batch or chunk

    /// Takes the record just written at `cursor`, ending at `record_end`, into
    /// the batch: the one place a window grows, so its cursor and its count
    /// never disagree.  It takes the end rather than a size because the record
    /// was written through a std::byte pointer, which may alias `cursor`: a
    /// caller that kept the record's address in a register spares a reload.
    void commit(std::byte* record_end) noexcept {
        cursor = record_end;
        ++records;
    }

    /// Copies a whole record, header and padding included, into the window:
    /// how a router or a forwarding rank passes a record on.  The caller has
    /// made room for it.
    void copy_in(const std::byte* record, std::size_t record_bytes) noexcept {
        std::byte* const at = cursor;
        std::memcpy(at, record, record_bytes);
        commit(at + record_bytes);
    }
};

inline record_header read_header(const std::byte* at) noexcept {
    record_header h;
    std::memcpy(&h, at, sizeof h);
    return h;
}

}  // namespace buddy::wire
