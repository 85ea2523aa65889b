#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "buddy/ring/shm_segment.hpp"
#include "buddy/ring/spsc_ring.hpp"

using namespace buddy::ring;

namespace {

// 64-byte aligned heap block holding one ring.
struct ring_memory {
    explicit ring_memory(std::size_t capacity)
        : bytes(ring_bytes(capacity)),
          mem(static_cast<std::byte*>(::operator new(bytes, std::align_val_t{64}))) {
        std::memset(mem, 0xA5, bytes);  // garbage, so init_ring must set everything it relies on
        init_ring(mem, capacity);
    }
    ~ring_memory() { ::operator delete(mem, std::align_val_t{64}); }
    ring_memory(const ring_memory&) = delete;
    ring_memory& operator=(const ring_memory&) = delete;

    std::size_t bytes;
    std::byte* mem;
};

std::uint8_t pattern_byte(std::uint64_t record, std::size_t i) {
    return static_cast<std::uint8_t>((record * 131u + i * 7u + (i >> 8)) ^ 0x5Au);
}

std::vector<std::byte> make_record(std::uint64_t record, std::size_t bytes) {
    std::vector<std::byte> v(bytes);
    for (std::size_t i = 0; i < bytes; ++i) v[i] = std::byte{pattern_byte(record, i)};
    return v;
}

bool matches(std::uint64_t record, const std::byte* p, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i)
        if (p[i] != std::byte{pattern_byte(record, i)}) return false;
    return true;
}

std::string unique_name(const char* tag) {
    static int counter = 0;
    return "/buddy-test-ring-" + std::to_string(::getpid()) + "-" + tag + "-" + std::to_string(counter++);
}

}  // namespace

TEST_CASE("layout constants") {
    CHECK(ring_bytes(4096) == sizeof(ring_header) + 4096);
    CHECK(sizeof(ring_header) % 64 == 0);
    CHECK(offsetof(ring_header, tail) - offsetof(ring_header, head) >= 64);
    ring_memory r(4096);
    producer p(r.mem);
    CHECK(p.capacity() == 4096);
    CHECK(p.max_chunk_payload() == 4096 / 2 - 8);
}

TEST_CASE("empty ring") {
    ring_memory r(4096);
    consumer c(r.mem);
    CHECK(c.empty());
    CHECK(c.front().empty());
    CHECK(c.front().data() == nullptr);
    std::byte buf[16];
    CHECK(c.try_pop(buf, sizeof buf) == -1);
    c.pop();  // no front: harmless
    CHECK(c.empty());
    CHECK_FALSE(c.corrupted());
}

TEST_CASE("push then pop one record, and try_pop too-small buffer") {
    ring_memory r(4096);
    producer p(r.mem);
    consumer c(r.mem);
    const auto rec = make_record(1, 100);
    REQUIRE(p.try_push(rec.data(), rec.size()));
    CHECK_FALSE(c.empty());
    std::byte small[50];
    CHECK(c.try_pop(small, sizeof small) == -2);
    CHECK_FALSE(c.empty());  // left in place
    auto s = c.front();
    REQUIRE(s.size() == 100);
    CHECK(reinterpret_cast<std::uintptr_t>(s.data()) % 8 == 0);
    CHECK(matches(1, s.data(), s.size()));
    c.pop();
    CHECK(c.empty());
    CHECK(c.try_pop(small, sizeof small) == -1);
}

TEST_CASE("wrap-around with skip markers, content checked") {
    constexpr std::size_t cap = 4096;
    ring_memory r(cap);
    producer p(r.mem);
    consumer c(r.mem);
    std::vector<std::byte> out(cap);
    // 1000 bytes: chunk 1008; four of them do not fit in 4096, so almost every
    // lap ends with a skip marker.  Mix in other sizes to vary the remainder.
    const std::size_t sizes[] = {1000, 1000, 13, 1000, 777, 1500, 8, 2040, 0, 999};
    std::uint64_t pushed = 0, popped = 0;
    for (int round = 0; round < 5000; ++round) {
        const std::size_t n = sizes[static_cast<std::size_t>(round) % std::size(sizes)];
        const auto rec = make_record(pushed, n);
        while (!p.try_push(rec.data(), rec.size())) {
            const auto got = c.try_pop(out.data(), out.size());
            REQUIRE(got >= 0);
            REQUIRE(static_cast<std::size_t>(got) ==
                    sizes[static_cast<std::size_t>(popped) % std::size(sizes)]);
            REQUIRE(matches(popped, out.data(), static_cast<std::size_t>(got)));
            ++popped;
        }
        ++pushed;
    }
    for (;;) {
        const auto got = c.try_pop(out.data(), out.size());
        if (got == -1) break;
        REQUIRE(got >= 0);
        REQUIRE(static_cast<std::size_t>(got) == sizes[static_cast<std::size_t>(popped) % std::size(sizes)]);
        REQUIRE(matches(popped, out.data(), static_cast<std::size_t>(got)));
        ++popped;
    }
    CHECK(popped == pushed);
    CHECK(c.empty());
    CHECK_FALSE(c.corrupted());
    // Many laps were made: the indices never wrap, they only grow.
    const auto* h = reinterpret_cast<const ring_header*>(r.mem);
    CHECK(h->tail > 100 * cap);
    CHECK(h->head == h->tail);
}

TEST_CASE("full ring refuses, nothing is overwritten, and accepts after a pop") {
    constexpr std::size_t cap = 4096;
    ring_memory r(cap);
    producer p(r.mem);
    consumer c(r.mem);
    // 56-byte payloads make 64-byte chunks: exactly 64 fit.
    int n = 0;
    while (true) {
        const auto rec = make_record(static_cast<std::uint64_t>(n), 56);
        if (!p.try_push(rec.data(), rec.size())) break;
        ++n;
        REQUIRE(n <= 64);
    }
    CHECK(n == 64);
    std::size_t granted = 123;
    CHECK(p.try_reserve(8, 8, granted) == nullptr);
    CHECK(granted == 0);
    CHECK(p.try_reserve(0, 0, granted) == nullptr);  // even a bare header needs 8 bytes
    const auto extra = make_record(999, 8);
    CHECK_FALSE(p.try_push(extra.data(), extra.size()));

    // Pop one: now exactly one more 64-byte chunk fits.
    std::byte out[64];
    REQUIRE(c.try_pop(out, sizeof out) == 56);
    CHECK(matches(0, out, 56));
    const auto again = make_record(64, 56);
    CHECK(p.try_push(again.data(), again.size()));
    CHECK_FALSE(p.try_push(extra.data(), extra.size()));
    for (int i = 1; i <= 64; ++i) {
        REQUIRE(c.try_pop(out, sizeof out) == 56);
        CHECK(matches(static_cast<std::uint64_t>(i), out, 56));
    }
    CHECK(c.try_pop(out, sizeof out) == -1);
}

TEST_CASE("many record sizes 0..max, random, content-checked") {
    constexpr std::size_t cap = 8192;
    ring_memory r(cap);
    producer p(r.mem);
    consumer c(r.mem);
    const std::size_t maxp = p.max_chunk_payload();
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<std::size_t> size_of(0, maxp);
    std::vector<std::size_t> sizes;
    std::vector<std::byte> out(maxp);
    std::uint64_t pushed = 0, popped = 0;
    std::size_t zero_len = 0, max_len = 0;
    auto pop_one = [&] {
        auto s = c.front();
        REQUIRE(s.data() != nullptr);
        REQUIRE(s.size() == sizes[popped]);
        REQUIRE(reinterpret_cast<std::uintptr_t>(s.data()) % 8 == 0);
        REQUIRE(matches(popped, s.data(), s.size()));
        c.pop();
        ++popped;
    };
    for (int i = 0; i < 20000; ++i) {
        std::size_t n = size_of(rng);
        if (i % 97 == 0) n = 0;
        if (i % 101 == 0) n = maxp;
        zero_len += n == 0;
        max_len += n == maxp;
        sizes.push_back(n);
        const auto rec = make_record(pushed, n);
        while (!p.try_push(rec.data(), rec.size())) pop_one();
        ++pushed;
        // Drain at random moments so the ring is sometimes near empty.
        if (rng() % 7 == 0)
            while (popped < pushed) pop_one();
    }
    while (popped < pushed) pop_one();
    CHECK(c.empty());
    CHECK(zero_len > 100);
    CHECK(max_len > 100);
    CHECK_FALSE(c.corrupted());
}

TEST_CASE("try_reserve grants within bounds and commit of less than granted") {
    constexpr std::size_t cap = 4096;
    ring_memory r(cap);
    producer p(r.mem);
    consumer c(r.mem);

    std::size_t granted = 0;
    std::byte* w = p.try_reserve(16, 1000, granted);
    REQUIRE(w != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(w) % 8 == 0);
    CHECK(granted == 1000);  // fits entirely: exactly max
    std::memset(w, 0x11, 37);
    p.commit(37);

    // Ask for more than fits contiguously: get what fits, a multiple of 8.
    w = p.try_reserve(8, 100000, granted);
    REQUIRE(w != nullptr);
    CHECK(granted >= 8);
    CHECK(granted <= p.max_chunk_payload());
    CHECK(granted % 8 == 0);
    std::memset(w, 0x22, 5);
    p.commit(5);

    auto s = c.front();
    REQUIRE(s.size() == 37);
    for (auto b : s) CHECK(b == std::byte{0x11});
    c.pop();
    s = c.front();
    REQUIRE(s.size() == 5);
    for (auto b : s) CHECK(b == std::byte{0x22});
    c.pop();
    CHECK(c.empty());

    // The next chunk starts right after the padded 5-byte payload.
    w = p.try_reserve(8, 8, granted);
    REQUIRE(w != nullptr);
    const auto* base = r.mem + sizeof(ring_header);
    CHECK(w - base == static_cast<std::ptrdiff_t>(chunk_bytes(37) + chunk_bytes(5) + chunk_header_bytes));
    p.commit(0);

    // min > max, and min beyond the largest chunk, are refused.
    CHECK(p.try_reserve(64, 32, granted) == nullptr);
    CHECK(granted == 0);
}

TEST_CASE("reserve grant shrinks to the contiguous space, then skips to the start") {
    constexpr std::size_t cap = 4096;
    ring_memory r(cap);
    producer p(r.mem);
    consumer c(r.mem);
    std::byte buf[2048];
    // Move both indices to 4096 - 200 with an empty ring.
    std::size_t granted = 0;
    REQUIRE(p.try_reserve(1888, 1888, granted) != nullptr);
    p.commit(1888);  // 1896
    REQUIRE(p.try_reserve(1992, 1992, granted) != nullptr);
    p.commit(1992);  // 1896 + 2000 = 3896
    REQUIRE(c.try_pop(buf, sizeof buf) == 1888);
    REQUIRE(c.try_pop(buf, sizeof buf) == 1992);
    // 200 bytes remain before the end: a flexible reservation takes them.
    std::byte* w = p.try_reserve(8, 1000, granted);
    REQUIRE(w != nullptr);
    CHECK(granted == 192);
    p.commit(0);  // dropped
    CHECK(c.empty());
    // A reservation needing more than 200 contiguous bytes goes to the start.
    w = p.try_reserve(300, 300, granted);
    REQUIRE(w != nullptr);
    CHECK(granted == 300);
    CHECK(w == r.mem + sizeof(ring_header) + chunk_header_bytes);
    std::memset(w, 0x33, 300);
    p.commit(300);
    auto s = c.front();
    REQUIRE(s.size() == 300);
    CHECK(s.data() == w);
    CHECK(s[299] == std::byte{0x33});
    c.pop();
    CHECK(c.empty());
}

TEST_CASE("commit(0) publishes nothing") {
    ring_memory r(4096);
    producer p(r.mem);
    consumer c(r.mem);
    std::size_t granted = 0;
    REQUIRE(p.try_reserve(8, 64, granted) != nullptr);
    p.commit(0);
    CHECK(c.empty());
    CHECK(c.front().data() == nullptr);
    p.commit(10);  // no reservation any more: ignored
    CHECK(c.empty());
    const auto* h = reinterpret_cast<const ring_header*>(r.mem);
    CHECK(h->tail == 0);
    // The dropped space is reused by the next chunk.
    std::byte* w1 = p.try_reserve(8, 8, granted);
    p.commit(0);
    std::byte* w2 = p.try_reserve(8, 8, granted);
    CHECK(w1 == w2);
    p.commit(8);
    CHECK_FALSE(c.empty());
}

TEST_CASE("record bigger than max_chunk_payload is refused") {
    ring_memory r(4096);
    producer p(r.mem);
    consumer c(r.mem);
    const std::size_t maxp = p.max_chunk_payload();
    std::vector<std::byte> big(maxp + 8);
    CHECK_FALSE(p.try_push(big.data(), maxp + 1));
    std::size_t granted = 7;
    CHECK(p.try_reserve(maxp + 1, maxp + 1, granted) == nullptr);
    CHECK(granted == 0);
    CHECK(c.empty());
    // max is clamped, min within bounds works.
    CHECK(p.try_reserve(8, maxp * 4, granted) != nullptr);
    CHECK(granted == maxp);
    p.commit(0);
    CHECK(p.try_push(big.data(), maxp));
    CHECK(c.front().size() == maxp);
}

TEST_CASE("init_ring refuses bad capacities and misaligned memory") {
    ring_memory r(8192);
    CHECK_THROWS_AS(init_ring(r.mem, 5000), std::invalid_argument);
    CHECK_THROWS_AS(init_ring(r.mem, 2048), std::invalid_argument);
    CHECK_THROWS_AS(init_ring(r.mem, 0), std::invalid_argument);
    CHECK_THROWS_AS(init_ring(r.mem + 8, 4096), std::invalid_argument);
    CHECK_THROWS_WITH_AS(init_ring(r.mem, 6144), doctest::Contains("power of two"), std::invalid_argument);
    CHECK_NOTHROW(init_ring(r.mem, 8192));
}

TEST_CASE("check_ring accepts a good ring and refuses garbage") {
    ring_memory r(4096);
    CHECK_NOTHROW(check_ring(r.mem, r.bytes));
    // Mapped smaller than the ring needs.
    CHECK_THROWS_WITH_AS(check_ring(r.mem, r.bytes - 1), doctest::Contains("mapped"), std::runtime_error);
    CHECK_THROWS_AS(check_ring(r.mem, 100), std::runtime_error);

    auto* h = reinterpret_cast<ring_header*>(r.mem);
    h->version = 99;
    CHECK_THROWS_WITH_AS(check_ring(r.mem, r.bytes), doctest::Contains("version"), std::runtime_error);
    h->version = ring_version;
    h->capacity = 5000;
    CHECK_THROWS_WITH_AS(check_ring(r.mem, r.bytes), doctest::Contains("capacity"), std::runtime_error);
    h->capacity = 4096;
    h->head = 10;
    h->tail = 5;
    CHECK_THROWS_WITH_AS(check_ring(r.mem, r.bytes), doctest::Contains("inconsistent"), std::runtime_error);
    h->head = h->tail = 0;
    CHECK_NOTHROW(check_ring(r.mem, r.bytes));

    std::memset(r.mem, 0x5C, r.bytes);
    CHECK_THROWS_WITH_AS(check_ring(r.mem, r.bytes), doctest::Contains("bad magic"), std::runtime_error);
    std::memset(r.mem, 0, r.bytes);
    CHECK_THROWS_WITH_AS(check_ring(r.mem, r.bytes), doctest::Contains("not initialised"), std::runtime_error);
}

TEST_CASE("consumer detects a corrupted chunk header instead of reading out of bounds") {
    ring_memory r(4096);
    producer p(r.mem);
    consumer c(r.mem);
    const auto rec = make_record(0, 16);
    REQUIRE(p.try_push(rec.data(), rec.size()));
    chunk_header bad{100000, 0};
    std::memcpy(r.mem + sizeof(ring_header), &bad, sizeof bad);
    CHECK(c.front().data() == nullptr);
    CHECK(c.corrupted());
    std::byte out[16];
    CHECK(c.try_pop(out, sizeof out) == -1);
}

TEST_CASE("producer and consumer re-attach and continue where the last ones stopped") {
    ring_memory r(4096);
    std::byte out[64];
    {
        producer p(r.mem);
        for (std::uint64_t i = 0; i < 30; ++i) {
            const auto rec = make_record(i, 40);
            REQUIRE(p.try_push(rec.data(), rec.size()));
        }
        consumer c(r.mem);
        for (std::uint64_t i = 0; i < 10; ++i) REQUIRE(c.try_pop(out, sizeof out) == 40);
    }
    producer p2(r.mem);
    producer p3(std::move(p2));  // moved-to producer keeps the state
    CHECK_FALSE(p2.attached());
    const auto rec = make_record(30, 40);
    REQUIRE(p3.try_push(rec.data(), rec.size()));
    consumer c2(r.mem);
    for (std::uint64_t i = 10; i <= 30; ++i) {
        REQUIRE(c2.try_pop(out, sizeof out) == 40);
        CHECK(matches(i, out, 40));
    }
    CHECK(c2.empty());
    const auto* h = reinterpret_cast<const ring_header*>(r.mem);
    CHECK(h->producer_pid == static_cast<std::uint32_t>(::getpid()));
    CHECK(h->consumer_pid == static_cast<std::uint32_t>(::getpid()));
}

TEST_CASE("two threads: producer with reserve/commit, consumer with front/pop") {
    constexpr std::size_t cap = 1 << 14;
    ring_memory r(cap);
    constexpr std::uint64_t records = 200000;
    std::atomic<bool> producer_ok{true};
    std::thread t([&] {
        producer p(r.mem);
        for (std::uint64_t i = 0; i < records; ++i) {
            const std::size_t n = 1 + (i * 2654435761u) % 300;
            std::size_t granted = 0;
            std::byte* w;
            while ((w = p.try_reserve(n, n + 64, granted)) == nullptr) std::this_thread::yield();
            if (granted < n) producer_ok = false;
            for (std::size_t k = 0; k < n; ++k) w[k] = std::byte{pattern_byte(i, k)};
            p.commit(n);
        }
    });
    consumer c(r.mem);
    std::uint64_t got = 0;
    bool ok = true;
    while (got < records && ok) {
        auto s = c.front();
        if (s.data() == nullptr) {
            std::this_thread::yield();
            continue;
        }
        const std::size_t n = 1 + (got * 2654435761u) % 300;
        ok = s.size() == n && matches(got, s.data(), s.size());
        c.pop();
        ++got;
    }
    t.join();
    CHECK(ok);
    CHECK(producer_ok.load());
    CHECK(got == records);
    CHECK(c.empty());
}

TEST_CASE("shm_segment create/open/unlink round trip with a ring inside") {
    const std::string name = unique_name("rt");
    shm_segment::unlink(name);  // stale leftovers from a crashed run; missing is fine
    {
        shm_segment a = shm_segment::create(name, ring_bytes(4096));
        CHECK(a.valid());
        CHECK(a.name() == name);
        CHECK(a.size() == ring_bytes(4096));
        CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0);
        init_ring(a.data(), 4096);

        shm_segment b = shm_segment::open(name);
        CHECK(b.size() == a.size());
        CHECK(b.data() != a.data());  // two mappings of the same memory
        CHECK_NOTHROW(check_ring(b.data(), b.size()));

        producer p(a.data());
        consumer c(b.data());
        const auto rec = make_record(7, 99);
        REQUIRE(p.try_push(rec.data(), rec.size()));
        auto s = c.front();
        REQUIRE(s.size() == 99);
        CHECK(matches(7, s.data(), s.size()));
        c.pop();

        shm_segment moved = std::move(b);
        CHECK_FALSE(b.valid());
        CHECK(moved.valid());
        CHECK(moved.name() == name);
    }
    // With a NUMA node: bound if the system has NUMA, ignored otherwise.
    shm_segment::unlink(name);
    {
        shm_segment n0 = shm_segment::create(name, 1 << 16, 0);
        init_ring(n0.data(), 4096);
        CHECK_NOTHROW(check_ring(n0.data(), n0.size()));
    }
    shm_segment::unlink(name);
    CHECK_NOTHROW(shm_segment::unlink(name));  // ENOENT is ignored
    CHECK_THROWS_AS(shm_segment::open(name), std::system_error);
}

TEST_CASE("shm_segment errors name the segment and the call") {
    const std::string name = unique_name("excl");
    shm_segment::unlink(name);
    shm_segment a = shm_segment::create(name, 4096);
    try {
        (void)shm_segment::create(name, 4096);
        FAIL("second create of the same name must throw");
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        CHECK(e.code() == std::errc::file_exists);
        CHECK(what.find(name) != std::string::npos);
        CHECK(what.find("shm_open") != std::string::npos);
    }
    // The failed create must not have removed the first one's name.
    CHECK_NOTHROW((void)shm_segment::open(name));
    shm_segment::unlink(name);

    try {
        (void)shm_segment::open(name);
        FAIL("open of a missing segment must throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::no_such_file_or_directory);
        CHECK(std::string(e.what()).find(name) != std::string::npos);
    }
    CHECK_THROWS_AS((void)shm_segment::create("no-slash", 4096), std::system_error);
    CHECK_THROWS_AS((void)shm_segment::create("/a/b", 4096), std::system_error);
    CHECK_THROWS_AS((void)shm_segment::create(unique_name("zero"), 0), std::system_error);
}

namespace {

// A publish policy shaped like the dpu one: the producer writes into its own
// staging copy of the ring; publishing copies the skip marker and the chunk to
// the consumer's copy at the same offsets ("put"), then stores the tail there
// ("fence, put").  Nothing reaches the consumer's copy any other way.
struct copy_to_remote_publish {
    std::byte* remote = nullptr;
    std::size_t* calls = nullptr;
    std::size_t* skips = nullptr;
    void operator()(const publication& p) const noexcept {
        ++*calls;
        if (!p.skip.empty()) {
            ++*skips;
            std::memcpy(remote + (p.skip.data() - p.ring), p.skip.data(), p.skip.size());
        }
        std::memcpy(remote + (p.chunk.data() - p.ring), p.chunk.data(), p.chunk.size());
        // release: the copies above are visible no later than the tail the
        // consumer reads with acquire.
        auto* remote_tail = reinterpret_cast<std::uint64_t*>(remote + (reinterpret_cast<std::byte*>(p.tail) - p.ring));
        std::atomic_ref<std::uint64_t>(*remote_tail).store(p.new_tail, std::memory_order_release);
    }
};

}  // namespace

TEST_CASE("a publish policy sees every chunk and the new tail, and is the only way chunks reach the consumer") {
    constexpr std::size_t capacity = 4096;
    ring_memory staging(capacity), remote(capacity);
    std::size_t calls = 0, skips = 0;
    basic_producer<copy_to_remote_publish> p(staging.mem, copy_to_remote_publish{remote.mem, &calls, &skips});
    consumer c(remote.mem);
    auto* staging_head = &reinterpret_cast<ring_header*>(staging.mem)->head;
    auto* remote_head = &reinterpret_cast<ring_header*>(remote.mem)->head;

    // Reserved and written but not committed: the policy has not run, the consumer sees nothing.
    std::size_t granted = 0;
    std::byte* w = p.try_reserve(64, 64, granted);
    REQUIRE(w != nullptr);
    std::memset(w, 0x11, 64);
    CHECK(calls == 0);
    CHECK(c.front().data() == nullptr);
    p.commit(64);
    CHECK(calls == 1);
    auto first = c.front();
    REQUIRE(first.size() == 64);
    CHECK(std::to_integer<int>(first[0]) == 0x11);
    c.pop();

    // Many sizes through several wrap-arounds: content and order survive, and
    // skip markers travel with the chunks they precede.
    std::mt19937_64 rng(7);
    std::uint64_t sent = 1, received = 1;
    for (int round = 0; round < 2000; ++round) {
        const std::size_t bytes = rng() % 700;
        const auto rec = make_record(sent, bytes);
        if (p.try_push(rec.data(), rec.size())) ++sent;
        for (auto f = c.front(); f.data() != nullptr && rng() % 2 == 0; f = c.front()) {
            REQUIRE(matches(received, f.data(), f.size()));
            ++received;
            c.pop();
        }
        // Credit return, as the consumer's put of its head would do.
        std::atomic_ref<std::uint64_t>(*staging_head)
            .store(std::atomic_ref<std::uint64_t>(*remote_head).load(std::memory_order_acquire),
                   std::memory_order_release);
    }
    for (auto f = c.front(); f.data() != nullptr; f = c.front()) {
        REQUIRE(matches(received, f.data(), f.size()));
        ++received;
        c.pop();
    }
    CHECK(received == sent);
    CHECK(sent > 500);
    CHECK(calls == sent);  // one publication per chunk
    CHECK(skips > 0);
    CHECK_FALSE(c.corrupted());
}

namespace {

// A release policy shaped like the dpu one (rma_release): credit goes back to
// the producer's copy only once a quarter of the ring was consumed, or when
// front() finds the ring empty while some is still owed.
struct batched_copy_release {
    std::uint64_t* producer_head = nullptr;  // the head field of the producer's copy
    std::uint64_t returned = 0;
    std::uint64_t batch = 0;
    std::size_t* pops = nullptr;
    std::size_t* returns = nullptr;
    std::size_t* idles = nullptr;
    void operator()(const credit& c) noexcept {
        ++*pops;
        if (c.new_head - returned >= batch) give(c);
    }
    void idle(const credit& c) noexcept {
        ++*idles;
        if (c.new_head != returned) give(c);
    }
    void give(const credit& c) noexcept {
        ++*returns;
        // release: pairs with the producer's acquire load of its head.
        std::atomic_ref<std::uint64_t>(*producer_head).store(c.new_head, std::memory_order_release);
        returned = c.new_head;
    }
};

}  // namespace

TEST_CASE("a release policy sees every pop and every empty front, and batched credit never starves a full producer") {
    constexpr std::size_t capacity = 4096;
    ring_memory staging(capacity), remote(capacity);
    std::size_t calls = 0, skips = 0, pops = 0, returns = 0, idles = 0;
    basic_producer<copy_to_remote_publish> p(staging.mem, copy_to_remote_publish{remote.mem, &calls, &skips});
    basic_consumer<batched_copy_release> c(
        remote.mem, batched_copy_release{&reinterpret_cast<ring_header*>(staging.mem)->head, 0, capacity / 4, &pops,
                                         &returns, &idles});

    // Nothing published: front() reports empty and tells the policy, which owes nothing.
    CHECK(c.front().data() == nullptr);
    CHECK(idles == 1);
    CHECK(returns == 0);

    std::uint64_t sent = 0, received = 0;
    for (int round = 0; round < 200; ++round) {
        // Fill the ring until the producer looks full.
        while (p.try_push(make_record(sent, 200).data(), 200)) ++sent;
        // Read everything: credit went back in quarters while popping, and the
        // rest when front() found the ring empty, so the producer has room again.
        for (auto f = c.front(); f.data() != nullptr; f = c.front()) {
            REQUIRE(matches(received, f.data(), f.size()));
            ++received;
            c.pop();
        }
        REQUIRE(received == sent);
        CHECK(reinterpret_cast<ring_header*>(staging.mem)->head == reinterpret_cast<ring_header*>(remote.mem)->tail);
        REQUIRE(p.try_push(make_record(sent, 200).data(), 200));
        ++sent;
    }
    CHECK(pops == received);
    CHECK(returns <= pops / 3);  // 208-byte chunks: one return per 5 pops, plus one per drain (800 of 3800)
    CHECK(returns >= 200);      // at least one per drain
    CHECK(skips > 0);
}
