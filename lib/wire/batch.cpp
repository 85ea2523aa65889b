#include "buddy/wire/batch.hpp"

#include <cstring>

namespace buddy::wire {

namespace {
parse_result fail(parse_errc e, std::size_t offset, std::uint64_t value) noexcept {
    parse_result r;
    r.error = e;
    r.offset = offset;
    r.value = value;
    return r;
}
}  // namespace

parse_result parse_batch_header(std::span<const std::byte> buffer, const batch_limits& limits) noexcept {
    if (buffer.size() < batch_header_bytes) return fail(parse_errc::truncated_header, 0, buffer.size());
    batch_header h;
    std::memcpy(&h, buffer.data(), sizeof h);
    if (h.magic != batch_magic) return fail(parse_errc::bad_magic, 0, h.magic);
    if (h.version != batch_version) return fail(parse_errc::bad_version, 4, h.version);
    if ((h.flags & ~batch_flag_checksum) != 0) return fail(parse_errc::bad_flags, 6, h.flags);
    if (h.job != limits.job) return fail(parse_errc::foreign_job, 8, h.job);
    const std::size_t trailer = (h.flags & batch_flag_checksum) != 0 ? checksum_trailer_bytes : 0;
    if (buffer.size() < batch_header_bytes + trailer || h.bytes != buffer.size() - batch_header_bytes - trailer)
        return fail(parse_errc::length_mismatch, 24, h.bytes);
    if (trailer != 0) {
        std::uint32_t found = 0, expected = 0;
        // The value reported is the CRC found, the offset where it lies.
        if (!check_checksum_trailer(buffer.data(), buffer.size(), found, expected)) [[unlikely]]
            return fail(parse_errc::bad_checksum, buffer.size() - trailer, found);
    }
    parse_result ok;
    ok.header = h;
    ok.records = buffer.subspan(batch_header_bytes, static_cast<std::size_t>(h.bytes));
    return ok;
}

std::string describe(const parse_result& r) {
    const char* what = "no error";
    switch (r.error) {
        case parse_errc::ok: what = "no error"; break;
        case parse_errc::truncated_header: what = "batch shorter than its 32-byte header"; break;
        case parse_errc::bad_magic: what = "bad batch magic"; break;
        case parse_errc::bad_version: what = "unsupported batch version"; break;
        case parse_errc::bad_flags: what = "reserved batch flags set"; break;
        case parse_errc::foreign_job: what = "batch belongs to another job"; break;
        case parse_errc::length_mismatch: what = "batch length disagrees with its header"; break;
        case parse_errc::truncated_record: what = "record runs past the end of the batch"; break;
        case parse_errc::oversized_record: what = "record payload exceeds the maximum message size"; break;
        case parse_errc::bad_padding: what = "malformed extended record header"; break;
        case parse_errc::bad_destination: what = "record destination outside the job"; break;
        case parse_errc::unknown_handler: what = "record names an unknown handler"; break;
        case parse_errc::count_mismatch: what = "record count disagrees with the batch header"; break;
        case parse_errc::bad_checksum: what = "checksum mismatch (payload corrupted)"; break;
    }
    return std::string(what) + " (offset " + std::to_string(r.offset) + ", value " +
           std::to_string(r.value) + ")";
}

}  // namespace buddy::wire
