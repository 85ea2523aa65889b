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

/// What a receiver accepts; fixed per job (and per router hop).
struct batch_limits {
    std::uint64_t job = 0;
    std::uint32_t ranks = 0;            ///< dest must be < ranks
    std::uint32_t handlers = 0;         ///< handler must be < handlers (0: not checked, e.g. router)
    std::size_t max_payload = max_payload_bytes;
    std::uint32_t only_dest = any_dest;  ///< if set, every record must be for this rank
    static constexpr std::uint32_t any_dest = 0xFFFFFFFFu;
};

enum class parse_errc {
    ok = 0,
    truncated_header,   ///< fewer bytes than a batch header
    bad_magic,
    bad_version,
    bad_flags,
    foreign_job,
    length_mismatch,    ///< header's byte count disagrees with the buffer
    truncated_record,   ///< a record runs past the end of the batch
    oversized_record,   ///< a payload larger than the limit
    bad_padding,        ///< extended-header reserved word not zero
    bad_destination,    ///< dest outside the job, or not the rank the batch was delivered to
    unknown_handler,    ///< handler id outside this binary's registry
    count_mismatch,     ///< header's record count disagrees with the records
};

struct parse_result {
    parse_errc error = parse_errc::ok;
    std::size_t offset = 0;       ///< byte offset of the offending field or record
    std::uint64_t value = 0;      ///< the offending value (dest, handler, size, ...)
    batch_header header{};        ///< valid when error == ok
    std::span<const std::byte> records;  ///< valid when error == ok

    explicit operator bool() const noexcept { return error == parse_errc::ok; }
};

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
    const std::byte* const base = buffer.data();
    const std::size_t size = buffer.size();
    std::size_t at = batch_header_bytes;
    std::uint64_t count = 0;
    auto fail = [&](parse_errc e, std::size_t offset, std::uint64_t value) {
        r.error = e;
        r.offset = offset;
        r.value = value;
        r.records = {};
        return r;
    };
    while (at < size) {
        const std::size_t left = size - at;
        if (left < short_header_bytes) [[unlikely]] return fail(parse_errc::truncated_record, at, left);
        const record_header rh = read_header(base + at);
        std::size_t payload = rh.size;
        std::size_t header = short_header_bytes;
        if (rh.size == long_size_escape) [[unlikely]] {
            if (left < long_header_bytes) return fail(parse_errc::truncated_record, at, left);
            std::uint32_t ext[2];
            std::memcpy(ext, base + at + short_header_bytes, sizeof ext);
            if (ext[1] != 0) return fail(parse_errc::bad_padding, at + 12, ext[1]);
            payload = ext[0];
            header = long_header_bytes;
            // Writers use the short form whenever it fits: accept one encoding only.
            if (payload < long_size_escape) return fail(parse_errc::bad_padding, at + 8, payload);
        }
        if (payload > limits.max_payload) [[unlikely]] return fail(parse_errc::oversized_record, at, payload);
        const std::size_t total = align_up(header + payload);
        if (total > left) [[unlikely]] return fail(parse_errc::truncated_record, at, total);
        if (rh.dest >= limits.ranks ||
            (limits.only_dest != batch_limits::any_dest && rh.dest != limits.only_dest)) [[unlikely]]
            return fail(parse_errc::bad_destination, at, rh.dest);
        if (limits.handlers != 0 && rh.handler >= limits.handlers) [[unlikely]]
            return fail(parse_errc::unknown_handler, at, rh.handler);
        fn(rh, base + at + header, payload);
        at += total;
        ++count;
    }
    if (count != r.header.records) [[unlikely]] return fail(parse_errc::count_mismatch, 16, r.header.records);
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
    const std::byte* p = records.data();
    const std::byte* const end = p + records.size();
    while (p < end) {
        const record_header h = read_header(p);
        std::size_t payload = h.size;
        std::size_t header = short_header_bytes;
        if (h.size == long_size_escape) [[unlikely]] {
            std::uint32_t ext;
            std::memcpy(&ext, p + short_header_bytes, sizeof ext);
            payload = ext;
            header = long_header_bytes;
        }
        const std::size_t total = align_up(header + payload);
        fn(h, p + header, payload, p, total);
        p += total;
    }
}

/// Fills in a batch header at the start of `buffer`.
inline void write_batch_header(std::byte* buffer, std::uint64_t job, std::uint32_t source,
                               std::uint32_t records, std::uint64_t bytes) noexcept {
    const batch_header h{batch_magic, batch_version, 0, job, source, records, bytes};
    std::memcpy(buffer, &h, sizeof h);
}

}  // namespace buddy::wire
