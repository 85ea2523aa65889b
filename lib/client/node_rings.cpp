#include "node_rings.hpp"

#include <mpi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>

#include "buddy/config/memory_model.hpp"
#include "runtime.hpp"

namespace buddy::detail {

namespace {
std::string segment_name(std::uint64_t job, int rank) {
    char job_hex[17];
    std::snprintf(job_hex, sizeof job_hex, "%016llx", static_cast<unsigned long long>(job));
    return "/buddy-" + std::string(job_hex) + "-r" + std::to_string(rank);
}

/// This process's PID namespace (the inode /proc/self/ns/pid names), 0 where
/// /proc cannot tell.
std::uint64_t pid_namespace() noexcept {
    struct stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}
}  // namespace

node_rings::node_rings(runtime& rt) {
    MPI_Comm node;
    MPI_Comm_split_type(rt.mpi(), MPI_COMM_TYPE_SHARED, rt.rank(), MPI_INFO_NULL, &node);
    int here = 1, local = 0;
    MPI_Comm_size(node, &here);
    MPI_Comm_rank(node, &local);
    capacity_ = static_cast<std::size_t>(memory_model::node_ring_capacity(rt.settings(), static_cast<std::uint64_t>(here)));
    std::vector<int> members(static_cast<std::size_t>(here)), member_pids(static_cast<std::size_t>(here));
    std::vector<std::uint64_t> namespaces(static_cast<std::size_t>(here));
    const int me = rt.rank();
    const int my_pid = static_cast<int>(::getpid());
    const std::uint64_t my_namespace = pid_namespace();
    MPI_Allgather(&me, 1, MPI_INT, members.data(), 1, MPI_INT, node);
    MPI_Allgather(&my_pid, 1, MPI_INT, member_pids.data(), 1, MPI_INT, node);
    MPI_Allgather(&my_namespace, 1, MPI_UINT64_T, namespaces.data(), 1, MPI_UINT64_T, node);

    const std::size_t one = ring::ring_bytes(capacity_);
    const auto slot_of = [&](int local_index, int owner_local) {  // the ring from local_index in owner's segment
        return static_cast<std::size_t>(local_index < owner_local ? local_index : local_index - 1);
    };
    int ok = 1;
    std::string problem;
    // 0. A sender waiting on a full ring tells a dead receiver by its pid, so
    // every peer's pid must name that peer here.  Ranks in other PID
    // namespaces (a container each) share the node but not the pids: seen
    // from here such a pid is another process or none, and a live rank would
    // be declared gone.  Those jobs use UCX, which tells by its endpoints.
    for (int l = 0; l < here && ok; ++l) {
        if (l == local) continue;
        const auto i = static_cast<std::size_t>(l);
        if (namespaces[i] != my_namespace || (::kill(member_pids[i], 0) != 0 && errno == ESRCH)) {
            ok = 0;
            problem = "rank " + std::to_string(members[i]) + " of this node is in another PID namespace (its pid " +
                      std::to_string(member_pids[i]) + " does not name it here)";
        }
    }
    if (here > 1) {
        // 1. Make this rank's inbound rings.  (Every rank of the node takes
        // part in the collectives below, whatever it found.)
        if (ok) {
            try {
                mine_ = ring::shm_segment::create(segment_name(rt.job(), me), one * static_cast<std::size_t>(here - 1),
                                                  -1, ring::shm_segment::reserve::now);
                for (int s = 0; s < here - 1; ++s)
                    ring::init_ring(static_cast<std::byte*>(mine_.data()) + s * one, capacity_);
            } catch (const std::exception& e) {
                ok = 0;
                problem = e.what();
            }
        }
        int all_made = 0;
        MPI_Allreduce(&ok, &all_made, 1, MPI_INT, MPI_MIN, node);
        // 2. Map every other rank's segment: our outbound ring is in it.
        if (all_made) {
            try {
                for (int l = 0; l < here; ++l) {
                    if (l == local) continue;
                    ring::shm_segment s = ring::shm_segment::open(segment_name(rt.job(), members[static_cast<std::size_t>(l)]));
                    if (s.size() < one * static_cast<std::size_t>(here - 1))
                        throw std::runtime_error("the segment of rank " + std::to_string(members[static_cast<std::size_t>(l)]) + " is too small");
                    ring::check_ring(static_cast<std::byte*>(s.data()) + slot_of(local, l) * one, one);
                    theirs_.push_back(std::move(s));
                }
            } catch (const std::exception& e) {
                ok = 0;
                problem = e.what();
            }
        } else if (ok) {
            ok = 0;
            problem = "another rank of this node could not make its segment";
        }
    }
    // 3. Every rank of the job agrees (this is also the barrier after every
    // mapping): rings everywhere, or nowhere.
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, rt.mpi());
    if (mine_) ring::shm_segment::unlink(mine_.name());  // mapped by all who need it
    MPI_Comm_free(&node);
    if (!all_ok) {
        why_not_ = ok ? "a rank on another node could not set its rings up" : problem;
        theirs_.clear();
        mine_ = ring::shm_segment{};
        return;
    }
    if (rt.ranks_per_node() < 2) {
        why_not_ = "one rank per node";
        return;
    }
    in_force_ = true;
    if (here < 2) return;  // active elsewhere; this rank has no peer on its node
    index_of_.assign(static_cast<std::size_t>(rt.size()), -1);
    std::size_t next_theirs = 0;
    for (int l = 0; l < here; ++l) {
        if (l == local) continue;
        index_of_[static_cast<std::size_t>(members[static_cast<std::size_t>(l)])] = static_cast<int>(peers_.size());
        peers_.push_back(static_cast<std::uint32_t>(members[static_cast<std::size_t>(l)]));
        pids_.push_back(member_pids[static_cast<std::size_t>(l)]);
        out_.emplace_back(static_cast<std::byte*>(theirs_[next_theirs++].data()) + slot_of(local, l) * one);
        in_.emplace_back(static_cast<std::byte*>(mine_.data()) + slot_of(l, local) * one);
    }
    active_ = true;
}
}  // namespace buddy::detail
