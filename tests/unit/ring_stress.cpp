// ring_stress [records]: two-process stress test of buddy::ring.
//
// The parent creates a shared-memory segment holding one ring and forks.  The
// child opens the segment by name (so it maps it at another address), and
// produces `records` records of 8..200 bytes with try_reserve/commit; record
// i's size and content are derived from splitmix64(i).  The parent consumes
// with front/pop and checks the order, size and every byte of every record.
// Either side gives up if it makes no progress for 10 s, and the parent
// notices a dead child.  Exit status 0 only if every record was verified.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include "buddy/ring/cpu_relax.hpp"
#include "buddy/ring/shm_segment.hpp"
#include "buddy/ring/spsc_ring.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using buddy::ring::consumer;
using buddy::ring::cpu_relax;
using buddy::ring::producer;
using buddy::ring::shm_segment;

constexpr std::size_t ring_capacity = std::size_t{1} << 20;
constexpr auto stall_limit = std::chrono::seconds(10);

std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

std::size_t record_size(std::uint64_t seq) noexcept { return 8 + splitmix64(seq) % 193; }  // 8..200

// Content: word 0 is the sequence number, word k the splitmix64 stream after it.
void fill(std::byte* p, std::uint64_t seq, std::size_t n) noexcept {
    std::uint64_t w = seq;
    std::size_t off = 0;
    for (; off + 8 <= n; off += 8) {
        std::memcpy(p + off, &w, 8);
        w = splitmix64(w);
    }
    if (off < n) std::memcpy(p + off, &w, n - off);
}

bool verify(const std::byte* p, std::uint64_t seq, std::size_t n) noexcept {
    std::uint64_t w = seq;
    std::size_t off = 0;
    for (; off + 8 <= n; off += 8) {
        if (std::memcmp(p + off, &w, 8) != 0) return false;
        w = splitmix64(w);
    }
    return off == n || std::memcmp(p + off, &w, n - off) == 0;
}

// Busy-waits briefly, then yields the CPU so that the two processes can share
// a small machine.  Returns false once `limit` passed since the last progress.
class backoff {
public:
    void progress() noexcept { spins_ = 0; }
    std::uint64_t spins() const noexcept { return spins_; }
    bool wait() noexcept {
        ++spins_;
        if (spins_ < 64) {
            cpu_relax();
            return true;
        }
        std::this_thread::yield();
        if ((spins_ & 1023) == 0) {
            const auto now = clock_type::now();
            if (spins_ == 1024) since_ = now;  // first check of this stall
            else if (now - since_ > stall_limit) return false;
        }
        return true;
    }

private:
    std::uint64_t spins_ = 0;
    clock_type::time_point since_{};
};

[[noreturn]] void run_child(const std::string& name, std::uint64_t records) {
    try {
        shm_segment seg = shm_segment::open(name);
        buddy::ring::check_ring(seg.data(), seg.size());
        producer p(seg.data());
        const pid_t parent = ::getppid();
        backoff bo;
        for (std::uint64_t i = 0; i < records; ++i) {
            const std::size_t n = record_size(i);
            std::size_t granted = 0;
            std::byte* w;
            while ((w = p.try_reserve(n, n, granted)) == nullptr) {
                if (!bo.wait() || ::getppid() != parent) {
                    std::fprintf(stderr, "ring_stress child: no space for 10 s at record %" PRIu64 "\n", i);
                    std::_Exit(3);
                }
            }
            bo.progress();
            fill(w, i, n);
            p.commit(n);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ring_stress child: %s\n", e.what());
        std::_Exit(2);
    }
    std::_Exit(0);
}

int run(std::uint64_t records) {
    const std::string name = "/buddy-ring-stress-" + std::to_string(::getpid());
    shm_segment::unlink(name);
    shm_segment seg = shm_segment::create(name, buddy::ring::ring_bytes(ring_capacity));
    buddy::ring::init_ring(seg.data(), ring_capacity);
    consumer c(seg.data());

    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("ring_stress: fork");
        shm_segment::unlink(name);
        return 1;
    }
    if (child == 0) run_child(name, records);

    bool reaped = false;
    int child_status = 0;
    auto fail = [&](const char* what, std::uint64_t seq) {
        std::fprintf(stderr, "ring_stress: %s at record %" PRIu64 "\n", what, seq);
        shm_segment::unlink(name);
        if (!reaped) {
            ::kill(child, SIGKILL);
            ::waitpid(child, nullptr, 0);
        }
        return 1;
    };

    const auto start = clock_type::now();
    backoff bo;
    std::uint64_t seq = 0;
    bool unlinked = false;
    while (seq < records) {
        const auto s = c.front();
        if (s.data() == nullptr) {
            if (c.corrupted()) return fail("ring corrupted", seq);
            if (!bo.wait()) return fail("no progress for 10 s (producer alive but stuck)", seq);
            // Every 256 idle spins: is the producer still alive?  Once it has
            // exited, an empty ring means it will never deliver the rest.
            if (!reaped && (bo.spins() & 255) == 0 && ::waitpid(child, &child_status, WNOHANG) == child)
                reaped = true;
            if (reaped && c.empty()) {
                std::fprintf(stderr, "ring_stress: producer exited (status 0x%x) after %" PRIu64 " of %" PRIu64
                             " records\n", static_cast<unsigned>(child_status), seq, records);
                shm_segment::unlink(name);
                return 1;
            }
            continue;
        }
        bo.progress();
        if (!unlinked) {  // the child has the segment mapped: the name is no longer needed
            shm_segment::unlink(name);
            unlinked = true;
        }
        const std::size_t n = record_size(seq);
        if (s.size() != n) return fail("wrong record size", seq);
        if (!verify(s.data(), seq, n)) return fail("wrong record content", seq);
        c.pop();
        ++seq;
    }
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();

    if (!reaped && ::waitpid(child, &child_status, 0) != child) {
        std::perror("ring_stress: waitpid");
        shm_segment::unlink(name);
        return 1;
    }
    if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0) {
        std::fprintf(stderr, "ring_stress: producer failed (status 0x%x)\n", static_cast<unsigned>(child_status));
        shm_segment::unlink(name);
        return 1;
    }
    shm_segment::unlink(name);
    if (!c.empty()) {
        std::fprintf(stderr, "ring_stress: records left over after %" PRIu64 "\n", records);
        return 1;
    }
    std::printf("ring_stress: %" PRIu64 " records verified, %.2f Mrec/s\n", records,
                static_cast<double>(records) / secs / 1e6);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t records = 10'000'000;
    if (argc > 2) {
        std::fprintf(stderr, "usage: ring_stress [records]\n");
        return 2;
    }
    if (argc == 2) {
        char* end = nullptr;
        records = std::strtoull(argv[1], &end, 10);
        if (end == argv[1] || *end != '\0' || argv[1][0] == '-') {
            std::fprintf(stderr, "ring_stress: bad record count '%s'\n", argv[1]);
            return 2;
        }
    }
    try {
        return run(records);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ring_stress: %s\n", e.what());
        return 1;
    }
}
