// Batch format: the records for one next hop, packed into one network buffer.
//
//   [batch_header (32 bytes)][record][record]...
//
// The header names the job (so a router serving several jobs can refuse foreign
// traffic), the sender, and how many records and bytes follow.  A receiver
// validates the whole batch with parse_batch() before it delivers any record, so
// a malformed batch from the network is refused whole and changes nothing.
//
// With the checksum on (BUDDY_CHECKSUM=1) the writer sets batch_flag_checksum
// and appends a checksum_trailer after the records: the CRC-32C of the header
// and the records.  `bytes` still counts the records only.  The receiver
// verifies it with the header, before any record is looked at.  The flag makes
// a batch self-describing; a flag flipped by damage is caught too (the
// trailer's 8 bytes then disagree with `bytes`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "buddy/detail/record.hpp"
#include "buddy/wire/checksum.hpp"
#include "buddy/wire/record_cursor.hpp"

namespace buddy::wire {

inline constexpr std::uint32_t batch_magic = 0x31594442;  // "BDY1" read little-endian
inline constexpr std::uint16_t batch_version = 1;

struct batch_header {
    std::uint32_t magic;
    std::uint16_t version;
    std::uint16_t flags;    ///< 0, or batch_flag_checksum; other bits reserved (must be 0)
    std::uint64_t job;      ///< job id the batch belongs to
    std::uint32_t source;   ///< sending rank (inproc) or router id (host, dpu)
    std::uint32_t records;  ///< number of records that follow
    std::uint64_t bytes;    ///< bytes of records that follow the header
};
static_assert(sizeof(batch_header) == 32);
static_assert(sizeof(batch_header) % record_alignment == 0);

inline constexpr std::size_t batch_header_bytes = sizeof(batch_header);
/// The records are followed by a checksum_trailer over header and records.
inline constexpr std::uint16_t batch_flag_checksum = 1;

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
    std::span<const std::byte> records;  ///< valid when error == ok: the records, without any trailer

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

/// Checks the batch header alone: magic, version, flags, job and length, and
/// (flag set) the checksum of the whole batch: once per batch, not per record.
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
    record_cursor cursor(buffer.first(batch_header_bytes + r.records.size()), limits.records(), batch_header_bytes);
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

/// Bytes a batch writer keeps free after the records for the trailer.
constexpr std::size_t trailer_bytes(bool checksum) noexcept { return checksum ? checksum_trailer_bytes : 0; }

/// Writes the header and, with `checksum`, the flag and the trailer after the
/// `bytes` record bytes (the caller kept checksum_trailer_bytes free there).
/// Returns the batch's whole size.  One branch per batch when the checksum is off.
inline std::size_t finish_batch(std::byte* buffer, std::uint64_t job, std::uint32_t source, std::uint32_t records,
                                std::uint64_t bytes, bool checksum) noexcept {
    const batch_header h{batch_magic, batch_version, checksum ? batch_flag_checksum : std::uint16_t{0}, job, source,
                         records, bytes};
    std::memcpy(buffer, &h, sizeof h);
    const std::size_t body = batch_header_bytes + static_cast<std::size_t>(bytes);
    if (!checksum) return body;
    write_checksum_trailer(buffer, body);
    return body + checksum_trailer_bytes;
}

}  // namespace buddy::wire
