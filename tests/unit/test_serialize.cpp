// Argument encoding: what async() writes and what a handler receives.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "buddy/detail/handlers.hpp"
#include "buddy/detail/serialize.hpp"

using namespace buddy::detail;

namespace {
struct point {
    double x, y;
    std::int32_t tag;
};

template <typename... Args>
std::vector<std::byte> encode(const Args&... args) {
    std::vector<std::byte> out(payload_size(0, args...) + 8);
    alignas(8) static std::byte scratch[1 << 16];
    std::byte* end = encode_all(scratch, scratch, args...);
    out.assign(scratch, end);
    return out;
}
}  // namespace

TEST_CASE("fixed-size arguments are packed without padding") {
    CHECK(fixed_payload_size_v<std::uint64_t> == 8);
    CHECK(fixed_payload_size_v<int, char, double> == 13);
    CHECK(all_fixed_v<int, point>);
    CHECK_FALSE(all_fixed_v<int, std::vector<int>>);
    CHECK(payload_size(0, 1, 'c', 2.0) == 13);
}

TEST_CASE("vectors, strings and spans round-trip with aligned elements") {
    const std::vector<std::uint64_t> v = {1, 2, 3, 0xFFFFFFFFFFFFFFFFull};
    const std::string s = "hello, buddy";
    const std::array<std::int32_t, 3> a = {-1, 0, 7};
    const char c = 'x';
    auto bytes = encode(c, v, s, std::span<const std::int32_t>(a));
    CHECK(bytes.size() == payload_size(0, c, v, s, std::span<const std::int32_t>(a)));

    alignas(8) std::byte aligned[4096];
    std::memcpy(aligned, bytes.data(), bytes.size());
    decoder<char, std::vector<std::uint64_t>, std::string, std::span<const std::int32_t>>::values out;
    REQUIRE(decoder<char, std::vector<std::uint64_t>, std::string, std::span<const std::int32_t>>::run(
        aligned, aligned, aligned + bytes.size(), out));
    CHECK(std::get<0>(out) == 'x');
    CHECK(std::get<1>(out) == v);
    CHECK(std::get<2>(out) == s);
    const auto span = std::get<3>(out);
    REQUIRE(span.size() == 3);
    CHECK(reinterpret_cast<std::uintptr_t>(span.data()) % alignof(std::int32_t) == 0);
    CHECK(span[0] == -1);
    CHECK(span[2] == 7);
}

TEST_CASE("empty containers round-trip") {
    const std::vector<double> v;
    const std::string s;
    auto bytes = encode(v, s);
    alignas(8) std::byte aligned[64];
    std::memcpy(aligned, bytes.data(), bytes.size());
    decoder<std::vector<double>, std::string>::values out;
    REQUIRE(decoder<std::vector<double>, std::string>::run(aligned, aligned, aligned + bytes.size(), out));
    CHECK(std::get<0>(out).empty());
    CHECK(std::get<1>(out).empty());
}

TEST_CASE("short or inconsistent payloads are refused, never read past") {
    const std::vector<std::uint32_t> v = {1, 2, 3, 4, 5};
    auto bytes = encode(v, 42);
    alignas(8) std::byte aligned[256];
    std::memcpy(aligned, bytes.data(), bytes.size());
    using D = decoder<std::vector<std::uint32_t>, int>;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        D::values out;
        CHECK_FALSE(D::run(aligned, aligned, aligned + n, out));
    }
    // A count claiming more elements than the payload holds.
    // (volatile: keeps the compiler from folding the lie into a bounds warning)
    volatile std::uint64_t lie = 1ull << 40;
    const std::uint64_t claimed = lie;
    std::memcpy(aligned, &claimed, 8);
    D::values out;
    CHECK_FALSE(D::run(aligned, aligned, aligned + bytes.size(), out));
    // Trailing bytes are refused too: the sender and receiver disagree.
    std::memcpy(aligned, bytes.data(), bytes.size());
    CHECK_FALSE(D::run(aligned, aligned, aligned + bytes.size() + 8, out));
}

TEST_CASE("type names are readable for diagnostics") {
    CHECK(type_name<point>().find("point") != std::string_view::npos);
}
