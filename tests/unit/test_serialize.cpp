// Argument encoding: what async() writes and what a handler receives.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
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

namespace {
// A run loop's prefetch step: which records it is called for, in order.
template <std::size_t Distance>
struct prefetch_probe {
    static inline std::vector<std::uint64_t> ran, prefetched;
    static constexpr std::size_t prefetch_distance = Distance;
    void operator()(buddy::comm&, std::uint64_t v) const { ran.push_back(v); }
    static void prefetch(const std::uint64_t& v) { prefetched.push_back(v); }
};

// `first` records of the probe's handler (payloads 0, 1, ...), one record of
// another handler, then `second` records of the probe's again (100, 101, ...):
// the batch.  After its end, 64 more of the probe's (7777), which a loop that
// read past the end would run or prefetch.
constexpr std::size_t sentinels = 64;
std::vector<std::byte> two_runs(std::size_t first, std::size_t second) {
    std::vector<std::byte> out((first + second + 1 + sentinels) * 16);
    std::byte* at = out.data();
    auto put = [&](std::uint16_t id, std::uint64_t v) {
        std::byte* body = buddy::wire::write_header(at, 0, id, sizeof v);
        std::memcpy(body, &v, sizeof v);
        at = body + sizeof v;
    };
    for (std::size_t k = 0; k < first; ++k) put(5, k);
    put(6, 999);
    for (std::size_t k = 0; k < second; ++k) put(5, 100 + k);
    for (std::size_t k = 0; k < sentinels; ++k) put(5, 7777);
    return out;
}

template <std::size_t Distance>
void check_prefetch_distance() {
    using probe = prefetch_probe<Distance>;
    using trampoline = lambda_handler<probe, std::uint64_t>;
    alignas(64) std::byte storage[64] = {};  // the handler never touches its comm
    buddy::comm& c = *reinterpret_cast<buddy::comm*>(storage);
    for (const std::size_t length : {1u, 2u, 7u, 31u, 32u, 33u, 100u, 200u}) {
        CAPTURE(Distance);
        CAPTURE(length);
        probe::ran.clear();
        probe::prefetched.clear();
        const std::vector<std::byte> batch = two_runs(length, 10);
        const std::byte* end = batch.data() + batch.size() - sentinels * 16;
        const std::byte* stop = trampoline::run(c, batch.data(), end);
        // The run ends at the other handler's record.  Each record it runs
        // prefetches the one Distance ahead when that one is the probe's
        // (in the next run too), never the other handler's, never past the end.
        CHECK(stop == batch.data() + length * 16);
        const std::size_t total = length + 1 + 10;
        auto payload_at = [&](std::size_t j) -> std::uint64_t { return j < length ? j : 100 + (j - length - 1); };
        std::vector<std::uint64_t> want_ran, want_prefetched;
        // At most a quarter of the batch ahead of where the run starts.
        const std::size_t distance = std::clamp<std::size_t>(total / 4, 1, Distance);
        for (std::size_t i = 0; i < length; ++i) {
            want_ran.push_back(i);
            const std::size_t j = i + distance;
            if (j < total && j != length) want_prefetched.push_back(payload_at(j));
        }
        CHECK(probe::ran == want_ran);
        CHECK(probe::prefetched == want_prefetched);
        // The second run ends at the batch's end: nothing past it is read.
        probe::ran.clear();
        probe::prefetched.clear();
        CHECK(trampoline::run(c, stop + 16, end) == end);
        CHECK(probe::ran.size() == 10);
        want_prefetched.clear();
        const std::size_t second = std::clamp<std::size_t>(10 / 4, 1, Distance);
        for (std::size_t i = 0; i + second < 10; ++i) want_prefetched.push_back(100 + i + second);
        CHECK(probe::prefetched == want_prefetched);
    }
}
}  // namespace

TEST_CASE("a run loop prefetches the record its distance ahead when it is the same handler's") {
    check_prefetch_distance<1>();
    check_prefetch_distance<8>();
    check_prefetch_distance<buddy::detail::default_prefetch_distance>();
    check_prefetch_distance<200>();
}
