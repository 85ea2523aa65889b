// The one walk over a sequence of records (a batch body, a ring chunk).
//
// Every piece of code that reads records goes through record_cursor: the
// rank's dispatch, the router's forwarding of outbound ring chunks, and its
// check and distribution of batches from the network.  The checked cursor
// tests every bound against record_limits before it yields a record and never
// reads outside its buffer; the trusted cursor is the same loop with the checks
// compiled out, for bytes a checked cursor has already accepted (the template
// flag record_checks says which checks a walk makes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "buddy/detail/record.hpp"

namespace buddy::wire {

enum class parse_errc {
    ok = 0,
    truncated_header,   ///< fewer bytes than a batch header
    bad_magic,
    bad_version,
    bad_flags,
    foreign_job,
    length_mismatch,    ///< header's byte count disagrees with the buffer
    truncated_record,   ///< a record runs past the end of the buffer
    oversized_record,   ///< a payload larger than the limit
    bad_padding,        ///< extended-header reserved word not zero, or extended form for a small payload
    bad_destination,    ///< dest outside the job, or not the rank the batch was delivered to
    unknown_handler,    ///< handler id outside this binary's registry
    count_mismatch,     ///< header's record count disagrees with the records
    bad_checksum,       ///< a checksummed batch or chunk whose CRC-32C disagrees with its bytes
};

/// What a checked cursor accepts in one record.
struct record_limits {
    std::uint32_t ranks = 0;             ///< dest must be < ranks
    std::uint32_t handlers = 0;          ///< handler must be < handlers (0: not checked, e.g. router)
    std::size_t max_payload = max_payload_bytes;
    std::uint32_t only_dest = any_dest;  ///< if set, every record must be for this rank
    static constexpr std::uint32_t any_dest = 0xFFFFFFFFu;
};

/// One record as the cursor yields it: pointers into the cursor's buffer.
struct record_view {
    record_header header;
    const std::byte* payload;
    std::size_t payload_bytes;
    const std::byte* record;   ///< the whole record (header, payload, padding)
    std::size_t record_bytes;  ///< what it occupies, padding included
};

/// Why a checked cursor stopped early; error == ok when it reached the end.
struct record_error {
    parse_errc error = parse_errc::ok;
    std::size_t offset = 0;   ///< byte offset (in the cursor's buffer) of the offending field or record
    std::uint64_t value = 0;  ///< the offending value (dest, handler, size, bytes left)
};

/// Which checks a cursor makes: a set of bits fixed at compile time, so a
/// walk pays only for the checks its caller needs.  `structure` (sizes, the
/// extended header and its payload limit, dest < ranks) keeps a walk inside
/// its buffer and inside the job; a rank adds the rest.  A router forwards
/// records it never runs, so it skips the handler and "for me" checks and the
/// limit on short payloads (their 16-bit size already bounds them; the rank
/// that runs one checks it).
enum class record_checks : unsigned {
    trusted = 0,        ///< bytes a checked cursor already accepted
    structure = 1,
    handler = 2,        ///< handler < handlers (when handlers != 0)
    only_dest = 4,      ///< dest == only_dest (when set)
    payload_limit = 8,  ///< short payloads too are <= max_payload
    checked = structure | handler | only_dest | payload_limit,
    router = structure,
};

constexpr bool has(record_checks set, record_checks c) noexcept {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(c)) != 0;
}

template <record_checks Checks>
class basic_record_cursor {
public:
    /// Walks `buffer` from byte `start` (which is where records begin, e.g.
    /// after a batch header, or where a paused walk stopped).  Offsets in
    /// errors and offset() count from the start of `buffer`.
    basic_record_cursor(std::span<const std::byte> buffer, const record_limits& limits,
                        std::size_t start = 0) noexcept
        : base_(buffer.data()), size_(buffer.size()), at_(start), limits_(limits) {}

    /// Trusted walks need no limits.
    explicit basic_record_cursor(std::span<const std::byte> buffer, std::size_t start = 0) noexcept
        requires(Checks == record_checks::trusted)
        : base_(buffer.data()), size_(buffer.size()), at_(start), limits_{} {}

    /// Yields the next record into `r` and steps past it.  false at the end of
    /// the buffer, or (checked) at a bad record: then error() says why, and
    /// offset() stays at the bad record.
    bool next(record_view& r) noexcept {
        if (at_ >= size_) return false;
        const std::byte* const p = base_ + at_;
        const std::size_t left = size_ - at_;
        if constexpr (checked) {
            if (left < short_header_bytes) [[unlikely]] return fail(parse_errc::truncated_record, at_, left);
        }
        r.header = read_header(p);
        std::size_t payload;
        std::size_t total;
        if (r.header.size != long_size_escape) [[likely]] {
            payload = r.header.size;
            total = align_up(short_header_bytes + payload);
            r.payload = p + short_header_bytes;
            if constexpr (has(Checks, record_checks::payload_limit)) {
                if (payload > limits_.max_payload) [[unlikely]]
                    return fail(parse_errc::oversized_record, at_, payload);
            }
        } else {
            std::uint32_t ext[2];
            if constexpr (checked) {
                if (left < long_header_bytes) return fail(parse_errc::truncated_record, at_, left);
            }
            std::memcpy(ext, p + short_header_bytes, sizeof ext);
            if constexpr (checked) {
                if (ext[1] != 0) return fail(parse_errc::bad_padding, at_ + 12, ext[1]);
                // Writers use the short form whenever it fits: accept one encoding only.
                if (ext[0] < long_size_escape) return fail(parse_errc::bad_padding, at_ + 8, ext[0]);
                if (ext[0] > limits_.max_payload) return fail(parse_errc::oversized_record, at_, ext[0]);
            }
            payload = ext[0];
            total = align_up(long_header_bytes + payload);
            r.payload = p + long_header_bytes;
        }
        if constexpr (checked) {
            if (total > left) [[unlikely]] return fail(parse_errc::truncated_record, at_, total);
            if (r.header.dest >= limits_.ranks) [[unlikely]]
                return fail(parse_errc::bad_destination, at_, r.header.dest);
        }
        if constexpr (has(Checks, record_checks::only_dest)) {
            if (limits_.only_dest != record_limits::any_dest && r.header.dest != limits_.only_dest) [[unlikely]]
                return fail(parse_errc::bad_destination, at_, r.header.dest);
        }
        if constexpr (has(Checks, record_checks::handler)) {
            if (limits_.handlers != 0 && r.header.handler >= limits_.handlers) [[unlikely]]
                return fail(parse_errc::unknown_handler, at_, r.header.handler);
        }
        r.payload_bytes = payload;
        r.record = p;
        r.record_bytes = total;
        at_ += total;
        return true;
    }

    /// Where the next record starts (after a bad record: where it starts).
    std::size_t offset() const noexcept { return at_; }
    /// Continues the walk at `p`, the end of records the caller checked
    /// itself (a run of records whose header equals one this cursor yielded,
    /// inside the buffer).
    void resume_at(const std::byte* p) noexcept { at_ = static_cast<std::size_t>(p - base_); }
    const std::byte* end() const noexcept { return base_ + size_; }
    /// Why the walk stopped; ok while it is running or when it reached the end.
    const record_error& error() const noexcept { return error_; }

private:
    static constexpr bool checked = has(Checks, record_checks::structure);

    bool fail(parse_errc e, std::size_t offset, std::uint64_t value) noexcept {
        error_ = record_error{e, offset, value};
        size_ = at_;  // a bad record ends the walk: later next() calls yield nothing
        return false;
    }

    const std::byte* base_;
    std::size_t size_;
    std::size_t at_;
    record_limits limits_;
    record_error error_{};
};

using record_cursor = basic_record_cursor<record_checks::checked>;
/// What a router checks in records it forwards without running them.
using router_record_cursor = basic_record_cursor<record_checks::router>;
using trusted_record_cursor = basic_record_cursor<record_checks::trusted>;

}  // namespace buddy::wire
