// rma_ring: throughput of one ring over UCX RMA (placement dpu's data path)
// between two processes on this machine.  The parent produces 8-byte records
// packed into chunks of --chunk bytes into its staging ring (rma_publish: put
// chunk, fence, atomic add of tail); the forked child consumes them from its
// copy and returns credit (rma_release).  UCX's transports come from --tls
// (sm: shared memory, tcp: loopback).
//
//   build/perf/rma_ring --tls sm --chunk 4096
//   build/perf/rma_ring --tls tcp --chunk 65536 --records 50000000
//
// Prints one JSON line: the median over --reps runs of the consumer's rate,
// timed from the first chunk it sees to the last, and whether every record
// arrived in order (`verified`).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "buddy/ring/spsc_ring.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/memory_region.hpp"
#include "buddy/transport/rma.hpp"
#include "buddy/transport/rma_ring.hpp"
#include "buddy/transport/worker.hpp"
#include "socket_blobs.hpp"

namespace ring = buddy::ring;
namespace tp = buddy::transport;

namespace {

constexpr double io_timeout_s = 60.0;

// The socketpair between the two processes (tests/support/socket_blobs.hpp).
using buddy::test_support::send_blob;
using buddy::test_support::write_all;
std::vector<std::byte> recv_blob(int fd) { return buddy::test_support::recv_blob(fd, io_timeout_s); }
void read_all(int fd, void* data, std::size_t bytes) { buddy::test_support::read_all(fd, data, bytes, io_timeout_s); }

std::uint64_t value_of(std::uint64_t i) { return i * 0x9E3779B97F4A7C15ull; }

struct options {
    std::string tls = "sm";
    std::size_t chunk = 4096;
    std::uint64_t records = 20'000'000;
    std::size_t ring_bytes = std::size_t{1} << 20;
    std::size_t depth = 64;
    int reps = 3;
};

// One side's ring, registered, with the peer's copy unpacked.  The producer
// registers its staging ring; the consumer its ring.  Each sends its address
// and side, and learns the other's.
struct side {
    side(int fd, const options& o, bool producer_side)
        : w(producer_side ? "rma-perf-producer" : "rma-perf-consumer", 0, tp::worker_features::am_and_rma),
          block(static_cast<std::byte*>(::operator new(ring::ring_bytes(o.ring_bytes), std::align_val_t{64}))) {
        ring::init_ring(block, o.ring_bytes);
        region = tp::memory_region(w, block, ring::ring_bytes(o.ring_bytes));
        send_blob(fd, w.address());
        send_blob(fd, tp::rma_ring_side::of(region).to_bytes());
        const auto peer_address = recv_blob(fd);
        const auto peer_side = tp::rma_ring_side::from_bytes(recv_blob(fd));
        ep = tp::endpoint(w, peer_address, producer_side ? "the consumer process" : "the producer process",
                          o.tls == "tcp" ? tp::endpoint::failure_detection::by_transport
                                         : tp::endpoint::failure_detection::by_caller);
        channel = std::make_unique<tp::rma_channel>(w, ep, tp::carrier_for(ep), o.depth);
        peer = std::make_unique<tp::remote_ring>(ep, peer_side, ring::ring_bytes(o.ring_bytes));
    }
    ~side() { ::operator delete(block, std::align_val_t{64}); }

    tp::worker w;
    std::byte* block;
    tp::memory_region region;
    tp::endpoint ep;
    std::unique_ptr<tp::rma_channel> channel;
    std::unique_ptr<tp::remote_ring> peer;
};

void goodbye(int fd, side& s) {
    const char done = 'd';
    write_all(fd, &done, 1);
    s.channel->wait_for(
        [&] {
            pollfd pfd{fd, POLLIN, 0};
            return ::poll(&pfd, 1, 0) > 0;
        },
        io_timeout_s, "a goodbye");
    char got = 0;
    read_all(fd, &got, 1);
}

void produce(int fd, const options& o) {
    side s(fd, o, true);
    tp::rma_producer p(s.block, tp::rma_publish(*s.channel, *s.peer, s.block));
    std::uint64_t sent = 0;
    while (sent < o.records) {
        std::size_t granted = 0;
        std::byte* at = p.try_reserve(8, o.chunk, granted);
        if (at == nullptr) {
            // Waiting for credit: the consumer's atomic lands when we progress.
            if (!s.channel->progress()) std::this_thread::yield();
            s.channel->check();
            continue;
        }
        std::size_t n = 0;
        for (; n + 8 <= granted && sent < o.records; n += 8, ++sent) {
            const std::uint64_t v = value_of(sent);
            std::memcpy(at + n, &v, 8);
        }
        p.commit(n);
        s.channel->progress();
    }
    s.channel->flush(io_timeout_s);
    goodbye(fd, s);
}

struct consumed {
    double seconds = 0;
    std::uint64_t records = 0;
    bool verified = true;
};

consumed consume(int fd, const options& o) {
    side s(fd, o, false);
    tp::rma_consumer c(s.block, tp::rma_release(*s.channel, *s.peer, s.block));
    consumed r;
    std::chrono::steady_clock::time_point first{};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(io_timeout_s * 5);
    for (unsigned spins = 1; r.records < o.records; ++spins) {
        const auto f = c.front();
        if (f.data() == nullptr) {
            if (!s.channel->progress()) std::this_thread::yield();
            s.channel->check();
            if (spins % 1024 == 0 && std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("consumer: timed out");
            continue;
        }
        if (r.records == 0) first = std::chrono::steady_clock::now();
        for (std::size_t n = 0; n + 8 <= f.size(); n += 8, ++r.records) {
            std::uint64_t v;
            std::memcpy(&v, f.data() + n, 8);
            r.verified &= v == value_of(r.records);
        }
        c.pop();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
    r.verified &= !c.corrupted();
    s.channel->flush(io_timeout_s);
    goodbye(fd, s);
    return r;
}

consumed run_once(const options& o) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::close(fds[0]);
        int code = 0;
        try {
            produce(fds[1], o);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rma_ring: producer: %s\n", e.what());
            code = 1;
        }
        ::_exit(code);
    }
    ::close(fds[1]);
    consumed r;
    std::string error;
    try {
        r = consume(fds[0], o);
    } catch (const std::exception& e) {
        error = e.what();
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!error.empty()) throw std::runtime_error("consumer: " + error);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("the producer failed");
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"Throughput of a ring over UCX RMA between two processes (8-byte records)"};
    app.add_option("--tls", o.tls, "UCX transports: sm (shared memory) or tcp (loopback)")
        ->check(CLI::IsMember({"sm", "tcp"}));
    app.add_option("--chunk", o.chunk, "bytes per chunk (one put each)")->check(CLI::Range(8, 1 << 24));
    app.add_option("--records", o.records, "8-byte records per run")->check(CLI::PositiveNumber);
    app.add_option("--ring-bytes", o.ring_bytes, "ring capacity (power of two, at least 2 chunks)");
    app.add_option("--depth", o.depth, "RMA operations in flight at most")->check(CLI::PositiveNumber);
    app.add_option("--reps", o.reps, "runs; the median is reported")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    if (o.chunk > ring::max_chunk_payload_for(o.ring_bytes)) {
        std::fprintf(stderr, "rma_ring: --chunk %zu does not fit a ring of %zu bytes (at most %zu)\n", o.chunk,
                     o.ring_bytes, ring::max_chunk_payload_for(o.ring_bytes));
        return 2;
    }
    ::setenv("UCX_TLS", o.tls.c_str(), 1);
    if (o.tls == "tcp") ::setenv("UCX_NET_DEVICES", "lo", 1);
    try {
        std::vector<double> rates;
        bool verified = true;
        for (int i = 0; i < o.reps; ++i) {
            const consumed r = run_once(o);
            verified &= r.verified && r.records == o.records;
            rates.push_back(static_cast<double>(r.records) / r.seconds);
        }
        std::sort(rates.begin(), rates.end());
        const double median = rates[rates.size() / 2];
        std::printf(
            "{\"bench\":\"rma_ring\",\"tls\":\"%s\",\"chunk\":%zu,\"ring_bytes\":%zu,\"depth\":%zu,"
            "\"records\":%llu,\"reps\":%d,\"records_per_s\":%.0f,\"bytes_per_s\":%.0f,\"min_records_per_s\":%.0f,"
            "\"max_records_per_s\":%.0f,\"verified\":%s}\n",
            o.tls.c_str(), o.chunk, o.ring_bytes, o.depth, static_cast<unsigned long long>(o.records), o.reps,
            median, median * 8, rates.front(), rates.back(), verified ? "true" : "false");
        return verified ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rma_ring: %s\n", e.what());
        return 1;
    }
}
