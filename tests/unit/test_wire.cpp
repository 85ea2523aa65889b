// The wire format: records and batches, and the parser that must refuse any
// malformed input without reading outside it.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "buddy/wire/batch.hpp"
#include "buddy/detail/record.hpp"

using namespace buddy::wire;

namespace {

// Builds a batch with `payloads.size()` records to dest `dest`.
std::vector<std::byte> make_batch(const std::vector<std::size_t>& payloads, std::uint32_t dest = 1,
                                  std::uint64_t job = 7, std::uint16_t handler = 2) {
    std::size_t body = 0;
    for (std::size_t p : payloads) body += record_bytes_for(p);
    std::vector<std::byte> buf(batch_header_bytes + body);
    std::byte* at = buf.data() + batch_header_bytes;
    std::uint8_t fill = 1;
    for (std::size_t p : payloads) {
        std::byte* payload = write_header(at, dest, handler, p);
        std::memset(payload, fill++, p);
        write_padding(payload + p, header_bytes_for(p) + p);
        at += record_bytes_for(p);
    }
    write_batch_header(buf.data(), job, 0, static_cast<std::uint32_t>(payloads.size()), body);
    return buf;
}

batch_limits limits() {
    batch_limits l;
    l.job = 7;
    l.ranks = 4;
    l.handlers = 8;
    l.max_payload = 1 << 20;
    return l;
}

}  // namespace

TEST_CASE("record sizes are 8-aligned and use the short header below 65535 bytes") {
    CHECK(record_bytes_for(0) == 8);
    CHECK(record_bytes_for(1) == 16);
    CHECK(record_bytes_for(8) == 16);
    CHECK(record_bytes_for(9) == 24);
    CHECK(header_bytes_for(65534) == 8);
    CHECK(header_bytes_for(65535) == 16);
    CHECK(record_bytes_for(65535) == align_up(16 + 65535));
}

TEST_CASE("a short header is {u32 dest, u16 handler, u16 size}, little-endian, and reads back") {
    // write_header builds the header as one word; this pins that word to the
    // record_header layout every reader (router, rank, engine) uses.
    for (const auto& [dest, handler, size] :
         {std::tuple<std::uint32_t, std::uint16_t, std::size_t>{0, 0, 0}, {1, 2, 8},
          {0xFFFFFFFFu, 0xFFFFu, 65534}, {0x01020304u, 0x0506u, 0x0708u}}) {
        alignas(8) std::byte buf[16];
        std::memset(buf, 0xAB, sizeof buf);
        std::byte* payload = write_header(buf, dest, handler, size);
        CHECK(payload == buf + short_header_bytes);
        const record_header h = read_header(buf);
        CHECK(h.dest == dest);
        CHECK(h.handler == handler);
        CHECK(h.size == size);
        const unsigned char expect[8] = {
            static_cast<unsigned char>(dest), static_cast<unsigned char>(dest >> 8),
            static_cast<unsigned char>(dest >> 16), static_cast<unsigned char>(dest >> 24),
            static_cast<unsigned char>(handler), static_cast<unsigned char>(handler >> 8),
            static_cast<unsigned char>(size), static_cast<unsigned char>(size >> 8)};
        CHECK(std::memcmp(buf, expect, sizeof expect) == 0);
        CHECK(buf[8] == std::byte{0xAB});  // nothing written past the header
    }
}

TEST_CASE("a well-formed batch parses and every record is visited with its payload") {
    const std::vector<std::size_t> sizes = {0, 1, 7, 8, 9, 100, 65534, 65535, 70000};
    auto buf = make_batch(sizes);
    const parse_result r = parse_batch(buf, limits());
    REQUIRE(r);
    CHECK(r.header.records == sizes.size());
    std::size_t i = 0;
    for_each_record(r.records, [&](const record_header& h, const std::byte* payload, std::size_t n,
                                   const std::byte*, std::size_t) {
        CHECK(h.dest == 1);
        CHECK(h.handler == 2);
        REQUIRE(i < sizes.size());
        CHECK(n == sizes[i]);
        for (std::size_t k = 0; k < n; ++k) REQUIRE(payload[k] == std::byte(static_cast<std::uint8_t>(i + 1)));
        ++i;
    });
    CHECK(i == sizes.size());
}

TEST_CASE("an empty batch is valid") {
    auto buf = make_batch({});
    CHECK(parse_batch(buf, limits()));
}

TEST_CASE("every truncation of a valid batch is refused") {
    auto buf = make_batch({3, 16, 200, 0, 65535});
    for (std::size_t n = 0; n < buf.size(); ++n) {
        std::vector<std::byte> cut(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        const parse_result r = parse_batch(cut, limits());
        REQUIRE_FALSE(r);
        CHECK(!describe(r).empty());
    }
}

TEST_CASE("header fields are checked") {
    auto good = make_batch({8, 8});
    SUBCASE("magic") {
        good[0] = std::byte{0};
        CHECK(parse_batch(good, limits()).error == parse_errc::bad_magic);
    }
    SUBCASE("version") {
        good[4] = std::byte{9};
        CHECK(parse_batch(good, limits()).error == parse_errc::bad_version);
    }
    SUBCASE("flags") {
        good[6] = std::byte{2};  // bit 0 is batch_flag_checksum; the others are reserved
        CHECK(parse_batch(good, limits()).error == parse_errc::bad_flags);
    }
    SUBCASE("the checksum flag without a trailer: the length disagrees") {
        good[6] = std::byte{1};
        CHECK(parse_batch(good, limits()).error == parse_errc::length_mismatch);
    }
    SUBCASE("foreign job") {
        batch_limits l = limits();
        l.job = 8;
        const parse_result r = parse_batch(good, l);
        CHECK(r.error == parse_errc::foreign_job);
        CHECK(r.value == 7);
    }
    SUBCASE("length") {
        good.push_back(std::byte{0});
        CHECK(parse_batch(good, limits()).error == parse_errc::length_mismatch);
    }
    SUBCASE("record count") {
        std::uint32_t wrong = 3;
        std::memcpy(good.data() + 20, &wrong, 4);
        CHECK(parse_batch(good, limits()).error == parse_errc::count_mismatch);
    }
}

TEST_CASE("record fields are checked: destination, handler, size") {
    SUBCASE("destination outside the job") {
        auto buf = make_batch({8}, 4);
        const parse_result r = parse_batch(buf, limits());
        CHECK(r.error == parse_errc::bad_destination);
        CHECK(r.value == 4);
    }
    SUBCASE("destination not this rank") {
        auto buf = make_batch({8}, 2);
        batch_limits l = limits();
        l.only_dest = 1;
        CHECK(parse_batch(buf, l).error == parse_errc::bad_destination);
    }
    SUBCASE("unknown handler is named") {
        auto buf = make_batch({8}, 1, 7, 77);
        const parse_result r = parse_batch(buf, limits());
        CHECK(r.error == parse_errc::unknown_handler);
        CHECK(r.value == 77);
        CHECK(describe(r).find("unknown handler") != std::string::npos);
        CHECK(describe(r).find("77") != std::string::npos);
    }
    SUBCASE("oversized record") {
        auto buf = make_batch({2000});
        batch_limits l = limits();
        l.max_payload = 1000;
        const parse_result r = parse_batch(buf, l);
        CHECK(r.error == parse_errc::oversized_record);
        CHECK(r.value == 2000);
    }
    SUBCASE("a size field pointing past the end") {
        auto buf = make_batch({8});
        const std::uint16_t huge = 60000;
        std::memcpy(buf.data() + batch_header_bytes + 6, &huge, 2);
        CHECK(parse_batch(buf, limits()).error == parse_errc::truncated_record);
    }
    SUBCASE("an extended header for a small payload") {
        auto buf = make_batch({65535});
        const std::uint32_t small = 10;
        std::memcpy(buf.data() + batch_header_bytes + 8, &small, 4);
        CHECK(parse_batch(buf, limits()).error == parse_errc::bad_padding);
    }
}

TEST_CASE("checked visiting stops before the first bad record") {
    auto buf = make_batch({8, 8, 8});
    const std::uint32_t bad_dest = 9;
    std::memcpy(buf.data() + batch_header_bytes + 16 * 2, &bad_dest, 4);  // third record
    int visited = 0;
    const parse_result r = for_each_checked_record(buf, limits(), [&](const record_header&, const std::byte*,
                                                                      std::size_t) { ++visited; });
    CHECK(r.error == parse_errc::bad_destination);
    CHECK(visited == 2);
}

TEST_CASE("random buffers and random corruptions never crash the parser") {
    std::mt19937_64 rng(12345);
    auto good = make_batch({1, 2, 3, 64, 300, 8, 0, 65535, 4096});
    int accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        std::vector<std::byte> buf;
        if (round % 2 == 0) {
            buf.resize(rng() % 512);
            for (auto& b : buf) b = std::byte(static_cast<std::uint8_t>(rng()));
            if (buf.size() >= batch_header_bytes && (round % 4 == 0)) {
                // Make the header plausible so the record walk is exercised.
                write_batch_header(buf.data(), 7, 0, static_cast<std::uint32_t>(rng() % 8),
                                   buf.size() - batch_header_bytes);
            }
        } else {
            buf = good;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) buf[rng() % buf.size()] ^= std::byte(static_cast<std::uint8_t>(1 + rng() % 255));
        }
        const parse_result r = parse_batch(buf, limits());
        if (r) {
            ++accepted;
            // Whatever is accepted must be walkable within bounds.
            std::size_t total = 0;
            for_each_record(r.records, [&](const record_header&, const std::byte*, std::size_t,
                                           const std::byte*, std::size_t n) { total += n; });
            CHECK(total == r.records.size());
        }
    }
    // Flips inside payload bytes leave a batch valid; that is expected.
    CHECK(accepted < 20000);
}

// ---------------------------------------------------------------- record_cursor

namespace {

record_limits record_limits_for_tests() { return limits().records(); }

struct walked {
    std::vector<record_view> records;
    record_error error;
    std::size_t end_offset = 0;
};

template <typename Cursor>
walked walk(Cursor cursor) {
    walked w;
    for (record_view v; cursor.next(v);) w.records.push_back(v);
    w.error = cursor.error();
    w.end_offset = cursor.offset();
    return w;
}

bool inside(const record_view& v, const std::vector<std::byte>& buf, std::size_t size) {
    const std::byte* b = buf.data();
    return v.record >= b && v.record + v.record_bytes <= b + size && v.payload >= v.record &&
           v.payload + v.payload_bytes <= v.record + v.record_bytes;
}

}  // namespace

TEST_CASE("record_cursor yields every record, checked and trusted alike") {
    const std::vector<std::size_t> sizes = {0, 1, 7, 8, 9, 100, 65534, 65535, 70000};
    auto buf = make_batch(sizes);
    const walked c = walk(record_cursor(buf, record_limits_for_tests(), batch_header_bytes));
    const walked t = walk(trusted_record_cursor(buf, batch_header_bytes));
    CHECK(c.error.error == parse_errc::ok);
    REQUIRE(c.records.size() == sizes.size());
    REQUIRE(t.records.size() == sizes.size());
    CHECK(c.end_offset == buf.size());
    CHECK(t.end_offset == buf.size());
    std::size_t at = batch_header_bytes;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const record_view& v = c.records[i];
        CHECK(v.header.dest == 1);
        CHECK(v.header.handler == 2);
        CHECK(v.payload_bytes == sizes[i]);
        CHECK(v.record == buf.data() + at);
        CHECK(v.record_bytes == record_bytes_for(sizes[i]));
        CHECK(v.payload == v.record + header_bytes_for(sizes[i]));
        for (std::size_t k = 0; k < v.payload_bytes; ++k)
            REQUIRE(v.payload[k] == std::byte(static_cast<std::uint8_t>(i + 1)));
        CHECK(t.records[i].record == v.record);
        CHECK(t.records[i].payload == v.payload);
        CHECK(t.records[i].payload_bytes == v.payload_bytes);
        CHECK(t.records[i].record_bytes == v.record_bytes);
        at += v.record_bytes;
    }
}

TEST_CASE("record_cursor resumes from an offset and walks bare chunks") {
    auto buf = make_batch({8, 16, 24});
    const std::size_t third = batch_header_bytes + record_bytes_for(8) + record_bytes_for(16);
    const walked w = walk(record_cursor(buf, record_limits_for_tests(), third));
    REQUIRE(w.records.size() == 1);
    CHECK(w.records[0].payload_bytes == 24);
    // A ring chunk is records without a batch header.
    const std::vector<std::byte> chunk(buf.begin() + batch_header_bytes, buf.end());
    const walked bare = walk(record_cursor(chunk, record_limits_for_tests()));
    CHECK(bare.error.error == parse_errc::ok);
    CHECK(bare.records.size() == 3);
    CHECK(walk(record_cursor(std::span<const std::byte>(), record_limits_for_tests())).records.empty());
}

TEST_CASE("record_cursor: every truncation stops at the cut record, inside the buffer") {
    const std::vector<std::size_t> sizes = {3, 16, 200, 0, 65535};
    auto full = make_batch(sizes);
    const std::vector<std::byte> chunk(full.begin() + batch_header_bytes, full.end());
    std::vector<std::size_t> boundaries = {0};
    for (std::size_t s : sizes) boundaries.push_back(boundaries.back() + record_bytes_for(s));
    for (std::size_t n = 0; n <= chunk.size(); ++n) {
        const std::vector<std::byte> cut(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
        const walked w = walk(record_cursor(cut, record_limits_for_tests()));
        std::size_t whole = 0;  // records that fit entirely below n
        while (whole < sizes.size() && boundaries[whole + 1] <= n) ++whole;
        REQUIRE(w.records.size() == whole);
        for (const record_view& v : w.records) REQUIRE(inside(v, cut, n));
        if (n == boundaries[whole]) {
            CHECK(w.error.error == parse_errc::ok);
        } else {
            CHECK(w.error.error == parse_errc::truncated_record);
            CHECK(w.error.offset == boundaries[whole]);
            CHECK(w.end_offset == boundaries[whole]);
        }
    }
}

TEST_CASE("record_cursor checks each field, names offset and value, and stays stopped") {
    const record_limits lim = record_limits_for_tests();
    const std::size_t second = batch_header_bytes + record_bytes_for(8);
    auto expect = [&](std::vector<std::byte> buf, record_limits l, parse_errc e, std::size_t offset,
                      std::uint64_t value) {
        record_cursor cursor(buf, l, batch_header_bytes);
        record_view v;
        REQUIRE(cursor.next(v));  // the first record is good
        CHECK_FALSE(cursor.next(v));
        CHECK(cursor.error().error == e);
        CHECK(cursor.error().offset == offset);
        CHECK(cursor.error().value == value);
        CHECK(cursor.offset() == second);
        CHECK_FALSE(cursor.next(v));  // a stopped cursor yields nothing more
        CHECK(!describe(batch_error(cursor.error())).empty());
    };
    SUBCASE("destination outside the job") {
        auto buf = make_batch({8, 8});
        const std::uint32_t dest = 4;
        std::memcpy(buf.data() + second, &dest, 4);
        expect(buf, lim, parse_errc::bad_destination, second, 4);
    }
    SUBCASE("destination not the only one allowed") {
        auto buf = make_batch({8, 8});
        const std::uint32_t dest = 2;
        std::memcpy(buf.data() + second, &dest, 4);
        record_limits l = lim;
        l.only_dest = 1;
        expect(buf, l, parse_errc::bad_destination, second, 2);
    }
    SUBCASE("unknown handler") {
        auto buf = make_batch({8, 8});
        const std::uint16_t handler = 8;
        std::memcpy(buf.data() + second + 4, &handler, 2);
        expect(buf, lim, parse_errc::unknown_handler, second, 8);
        record_limits unchecked = lim;
        unchecked.handlers = 0;  // a router does not check handlers
        CHECK(walk(record_cursor(buf, unchecked, batch_header_bytes)).records.size() == 2);
    }
    SUBCASE("oversized payload") {
        auto buf = make_batch({8, 2000});
        record_limits l = lim;
        l.max_payload = 1000;
        expect(buf, l, parse_errc::oversized_record, second, 2000);
    }
    SUBCASE("size past the end") {
        auto buf = make_batch({8, 8});
        const std::uint16_t huge = 60000;
        std::memcpy(buf.data() + second + 6, &huge, 2);
        expect(buf, lim, parse_errc::truncated_record, second, record_bytes_for(60000));
    }
    SUBCASE("extended header with a non-zero reserved word") {
        auto buf = make_batch({8, 65535});
        const std::uint32_t junk = 5;
        std::memcpy(buf.data() + second + 12, &junk, 4);
        expect(buf, lim, parse_errc::bad_padding, second + 12, 5);
    }
    SUBCASE("extended header for a small payload") {
        auto buf = make_batch({8, 65535});
        const std::uint32_t small = 10;
        std::memcpy(buf.data() + second + 8, &small, 4);
        expect(buf, lim, parse_errc::bad_padding, second + 8, 10);
    }
    SUBCASE("extended header cut short") {
        auto buf = make_batch({8, 65535});
        buf.resize(second + 12);
        expect(buf, lim, parse_errc::truncated_record, second, 12);
    }
}

TEST_CASE("record_cursor on random and corrupted buffers never leaves them, and agrees with the trusted walk") {
    std::mt19937_64 rng(54321);
    auto good = make_batch({1, 2, 3, 64, 300, 8, 0, 65535, 4096});
    int clean = 0;
    for (int round = 0; round < 20000; ++round) {
        std::vector<std::byte> buf;
        if (round % 2 == 0) {
            buf.resize(rng() % 512);
            for (auto& b : buf) b = std::byte(static_cast<std::uint8_t>(rng()));
        } else {
            buf = good;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) buf[rng() % buf.size()] ^= std::byte(static_cast<std::uint8_t>(1 + rng() % 255));
        }
        const std::size_t start = round % 2 == 0 ? 0 : batch_header_bytes;
        const walked c = walk(record_cursor(buf, record_limits_for_tests(), start));
        for (const record_view& v : c.records) REQUIRE(inside(v, buf, buf.size()));
        if (c.error.error != parse_errc::ok) {
            CHECK(c.error.offset >= c.end_offset);
            CHECK(c.error.offset < buf.size());
            continue;
        }
        ++clean;
        CHECK(c.end_offset == std::max(start, buf.size()));
        const walked t = walk(trusted_record_cursor(buf, start));
        REQUIRE(t.records.size() == c.records.size());
        for (std::size_t i = 0; i < c.records.size(); ++i) CHECK(t.records[i].record == c.records[i].record);
    }
    CHECK(clean > 0);
    CHECK(clean < 20000);
}

namespace {
// make_batch, then sealed the way the engine and the router seal one.
std::vector<std::byte> make_sealed_batch(const std::vector<std::size_t>& payloads) {
    auto b = make_batch(payloads);
    batch_header h;
    std::memcpy(&h, b.data(), sizeof h);
    b.resize(b.size() + checksum_trailer_bytes);
    CHECK(finish_batch(b.data(), h.job, h.source, h.records, h.bytes, true) == b.size());
    return b;
}
}  // namespace

TEST_CASE("crc32c: the standard check value, hardware and portable agree, and it chains") {
    const char* v = "123456789";
    CHECK(crc32c(v, 9) == 0xE3069283u);
    CHECK(crc32c_portable(v, 9) == 0xE3069283u);
    CHECK(crc32c(v, 0) == 0u);
    std::mt19937_64 rng(3);
    std::vector<unsigned char> buf(40000);
    for (auto& c : buf) c = static_cast<unsigned char>(rng());
    // Sizes around the three-stream rounds (3 x 1024 bytes) too.
    for (std::size_t n : {1u, 7u, 8u, 9u, 63u, 64u, 1000u, 3071u, 3072u, 3073u, 4099u, 6144u, 9300u, 40000u}) {
        CHECK(crc32c(buf.data(), n) == crc32c_portable(buf.data(), n));
        for (std::size_t cut : {std::size_t{0}, n / 3, n}) {
            CHECK(crc32c(buf.data() + cut, n - cut, crc32c(buf.data(), cut)) == crc32c(buf.data(), n));
            CHECK(crc32c_portable(buf.data() + cut, n - cut, crc32c_portable(buf.data(), cut)) ==
                  crc32c(buf.data(), n));
        }
    }
    MESSAGE("crc32c implementation: " << std::string(crc32c_implementation()));
}

TEST_CASE("a checksummed batch parses, its records exclude the trailer, and every payload bit flipped is caught") {
    const auto good = make_sealed_batch({8, 3, 100});
    const parse_result r = parse_batch(good, limits());
    REQUIRE_MESSAGE(r, describe(r));
    CHECK(r.header.flags == batch_flag_checksum);
    CHECK(r.records.size() == good.size() - batch_header_bytes - checksum_trailer_bytes);
    std::size_t visited = 0;
    for_each_record(r.records, [&](const record_header&, const std::byte*, std::size_t, const std::byte*,
                                   std::size_t) { ++visited; });
    CHECK(visited == 3);
    // A flip anywhere: a payload byte, a header field, the trailer.  The
    // structure checks catch some; the checksum catches the rest, in
    // particular every payload byte, which no structure check reads.
    for (std::size_t at = 0; at < good.size(); ++at) {
        auto bad = good;
        bad[at] ^= std::byte{0x10};
        const parse_result e = parse_batch(bad, limits());
        CHECK_MESSAGE(!e, "flip at " << at);
        if (at >= batch_header_bytes + 16 && at < batch_header_bytes + 24) {
            CHECK(e.error == parse_errc::bad_checksum);  // the first record's payload
            CHECK(describe(e).find("checksum mismatch") != std::string::npos);
        }
    }
    // The checksum covers the header too: another job id passes the job
    // check of a receiver that belongs to that job, and fails the checksum.
    auto forged = good;
    const std::uint64_t other = 8;
    std::memcpy(forged.data() + 8, &other, 8);
    batch_limits l = limits();
    l.job = 8;
    CHECK(parse_batch(forged, l).error == parse_errc::bad_checksum);
}

TEST_CASE("finish_batch without the checksum writes exactly write_batch_header's bytes") {
    auto a = make_batch({8, 8});
    auto b = a;
    batch_header h;
    std::memcpy(&h, a.data(), sizeof h);
    CHECK(finish_batch(b.data(), h.job, h.source, h.records, h.bytes, false) == a.size());
    CHECK(a == b);
    CHECK(trailer_bytes(false) == 0);
    CHECK(trailer_bytes(true) == checksum_trailer_bytes);
}
