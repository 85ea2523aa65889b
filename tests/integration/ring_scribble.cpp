// Damages one payload byte of a chunk published in a ring of a running job,
// the way a stray write from another process would (test_integrity.sh).
//
//   ring_scribble PID RANK out|in
//
// Maps the ring segment of RANK (outbound or inbound, router thread 0) through
// /proc/PID/map_files (PID: a process that maps it, e.g. the router; the names
// are unlinked once a job runs), waits (at most 20 s) until the ring holds two
// published chunks not yet consumed, and flips a byte of the first record's
// payload in the second one: the first may already be in the consumer's hands.
// The consumer should be stopped (SIGSTOP) meanwhile, so that what is
// published stays unconsumed.  Prints what it damaged; exit 0 when it did.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "buddy/ring/spsc_ring.hpp"
#include "buddy/wire/batch.hpp"

namespace ring = buddy::ring;
namespace wire = buddy::wire;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: ring_scribble PID RANK out|in\n");
        return 2;
    }
    const std::string pid = argv[1];
    std::string suffix = "-";  // appended, not "-" + ...: GCC 12 warns (-Wrestrict, a false positive)
    suffix.append(argv[2]).append("-").append(argv[3]);
    const bool inbound = std::string(argv[3]) == "in";
    std::ifstream maps("/proc/" + pid + "/maps");
    std::string line, range;
    while (std::getline(maps, line)) {
        const auto at = line.find("/dev/shm/buddy-");
        if (at == std::string::npos) continue;
        std::string path = line.substr(at);
        if (const auto d = path.find(" (deleted)"); d != std::string::npos) path.resize(d);
        if (path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
            range = line.substr(0, line.find(' '));
            break;
        }
    }
    if (range.empty()) {
        std::fprintf(stderr, "ring_scribble: process %s maps no segment ending in %s\n", pid.c_str(), suffix.c_str());
        return 1;
    }
    const std::string file = "/proc/" + pid + "/map_files/" + range;
    const int fd = ::open(file.c_str(), O_RDWR);
    if (fd < 0) {
        std::fprintf(stderr, "ring_scribble: cannot open %s: %s\n", file.c_str(), std::strerror(errno));
        return 1;
    }
    const std::size_t bytes = std::strtoull(range.substr(range.find('-') + 1).c_str(), nullptr, 16) -
                              std::strtoull(range.c_str(), nullptr, 16);
    void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        std::fprintf(stderr, "ring_scribble: mmap: %s\n", std::strerror(errno));
        return 1;
    }
    auto* h = static_cast<ring::ring_header*>(mem);
    std::byte* data = static_cast<std::byte*>(mem) + sizeof(ring::ring_header);
    const std::uint64_t cap = h->capacity;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        // acquire: what the producer published before its tail is visible.
        const std::uint64_t tail = std::atomic_ref<std::uint64_t>(h->tail).load(std::memory_order_acquire);
        std::uint64_t at = std::atomic_ref<std::uint64_t>(h->head).load(std::memory_order_acquire);
        int seen = 0;
        while (at < tail) {
            ring::chunk_header ch;
            std::memcpy(&ch, data + (at & (cap - 1)), sizeof ch);
            if (ch.flags == ring::chunk_skip) {
                at += ch.length + ring::chunk_header_bytes;
                continue;
            }
            std::byte* payload = data + (at & (cap - 1)) + ring::chunk_header_bytes;
            const std::size_t records_at = inbound ? wire::batch_header_bytes : 0;
            wire::record_header rh;
            std::memcpy(&rh, payload + records_at, sizeof rh);
            if (++seen == 2 && ch.length > records_at + 16 && rh.size != 0 && rh.size != wire::long_size_escape) {
                std::byte* victim = payload + records_at + wire::short_header_bytes;
                *victim ^= std::byte{0x5A};
                std::printf("ring_scribble: flipped a payload byte of a %u-byte chunk in the %s ring of rank %s\n",
                            ch.length, inbound ? "inbound" : "outbound", argv[2]);
                return 0;
            }
            at += ring::chunk_bytes(ch.length);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::fprintf(stderr, "ring_scribble: the ring never held two unconsumed chunks\n");
    return 1;
}
