// The wire format: records and batches, and the parser that must refuse any
// malformed input without reading outside it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstring>
#include <random>
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
        good[6] = std::byte{1};
        CHECK(parse_batch(good, limits()).error == parse_errc::bad_flags);
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
