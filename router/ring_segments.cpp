#include "buddy/router/ring_segments.hpp"

#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "buddy/control/node_paths.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/router/log.hpp"
#include "buddy/router/process_alive.hpp"

namespace buddy::router {

rank_segments::rank_segments(rank_segments&& other) noexcept
    : out_(std::move(other.out_)),
      in_(std::move(other.in_)),
      out_name_(std::move(other.out_name_)),
      in_name_(std::move(other.in_name_)),
      capacity_(other.capacity_) {
    other.out_name_.clear();  // the names are ours now: only we unlink them
    other.in_name_.clear();
}

rank_segments& rank_segments::operator=(rank_segments&& other) noexcept {
    if (this != &other) {
        unlink_names();
        out_ = std::move(other.out_);
        in_ = std::move(other.in_);
        out_name_ = std::move(other.out_name_);
        in_name_ = std::move(other.in_name_);
        capacity_ = other.capacity_;
        other.out_name_.clear();
        other.in_name_.clear();
    }
    return *this;
}

rank_segments::~rank_segments() { unlink_names(); }

rank_segments rank_segments::create(const std::string& host, std::uint64_t job, std::uint32_t rank,
                                    std::size_t capacity, std::size_t threads, int router_numa, int rank_numa) {
    const auto uid = static_cast<unsigned>(getuid());
    const auto pid = static_cast<std::uint32_t>(getpid());
    const std::size_t one = ring::ring_bytes(capacity);
    rank_segments s;
    s.capacity_ = capacity;
    // Each name is recorded as soon as it exists, so a throw below unlinks it.
    const std::string out = control::segment_name(uid, host, pid, job, rank, control::ring_direction::outbound);
    s.out_ = ring::shm_segment::create(out, one * threads, router_numa);
    s.out_name_ = out;
    const std::string in = control::segment_name(uid, host, pid, job, rank, control::ring_direction::inbound);
    s.in_ = ring::shm_segment::create(in, one * threads, rank_numa);
    s.in_name_ = in;
    for (std::size_t t = 0; t < threads; ++t) {
        ring::init_ring(s.outbound_ring(t), capacity);
        ring::init_ring(s.inbound_ring(t), capacity);
    }
    return s;
}

std::byte* rank_segments::outbound_ring(std::size_t thread) const noexcept {
    return static_cast<std::byte*>(out_.data()) + thread * ring::ring_bytes(capacity_);
}

std::byte* rank_segments::inbound_ring(std::size_t thread) const noexcept {
    return static_cast<std::byte*>(in_.data()) + thread * ring::ring_bytes(capacity_);
}

void rank_segments::unlink_names() noexcept {
    for (std::string* name : {&out_name_, &in_name_}) {
        // Gone already (ENOENT) is fine; anything else leaves a name behind, which is worth a line.
        if (!name->empty() && ::shm_unlink(name->c_str()) != 0 && errno != ENOENT)
            std::fprintf(stderr, "buddy-router[%d]: cannot remove segment %s: %s\n", static_cast<int>(getpid()),
                         name->c_str(), std::strerror(errno));
        name->clear();
    }
}

void sweep_orphaned_segments(const std::string& host, bool verbose) {
    const auto uid = static_cast<unsigned>(getuid());
    DIR* d = opendir("/dev/shm");
    if (!d) return;
    while (dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        const std::uint32_t pid = control::segment_router_pid(n, uid, host);
        if (pid != 0 && !pid_alive(pid)) {
            shm_unlink(("/" + n).c_str());
            if (verbose) log("removed orphaned segment /%s", n);
        }
    }
    closedir(d);
}

}  // namespace buddy::router
