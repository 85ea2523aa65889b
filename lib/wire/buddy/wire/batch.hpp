// Batch format: the records for one next hop, packed into one network buffer.
//
//   [batch_header (32 bytes)][record][record]...
//
// The header names the job (so a router serving several jobs can refuse foreign
// traffic), the sender, and how many records and bytes follow.  A receiver
// validates the whole batch with parse_batch() before it delivers any record, so
// a malformed batch from the network is refused whole and changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "buddy/detail/record.hpp"
#include "buddy/wire/record_cursor.hpp"

namespace buddy::wire {

inline constexpr std::uint32_t batch_magic = 0x31594442;  // "BDY1" read little-endian
inline constexpr std::uint16_t batch_version = 1;

struct batch_header {
    std::uint32_t magic;
    std::uint16_t version;
    std::uint16_t flags;    ///< reserved, must be 0
    std::uint64_t job;      ///< job id the batch belongs to
    std::uint32_t source;   ///< sending rank (inproc) or router id (host, dpu)
    std::uint32_t records;  ///< number of records that follow
    std::uint64_t bytes;    ///< bytes of records that follow the header
};
static_assert(sizeof(batch_header) == 32);
static_assert(sizeof(batch_header) % record_alignment == 0);

inline constexpr std::size_t batch_header_bytes = sizeof(batch_header);

/// What a receiver accepts; fixed per job (and per router hop): the job, and
/// what each record may hold.
struct batch_limits {
    std::uint64_t job = 0;
    std::uint32_t ranks = 0;            ///< dest must be < ranks
    std::uint32_t handlers = 0;         ///< handler must be < handlers (0: not checked, e.g. router)
    std::size_t max_payload = max_payload_bytes;
    std::uint32_t only_dest = any_dest;  ///< if set, every record must be for this rank
    static constexpr std::uint32_t any_dest = record_limits::any_dest;

    record_limits records() const noexcept { return record_limits{ranks, handlers, max_payload, only_dest}; }
};

struct parse_result {
    parse_errc error = parse_errc::ok;
    std::size_t offset = 0;       ///< byte offset of the offending field or record
    std::uint64_t value = 0;      ///< the offending value (dest, handler, size, ...)
    batch_header header{};        ///< valid when error == ok
    std::span<const std::byte> records;  ///< valid when error == ok

    explicit operator bool() const noexcept { return error == parse_errc::ok; }
};

/// A failed parse_result carrying a record error.
inline parse_result batch_error(const record_error& e) noexcept {
    parse_result r;
    r.error = e.error;
    r.offset = e.offset;
    r.value = e.value;
    return r;
}

/// Checks the batch header alone: magic, version, flags, job and length.
parse_result parse_batch_header(std::span<const std::byte> buffer, const batch_limits& limits) noexcept;

/// Walks a batch, checking every record before visiting it, and stops at the
/// first bad one.  fn(const record_header&, const std::byte* payload,
/// std::size_t payload_bytes) sees only records that passed every check; the
/// returned result says whether the whole batch did (records before a bad one
/// have been visited: use parse_batch() first where that matters).
template <typename Fn>
inline parse_result for_each_checked_record(std::span<const std::byte> buffer, const batch_limits& limits,
                                            Fn&& fn) {
    parse_result r = parse_batch_header(buffer, limits);
    if (!r) return r;
    record_cursor cursor(buffer, limits.records(), batch_header_bytes);
    std::uint64_t count = 0;
    for (record_view v; cursor.next(v); ++count) fn(v.header, v.payload, v.payload_bytes);
    const record_error& e = cursor.error();
    if (e.error != parse_errc::ok) [[unlikely]] return batch_error(e);
    if (count != r.header.records) [[unlikely]]
        return batch_error(record_error{parse_errc::count_mismatch, 16, r.header.records});
    return r;
}

/// Checks a whole batch without visiting it; on success `records` spans
/// exactly the record bytes.  Never reads outside `buffer`; never throws.
inline parse_result parse_batch(std::span<const std::byte> buffer, const batch_limits& limits) noexcept {
    return for_each_checked_record(buffer, limits, [](const record_header&, const std::byte*, std::size_t) {});
}

/// A sentence naming the error, the offset and the value, for fatal messages and logs.
std::string describe(const parse_result& r);

/// Visits every record of a batch that parse_batch() accepted.
/// fn(const record_header&, const std::byte* payload, std::size_t payload_bytes,
///    const std::byte* record, std::size_t record_bytes)
template <typename Fn>
inline void for_each_record(std::span<const std::byte> records, Fn&& fn) {
    trusted_record_cursor cursor(records);
    for (record_view v; cursor.next(v);) fn(v.header, v.payload, v.payload_bytes, v.record, v.record_bytes);
}

/// Fills in a batch header at the start of `buffer`.
inline void write_batch_header(std::byte* buffer, std::uint64_t job, std::uint32_t source,
                               std::uint32_t records, std::uint64_t bytes) noexcept {
    const batch_header h{batch_magic, batch_version, 0, job, source, records, bytes};
    std::memcpy(buffer, &h, sizeof h);
}

}  // namespace buddy::wire
