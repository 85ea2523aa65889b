// Rings over UCX RMA between two processes (placement dpu's data path):
// rma_publish and rma_release over shared memory (UCX_TLS=sm) and over tcp on
// loopback (UCX_TLS=tcp, UCX_NET_DEVICES=lo).
//
// Each case forks after choosing the transports; parent and child each make a
// worker, two rings (an outbound staging ring and an inbound ring), register
// them, and swap worker addresses and rma_ring_side bytes over a socketpair
// (standing in for the control plane).  Each process then holds both roles at
// once: producer of its outbound ring into the peer's inbound copy, consumer
// of its inbound ring, returning credit into the peer's staging copy.  The
// child reports what it saw over the socket; the parent checks both sides.
//
// Run time: 5 to 13 s on this 2-core machine shared with other builds (9 to
// 11 s for the aarch64 build under qemu-user): the dead-peer cases over sm
// wait out their 1.5 s bounds (3 of the seconds), the rest is traffic, most of
// it tcp.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "buddy/ring/spsc_ring.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/memory_region.hpp"
#include "buddy/transport/message_writes.hpp"
#include "buddy/transport/rma.hpp"
#include "buddy/transport/rma_ring.hpp"
#include "buddy/transport/worker.hpp"
#include "socket_blobs.hpp"

namespace ring = buddy::ring;
namespace tp = buddy::transport;

namespace {

constexpr double io_timeout_s = 20.0;

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// The socketpair between the two processes (tests/support/socket_blobs.hpp),
// every read bounded by io_timeout_s.
using buddy::test_support::send_blob;
using buddy::test_support::send_text;
std::vector<std::byte> recv_blob(int fd) { return buddy::test_support::recv_blob(fd, io_timeout_s); }
std::string recv_text(int fd) { return buddy::test_support::recv_text(fd, io_timeout_s); }

// ---- one process's side: a worker, two rings, both roles ----------------

struct aligned_block {
    explicit aligned_block(std::size_t n) : bytes(n), mem(static_cast<std::byte*>(::operator new(n, std::align_val_t{64}))) {
        std::memset(mem, 0xA5, n);
    }
    ~aligned_block() { ::operator delete(mem, std::align_val_t{64}); }
    aligned_block(const aligned_block&) = delete;
    aligned_block& operator=(const aligned_block&) = delete;
    std::size_t bytes;
    std::byte* mem;
};

// The producer's policy, counting publications with a skip marker (to show
// that wrap-around happened), then doing what rma_publish does.
struct counting_publish {
    tp::rma_publish inner;
    std::uint64_t* skips = nullptr;
    void operator()(const ring::publication& p) noexcept {
        if (!p.skip.empty()) ++*skips;
        inner(p);
    }
};

struct transports {
    const char* name;
    const char* tls;
    tp::endpoint::failure_detection detection;
    tp::carrier how;
};
// Shared memory: UCX 1.13 refuses shared-memory transports under its own
// peer-failure detection, so waits there are bounded by their timeouts.
// tcp: UCX reports a dead peer (the connection closes).
// Each with both carriers: messages (what carrier_for picks here, and what
// placement dpu uses without RDMA hardware) and rma (UCX's put and atomics,
// emulated in software here, the path of RDMA hardware).
const transports sm{"sm", "sm", tp::endpoint::failure_detection::by_caller, tp::carrier::messages};
const transports tcp{"tcp", "tcp", tp::endpoint::failure_detection::by_transport, tp::carrier::messages};
const transports sm_rma{"sm, carrier rma", "sm", tp::endpoint::failure_detection::by_caller, tp::carrier::rma};
const transports tcp_rma{"tcp, carrier rma", "tcp", tp::endpoint::failure_detection::by_transport, tp::carrier::rma};
const transports* const every_transport[] = {&sm, &tcp, &sm_rma, &tcp_rma};

void choose(const transports& t) {
    ::setenv("UCX_TLS", t.tls, 1);
    if (std::strcmp(t.tls, "tcp") == 0) ::setenv("UCX_NET_DEVICES", "lo", 1);
    else ::unsetenv("UCX_NET_DEVICES");
}

struct side {
    side(int fd, const transports& t, std::size_t capacity, const char* self_name, const char* peer_name,
         double stall_timeout_s = 30.0, std::size_t depth = 64)
        : w(std::string("rma-test-") + self_name, 0, tp::worker_features::am_and_rma),
          out(ring::ring_bytes(capacity)),
          in(ring::ring_bytes(capacity)),
          writes(w) {
        ring::init_ring(out.mem, capacity);
        ring::init_ring(in.mem, capacity);
        out_region = tp::memory_region(w, out.mem, out.bytes);
        in_region = tp::memory_region(w, in.mem, in.bytes);
        writes.expose(out.mem, out.bytes);  // the peer's credit
        writes.expose(in.mem, in.bytes);    // the peer's chunks and tail
        // What the control plane's hello / reply carry.
        send_blob(fd, w.address());
        send_blob(fd, tp::rma_ring_side::of(out_region).to_bytes());
        send_blob(fd, tp::rma_ring_side::of(in_region).to_bytes());
        const auto peer_address = recv_blob(fd);
        const auto peer_out = tp::rma_ring_side::from_bytes(recv_blob(fd));
        const auto peer_in = tp::rma_ring_side::from_bytes(recv_blob(fd));
        ep = tp::endpoint(w, peer_address, peer_name, t.detection);
        if (std::getenv("BUDDY_TEST_PRINT_LANES") != nullptr) std::fprintf(stderr, "%s\n", ep.describe().c_str());
        channel = std::make_unique<tp::rma_channel>(w, ep, t.how, depth, stall_timeout_s);
        // My chunks go into the peer's inbound copy; my credit into its staging copy.
        to_consumer = std::make_unique<tp::remote_ring>(ep, peer_in, ring::ring_bytes(capacity));
        to_producer = std::make_unique<tp::remote_ring>(ep, peer_out, ring::ring_bytes(capacity));
        producer = ring::basic_producer<counting_publish>(
            out.mem, counting_publish{tp::rma_publish(*channel, *to_consumer, out.mem), &skips});
        consumer = tp::rma_consumer(in.mem, tp::rma_release(*channel, *to_producer, in.mem));
    }

    tp::worker w;
    aligned_block out, in;
    tp::memory_region out_region, in_region;
    tp::write_target writes;
    tp::endpoint ep;
    std::unique_ptr<tp::rma_channel> channel;
    std::unique_ptr<tp::remote_ring> to_consumer, to_producer;
    std::uint64_t skips = 0;
    ring::basic_producer<counting_publish> producer;
    tp::rma_consumer consumer;
};

// ---- traffic ------------------------------------------------------------

struct traffic {
    std::uint64_t records = 0;     ///< each side sends this many
    bool packed = false;           ///< 8-byte records packed into chunks of chunk_bytes; else one record per chunk
    std::size_t chunk_bytes = 4096;
    std::size_t max_record = 700;  ///< one-record chunks: sizes 1 .. max_record
    unsigned slow_every = 0;       ///< consumer sleeps 50 us after every slow_every chunks (0: never)
    double timeout_s = 60.0;
    std::size_t depth = 64;        ///< RMA operations in flight at most
};

struct outcome {
    std::uint64_t sent = 0, received = 0, checksum = 0, skips = 0, full = 0, stalls = 0;
    bool in_order = true;
    bool corrupted = false;
    std::string to_text() const {
        return std::to_string(sent) + " " + std::to_string(received) + " " + std::to_string(checksum) + " " +
               std::to_string(skips) + " " + std::to_string(full) + " " + std::to_string(stalls) + " " +
               (in_order ? "1" : "0") + " " +
               (corrupted ? "1" : "0");
    }
    static outcome from_text(const std::string& s) {
        outcome o;
        int ord = 0, cor = 0;
        unsigned long long a, b, c, d, e, f;
        if (std::sscanf(s.c_str(), "%llu %llu %llu %llu %llu %llu %d %d", &a, &b, &c, &d, &e, &f, &ord, &cor) != 8)
            throw std::runtime_error("child: " + s);
        o.sent = a, o.received = b, o.checksum = c, o.skips = d, o.full = e, o.stalls = f;
        o.in_order = ord, o.corrupted = cor;
        return o;
    }
};

// 1 .. max_record bytes (commit(0) publishes nothing, so no empty records here).
std::uint64_t record_size(std::uint64_t seq, std::size_t max_record) { return 1 + splitmix(seq ^ 0xABCD) % max_record; }

// Both roles at once until this side sent everything and received the peer's.
outcome run_traffic(side& s, const traffic& t, std::uint64_t seed_self, std::uint64_t seed_peer) {
    outcome o;
    std::uint64_t chunks_in = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(t.timeout_s);
    for (unsigned spins = 1; o.sent < t.records || o.received < t.records; ++spins) {
        const std::uint64_t sent_before = o.sent, received_before = o.received;
        // Produce one chunk.
        if (o.sent < t.records) {
            std::size_t granted = 0;
            if (t.packed) {
                std::byte* p = s.producer.try_reserve(8, t.chunk_bytes, granted);
                if (p != nullptr) {
                    std::size_t n = 0;
                    for (; n + 8 <= granted && o.sent < t.records; n += 8, ++o.sent) {
                        const std::uint64_t v = splitmix(seed_self + o.sent);
                        std::memcpy(p + n, &v, 8);
                    }
                    s.producer.commit(n);
                } else {
                    ++o.full;
                }
            } else {
                const std::size_t bytes = record_size(seed_self + o.sent, t.max_record);
                std::byte* p = s.producer.try_reserve(bytes, bytes, granted);
                if (p != nullptr) {
                    for (std::size_t i = 0; i < bytes; ++i)
                        p[i] = static_cast<std::byte>(splitmix(seed_self + o.sent + i * 0x10000));
                    s.producer.commit(bytes);
                    ++o.sent;
                } else {
                    ++o.full;
                }
            }
        }
        // Consume what arrived.
        for (int k = 0; k < 8; ++k) {
            const auto f = s.consumer.front();
            if (f.data() == nullptr) break;
            if (t.packed) {
                if (f.size() % 8 != 0) o.in_order = false;
                for (std::size_t n = 0; n + 8 <= f.size(); n += 8, ++o.received) {
                    std::uint64_t v;
                    std::memcpy(&v, f.data() + n, 8);
                    if (v != splitmix(seed_peer + o.received)) o.in_order = false;
                    o.checksum += v;
                }
            } else {
                const std::size_t bytes = record_size(seed_peer + o.received, t.max_record);
                if (f.size() != bytes) o.in_order = false;
                for (std::size_t i = 0; i < f.size() && i < bytes; ++i) {
                    const auto b = static_cast<std::byte>(splitmix(seed_peer + o.received + i * 0x10000));
                    if (f[i] != b) o.in_order = false;
                    o.checksum += std::to_integer<std::uint64_t>(f[i]);
                }
                ++o.received;
            }
            s.consumer.pop();
            ++chunks_in;
            if (t.slow_every != 0 && chunks_in % t.slow_every == 0)
                std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        // Our puts and the peer's (over tcp and sm, the target applies them).
        // Nothing moved: let the peer run (this machine may have fewer cores
        // than spinning processes).
        if (!s.channel->progress() && o.sent == sent_before && o.received == received_before)
            std::this_thread::yield();
        s.channel->check();
        if (s.ep.failed()) throw tp::transport_error("peer " + s.ep.peer_name() + " failed");
        if (spins % 1024 == 0 && std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("traffic did not finish within the timeout: sent " + std::to_string(o.sent) +
                                     ", received " + std::to_string(o.received) + ", full " + std::to_string(o.full) +
                                     ", corrupted " + std::to_string(s.consumer.corrupted()) + ", in flight " +
                                     std::to_string(s.channel->in_flight()) + ", in: head " +
                                     std::to_string(reinterpret_cast<ring::ring_header*>(s.in.mem)->head) + " tail " +
                                     std::to_string(reinterpret_cast<ring::ring_header*>(s.in.mem)->tail) +
                                     ", out: head " +
                                     std::to_string(reinterpret_cast<ring::ring_header*>(s.out.mem)->head) + " tail " +
                                     std::to_string(reinterpret_cast<ring::ring_header*>(s.out.mem)->tail));
    }
    // Everything we put has landed; the peer keeps progressing until we say so.
    s.channel->flush(io_timeout_s);
    o.skips = s.skips;
    o.stalls = s.channel->stalls();
    o.corrupted = s.consumer.corrupted();
    return o;
}

// ---- fork -----------------------------------------------------------------

struct pair_result {
    outcome parent, child;
};

// Runs `body(fd, is_parent)` in both processes; the child's outcome comes back
// as text ("error: ..." on an exception).  A child that does not report within
// the bound is killed.
template <class Body>
pair_result run_pair(const transports& t, Body body) {
    choose(t);
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        int code = 0;
        try {
            const outcome o = body(fds[1], false);
            send_text(fds[1], o.to_text());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: %s\n", e.what());
            try {
                send_text(fds[1], std::string("error: ") + e.what());
            } catch (...) {
            }
            code = 1;
        }
        ::_exit(code);
    }
    ::close(fds[1]);
    pair_result r;
    std::string child_text, parent_error;
    try {
        r.parent = body(fds[0], true);
        child_text = recv_text(fds[0]);
    } catch (const std::exception& e) {
        parent_error = e.what();
    }
    ::close(fds[0]);
    ::kill(pid, SIGKILL);  // no-op when it already exited
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("transport " << std::string(t.name) << ", child said: " << child_text);
    REQUIRE_MESSAGE(parent_error.empty(), parent_error);
    REQUIRE(child_text.rfind("error", 0) != 0);
    r.child = outcome::from_text(child_text);
    return r;
}

constexpr std::uint64_t seed_parent = 1000, seed_child = 7'000'000'000ull;

// Both done (and flushed) before either tears its worker down.  Until the
// peer's goodbye arrives we keep progressing: its flush may need us to apply
// or acknowledge its last operations.
void handshake(int fd, side& s, const std::string& word) {
    send_text(fd, word);
    s.channel->wait_for(
        [&] {
            pollfd pfd{fd, POLLIN, 0};
            return ::poll(&pfd, 1, 0) > 0;
        },
        io_timeout_s, "\"" + word + "\"");
    const std::string got = recv_text(fd);
    if (got != word) throw std::runtime_error("expected \"" + word + "\", got \"" + got + "\"");
}

void goodbye(int fd, side& s) { handshake(fd, s, "done"); }

pair_result exchange(const transports& t, std::size_t capacity, const traffic& tr) {
    const auto started = std::chrono::steady_clock::now();
    struct report {
        const transports& t;
        std::chrono::steady_clock::time_point started;
        ~report() {
            MESSAGE(std::string(t.name) << ": " << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
                           << " s");
        }
    } r{t, started};
    return run_pair(t, [&](int fd, bool parent) {
        side s(fd, t, capacity, parent ? "parent" : "child", parent ? "the child process" : "the parent process",
               30.0, tr.depth);
        const outcome o = run_traffic(s, tr, parent ? seed_parent : seed_child, parent ? seed_child : seed_parent);
        goodbye(fd, s);
        return o;
    });
}

std::uint64_t expected_checksum(std::uint64_t seed, std::uint64_t records) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < records; ++i) sum += splitmix(seed + i);
    return sum;
}

void check_both(const pair_result& r, std::uint64_t records) {
    for (const outcome* o : {&r.parent, &r.child}) {
        CHECK(o->sent == records);
        CHECK(o->received == records);
        CHECK(o->in_order);
        CHECK_FALSE(o->corrupted);
    }
}

}  // namespace

TEST_CASE("rma_ring_side round-trips through bytes and refuses malformed input") {
    tp::rma_ring_side s{0x7f0000001000ull, ring::ring_bytes(4096), {std::byte{1}, std::byte{2}, std::byte{3}}};
    const auto b = s.to_bytes();
    CHECK(b.size() == 24 + 3);
    const auto back = tp::rma_ring_side::from_bytes(b);
    CHECK(back.address == s.address);
    CHECK(back.bytes == s.bytes);
    CHECK(back.rkey == s.rkey);

    auto short_one = b;
    short_one.pop_back();
    CHECK_THROWS_WITH_AS(tp::rma_ring_side::from_bytes(short_one), doctest::Contains("expected 27"), std::invalid_argument);
    auto bad_magic = b;
    bad_magic[0] = std::byte{'X'};
    CHECK_THROWS_WITH_AS(tp::rma_ring_side::from_bytes(bad_magic), doctest::Contains("bad magic"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(tp::rma_ring_side::from_bytes(std::span<const std::byte>(b.data(), 10)),
                         doctest::Contains("shorter"), std::invalid_argument);
    tp::rma_ring_side misaligned = s;
    misaligned.address += 8;
    CHECK_THROWS_WITH_AS(tp::rma_ring_side::from_bytes(misaligned.to_bytes()), doctest::Contains("aligned"),
                         std::invalid_argument);
}

TEST_CASE("rma ring: order, content and wrap-around with skips, both roles in both processes") {
    for (const transports* t : every_transport) {
        INFO("transport " << std::string(t->name));
        traffic tr;
        tr.records = 20000;  // 1..700-byte records, one per chunk, through a 4 KiB ring
        const auto r = exchange(*t, 4096, tr);
        check_both(r, tr.records);
        CHECK(r.parent.skips > 100);  // wrapped many times, with markers
        CHECK(r.child.skips > 100);
    }
}

TEST_CASE("rma ring: credit keeps a producer faster than its consumer waiting, nothing lost (window of 4)") {
    for (const transports* t : every_transport) {
        INFO("transport " << std::string(t->name));
        traffic tr;
        tr.records = 5000;
        tr.max_record = 1500;
        tr.slow_every = 4;  // the consumer sleeps 50 us every 4 chunks
        tr.depth = 4;       // and operations wait for a slot in the window
        const auto r = exchange(*t, 4096, tr);
        check_both(r, tr.records);
        CHECK(r.parent.full > 0);  // each producer found the ring full, and later got credit
        CHECK(r.child.full > 0);
        MESSAGE(std::string(t->name) << ": window full " << r.parent.stalls << " and " << r.child.stalls << " times");
    }
}

TEST_CASE("rma ring: 10 million 8-byte records each way, counted and checksummed") {
    for (const transports* t : {&sm, &tcp}) {
        INFO("transport " << std::string(t->name));
        traffic tr;
        tr.records = 10'000'000;
        tr.packed = true;
        tr.chunk_bytes = 4096;
        const auto r = exchange(*t, std::size_t{1} << 16, tr);
        check_both(r, tr.records);
        CHECK(r.parent.checksum == expected_checksum(seed_child, tr.records));
        CHECK(r.child.checksum == expected_checksum(seed_parent, tr.records));
    }
}

namespace {

// One record each way first, so that the connection is up (UCX over tcp
// connects on first use) and the peer dies mid-job, not before it.
// Then "ready" both ways, progressing meanwhile (the peer may still need us
// to apply or acknowledge its operations).
void hello_record(int fd, side& s) {
    const std::uint64_t hello = 42;
    s.channel->wait_for([&] { return s.producer.try_push(&hello, sizeof hello); }, io_timeout_s, "space");
    s.channel->wait_for([&] { return s.consumer.front().data() != nullptr; }, io_timeout_s, "the hello record");
    s.consumer.pop();
    handshake(fd, s, "ready");
}

// Forks: the child runs child(fd) until it returns, throws or is killed;
// the parent runs parent(fd, pid), which kills the child when it wants to,
// and what it throws is the result ("" when it returns).  The child is killed
// and reaped in any case.
template <class Child, class Parent>
std::string with_killable_child(const transports& t, Child child, Parent parent) {
    choose(t);
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        try {
            child(fds[1]);
        } catch (...) {
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string error;
    try {
        parent(fds[0], pid);
    } catch (const std::exception& e) {
        error = e.what();
    }
    ::close(fds[0]);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return error;
}

// The child attaches, then dies (SIGKILL, no goodbye).  The parent, as
// `role`, waits on it through rma_channel::wait_for and must stop with an
// error naming the child.
std::string dead_peer_error(const transports& t, bool parent_produces) {
    std::string error = with_killable_child(
        t,
        [&](int fd) {
            side s(fd, t, 4096, "child", "the parent process");
            hello_record(fd, s);
            recv_text(fd);  // until killed
        },
        [&](int fd, pid_t pid) {
            side s(fd, t, 4096, "parent", "the child process", /*stall_timeout_s=*/2.0);
            hello_record(fd, s);
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            if (parent_produces) {
                // Fill the ring (nobody will return credit), then wait for space.
                std::vector<std::byte> rec(1000, std::byte{7});
                auto space = [&] { return s.producer.try_push(rec.data(), rec.size()); };
                for (int i = 0; i < 4 * 4096 / 1000 && !s.channel->failed() && !s.ep.failed(); ++i) space();
                for (;;) s.channel->wait_for(space, 1.5, "ring credit");
            }
            s.channel->wait_for([&] { return s.consumer.front().data() != nullptr; }, 1.5, "ring data");
        });
    return error.empty() ? "data arrived from a dead peer" : error;
}

}  // namespace

TEST_CASE("rma ring: a dead peer stops the waiting side with an error naming it, within a bound") {
    for (const transports* t : every_transport) {
        for (bool produces : {true, false}) {
            INFO("transport " << std::string(t->name));
            CAPTURE(produces);
            const auto started = std::chrono::steady_clock::now();
            const std::string error = dead_peer_error(*t, produces);
            const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            MESSAGE(std::string(t->name) << (produces ? " producer" : " consumer") << ": " << took << " s: " << error);
            CHECK(error.find("the child process") != std::string::npos);
            CHECK(took < 30.0);  // 1.5 s wait bound + 2 s stall bound, with room for a loaded machine
        }
    }
}

namespace {

// The child floods the parent's ring with 1000-byte chunks, both ways as in a
// job, and is killed while its writes are in flight.  The parent (this test
// process) keeps consuming and progressing until its wait fails.  With UCX's
// emulated RMA over tcp the parent's worker aborts the process when the
// acknowledgement of a dead peer's put cannot be sent; carried as messages
// nothing is acknowledged, and the parent ends with an error naming the child.
std::string killed_mid_flood(const transports& t, int round) {
    std::vector<std::byte> rec(1000, std::byte{5});
    return with_killable_child(
        t,
        [&](int fd) {
            side s(fd, t, 1 << 16, "child", "the parent process");
            hello_record(fd, s);
            for (;;) {
                s.producer.try_push(rec.data(), rec.size());
                s.channel->progress();
                while (s.consumer.front().data() != nullptr) s.consumer.pop();
            }
        },
        [&](int fd, pid_t pid) {
            side s(fd, t, 1 << 16, "parent", "the child process", /*stall_timeout_s=*/2.0);
            hello_record(fd, s);
            // Killed after a different number of chunks each round, so the
            // kill lands at different points of the stream.
            std::uint64_t kill_after = 500 + 700 * static_cast<std::uint64_t>(round);
            std::uint64_t got = 0;
            auto flood = [&] {
                s.producer.try_push(rec.data(), rec.size());
                for (; s.consumer.front().data() != nullptr; ++got) s.consumer.pop();
                return got >= kill_after;
            };
            s.channel->wait_for(flood, io_timeout_s, "the child's chunks");
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            kill_after = ~std::uint64_t{0};  // from now on, never done
            for (;;) s.channel->wait_for(flood, 1.5, "the child's chunks after its death");
        });
}

}  // namespace

TEST_CASE("rma ring: a peer killed with writes in flight does not take this process down (carrier messages)") {
    for (const transports* t : {&sm, &tcp}) {
        for (int round = 0; round < 4; ++round) {
            INFO("transport " << std::string(t->name) << ", round " << round);
            const std::string error = killed_mid_flood(*t, round);
            // Still here: the process survived.  And the wait ended naming the peer.
            CHECK(error.find("the child process") != std::string::npos);
        }
    }
}

TEST_CASE("carrier_for_lanes: rma only with RMA and atomic lanes on RDMA hardware") {
    const char* tcp_lanes = "#                 lane[0]:  0:tcp/lo.0 md[0]                -> md[0]/tcp/sysdev[255] am am_bw#0 keepalive wireup\n";
    const char* sm_lanes =
        "#                 lane[0]:  0:sysv/memory.0 md[0]           -> md[0]/sysv/sysdev[255] amo#0 am am_bw#0\n"
        "#                 lane[1]:  1:posix/memory.0 md[1]          -> md[1]/posix/sysdev[255] amo#1\n"
        "#                 lane[2]:  2:cma/memory.0 md[2]            -> md[2]/cma/sysdev[255] rma_bw#0\n";
    const char* rc_lanes =
        "#                 lane[0]:  0:rc_mlx5/mlx5_0:1.0 md[0]      -> md[0]/ib/sysdev[255] rma#0 rma_bw#0 amo#0 am am_bw#0\n"
        "#                 lane[1]:  1:ud_mlx5/mlx5_0:1.0 md[0]      -> md[0]/ib/sysdev[255] wireup\n";
    const char* rc_without_amo =
        "#                 lane[0]:  0:rc_verbs/mlx5_0:1.0 md[0]     -> md[0]/ib/sysdev[255] rma#0 rma_bw#0 am\n";
    CHECK(tp::carrier_for_lanes(tcp_lanes) == tp::carrier::messages);
    CHECK(tp::carrier_for_lanes(sm_lanes) == tp::carrier::messages);
    CHECK(tp::carrier_for_lanes(rc_lanes) == tp::carrier::rma);
    CHECK(tp::carrier_for_lanes(rc_without_amo) == tp::carrier::messages);
    CHECK(tp::carrier_for_lanes("") == tp::carrier::messages);
    CHECK(tp::carrier_for_lanes("lane[") == tp::carrier::messages);
    CHECK(tp::carrier_for_lanes("lane[0]: 0:rc_mlx5") == tp::carrier::messages);  // cut short: no '/'
}

TEST_CASE("write_target: writes inside an exposed window land; outside, misaligned or withdrawn ones are refused") {
    choose(tcp);
    tp::worker a("writes-a", 0, tp::worker_features::am_and_rma);
    tp::worker b("writes-b", 0, tp::worker_features::am_and_rma);
    tp::write_target target(b);
    alignas(64) static std::uint64_t window[64];
    alignas(64) static std::uint64_t outside[8];
    std::memset(window, 0, sizeof window);
    target.expose(window, sizeof window);
    tp::endpoint ep(a, b.address(), "worker b", tp::endpoint::failure_detection::by_caller);
    tp::rma_channel ch(a, ep, tp::carrier::messages, 8, 5.0);
    auto settle = [&](auto done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            ch.progress();
            b.progress();
        }
        REQUIRE(done());
    };
    const std::uint64_t data[2] = {0x1111, 0x2222};
    const auto at = [](const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); };
    ch.put(data, sizeof data, at(&window[10]), nullptr);
    ch.add64(5, at(&window[0]), nullptr);
    settle([&] { return window[0] == 5; });
    CHECK(window[10] == 0x1111);  // the put, sent before the add, landed before it
    CHECK(window[11] == 0x2222);
    CHECK(target.refused() == 0);

    ch.put(data, sizeof data, at(&window[63]), nullptr);  // runs 8 bytes past the end
    settle([&] { return target.refused() == 1; });
    CHECK(window[63] == 0);
    CHECK(target.first_refusal().find("outside every exposed window") != std::string::npos);
    ch.add64(1, at(&window[1]) + 4, nullptr);  // misaligned
    ch.put(data, sizeof data, at(outside), nullptr);
    settle([&] { return target.refused() == 3; });
    CHECK(outside[0] == 0);
    CHECK(window[1] == 0);
    target.withdraw(window);
    ch.add64(1, at(&window[0]), nullptr);
    settle([&] { return target.refused() == 4; });
    CHECK(window[0] == 5);
    CHECK_FALSE(ch.failed());
}
