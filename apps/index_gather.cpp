// index_gather: random reads from a distributed table.
//
// Every rank owns a slice of `--table T` entries of a table whose entry with
// global index i holds -(i+1).  Each rank draws `--requests M` random global
// indices and fetches their values:
//
//   buddy mode  request  -> owner:      (requester<<40 | slot, local offset)
//               reply    -> requester:  (slot, value)
//     both fire-and-forget; the request handler sends the reply.  One barrier
//     ends the phase.
//   mpi mode    bulk-synchronous rounds of `--chunk C` requests per rank:
//     alltoall of counts, alltoallv of offsets, local lookup, alltoallv of
//     values back.
//
// Verification: every gathered value is -(index+1), and the job delivered
// exactly two messages (a request and its reply) per slot.
#include <buddy/comm.hpp>

#include <CLI/CLI.hpp>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/app.hpp"

namespace {

constexpr int slot_bits = 40;
constexpr std::uint64_t slot_mask = (std::uint64_t{1} << slot_bits) - 1;

/// Per-rank state the handlers reach (handlers cannot capture).
struct gather_state {
    const std::int64_t* table = nullptr;  ///< this rank's slice
    std::uint64_t table_size = 0;
    std::int64_t* got = nullptr;          ///< value received per request slot (0: none yet)
    std::uint64_t slots = 0;
    std::uint64_t requests_served = 0;    ///< mpi mode: requests this rank served
    std::uint64_t replies_received = 0;   ///< mpi mode: replies this rank received
    std::uint64_t bad = 0;                ///< requests or replies that made no sense
};
gather_state* g_state = nullptr;

/// Requester side: store the value in its slot.
constexpr auto on_reply = [](buddy::comm&, std::uint64_t slot, std::int64_t value) {
    gather_state& s = *g_state;
    if (slot >= s.slots) [[unlikely]] {
        ++s.bad;
        return;
    }
    s.got[slot] = value;
};

/// Owner side: look the entry up and send it back.
// The prefetch step asks for the table entry a few requests ahead: the table
// (8 MiB per rank by default) is read at random.
constexpr auto on_request = buddy::with_prefetch(
    [](buddy::comm& c, std::uint64_t tag, std::uint64_t offset) {
        gather_state& s = *g_state;
        if (offset >= s.table_size) [[unlikely]] {
            ++s.bad;  // no reply: the requester's check fails
            return;
        }
        c.async(static_cast<int>(tag >> slot_bits), on_reply, tag & slot_mask, s.table[offset]);
    },
    [](std::uint64_t, std::uint64_t offset) {
        if (offset < g_state->table_size) __builtin_prefetch(&g_state->table[offset]);
    });

/// Buddy mode's request loop.  Out of line on purpose: inlined into main(),
/// with main's many live values, GCC kept the loop index and the array
/// pointers on the stack, so every request paid a store-to-load round trip on
/// the index (the slow path of async() is a call, which leaves only the
/// callee-saved registers to the loop).
[[gnu::noinline]] void send_requests(buddy::comm& world, const std::uint32_t* to, const std::uint32_t* at,
                                     std::uint64_t requests) {
    const std::uint64_t me = static_cast<std::uint64_t>(world.rank()) << slot_bits;
    for (std::uint64_t k = 0; k < requests; ++k)
        world.async(static_cast<int>(to[k]), on_request, me | k, static_cast<std::uint64_t>(at[k]));
}

__extension__ using u128 = unsigned __int128;

/// Processor time of this process (all its threads), seconds: steadier than
/// wall time on an oversubscribed machine.
inline double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// The global index of request k of `rank`: counter-based, so generation can run in parallel.
inline std::uint64_t request_index(std::uint64_t seed, int rank, std::uint64_t k, std::uint64_t n) {
    const std::uint64_t h =
        apps::splitmix64(apps::splitmix64(seed ^ (0xA0761D6478BD642Full * (static_cast<std::uint64_t>(rank) + 1))) + k);
    return static_cast<std::uint64_t>((static_cast<u128>(h) * n) >> 64);
}

/// Bulk-synchronous baseline: rounds of at most `chunk` requests per rank.
void gather_mpi(MPI_Comm mc, int ranks, const std::uint32_t* owner, const std::uint32_t* offset, std::uint64_t m,
                std::uint64_t table_size, std::uint64_t chunk, gather_state& s) {
    const std::uint64_t my_rounds = (m + chunk - 1) / chunk;
    std::uint64_t rounds = 0;
    MPI_Allreduce(&my_rounds, &rounds, 1, MPI_UINT64_T, MPI_MAX, mc);

    const auto p = static_cast<std::size_t>(ranks);
    std::vector<int> send_count(p), send_displ(p), recv_count(p), recv_displ(p), fill(p);
    const std::size_t cap = static_cast<std::size_t>(std::min(chunk, m));
    std::vector<std::uint32_t> send_offset(cap);   // requests, grouped by owner
    std::vector<std::uint32_t> send_slot(cap);     // which slot each grouped request is
    std::vector<std::int64_t> reply_value(cap);    // replies, in the same grouping
    std::vector<std::uint32_t> recv_offset;        // requests this rank serves
    std::vector<std::int64_t> serve_value;

    for (std::uint64_t round = 0; round < rounds; ++round) {
        const std::uint64_t base = std::min(round * chunk, m);
        const std::uint64_t count = std::min(chunk, m - base);

        std::fill(send_count.begin(), send_count.end(), 0);
        for (std::uint64_t k = 0; k < count; ++k) ++send_count[owner[base + k]];
        int at = 0;
        for (std::size_t d = 0; d < p; ++d) {
            send_displ[d] = at;
            fill[d] = at;
            at += send_count[d];
        }
        for (std::uint64_t k = 0; k < count; ++k) {
            const int pos = fill[owner[base + k]]++;
            send_offset[static_cast<std::size_t>(pos)] = offset[base + k];
            send_slot[static_cast<std::size_t>(pos)] = static_cast<std::uint32_t>(k);
        }

        MPI_Alltoall(send_count.data(), 1, MPI_INT, recv_count.data(), 1, MPI_INT, mc);
        at = 0;
        for (std::size_t d = 0; d < p; ++d) {
            recv_displ[d] = at;
            at += recv_count[d];
        }
        recv_offset.resize(static_cast<std::size_t>(at));
        serve_value.resize(static_cast<std::size_t>(at));
        MPI_Alltoallv(send_offset.data(), send_count.data(), send_displ.data(), MPI_UINT32_T, recv_offset.data(),
                      recv_count.data(), recv_displ.data(), MPI_UINT32_T, mc);

        // Local lookup.
        const std::int64_t* table = s.table;
        std::uint64_t bad = 0;
        for (std::size_t j = 0; j < recv_offset.size(); ++j) {
            const std::uint32_t off = recv_offset[j];
            if (off < table_size) {
                serve_value[j] = table[off];
            } else {
                serve_value[j] = 0;
                ++bad;
            }
        }
        s.bad += bad;
        s.requests_served += recv_offset.size();

        MPI_Alltoallv(serve_value.data(), recv_count.data(), recv_displ.data(), MPI_INT64_T, reply_value.data(),
                      send_count.data(), send_displ.data(), MPI_INT64_T, mc);
        for (std::uint64_t j = 0; j < count; ++j) {
            const std::uint64_t slot = base + send_slot[j];
            s.got[slot] = reply_value[j];
        }
        s.replies_received += count;
    }
}

}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);  // first: strips --buddy-* flags
    const int rank = world.rank();
    const int ranks = world.size();
    MPI_Comm mc = world.mpi_comm();

    CLI::App cli{"index_gather: random gathers from a distributed table (requests and replies)"};
    std::uint64_t table_size = std::uint64_t{1} << 20;
    std::uint64_t requests = std::uint64_t{1} << 21;
    std::uint64_t seed = 1;
    std::uint64_t chunk = std::uint64_t{1} << 18;
    std::string mode = "buddy";
    int threads = 1;
    bool json = false;
    bool corrupt = false;
    cli.add_option("--table", table_size, "table entries per rank")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{0xFFFFFFFFu}))
        ->capture_default_str();
    cli.add_option("--requests", requests, "random requests per rank")
        ->check(CLI::Range(std::uint64_t{0}, slot_mask))
        ->capture_default_str();
    cli.add_option("--seed", seed, "random seed")->capture_default_str();
    cli.add_option("--mode", mode, "buddy: fire-and-forget requests and replies; mpi: bulk-synchronous alltoallv")
        ->check(CLI::IsMember({"buddy", "mpi"}))
        ->capture_default_str();
    cli.add_option("--chunk", chunk, "mpi mode: requests per rank per alltoallv round")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30))
        ->capture_default_str();
    cli.add_option("--threads", threads, "oneTBB threads per rank (0: TBB's default)")
        ->check(CLI::Range(0, 1024))
        ->capture_default_str();
    cli.add_flag("--json", json, "print one JSON result line");
    cli.add_flag("--corrupt", corrupt, "debug: corrupt one received value to prove verification fails");
    if (const auto status = apps::parse_command_line(cli, argc, argv, rank)) return *status;
    if (static_cast<std::uint64_t>(ranks) >= (std::uint64_t{1} << (64 - slot_bits))) {
        if (rank == 0) std::cerr << "index_gather: too many ranks\n";
        return 1;
    }

    std::optional<tbb::global_control> tbb_limit;
    if (threads > 0) tbb_limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

    const bool use_mpi = mode == "mpi";
    const std::uint64_t global_size = table_size * static_cast<std::uint64_t>(ranks);
    const std::uint64_t first = table_size * static_cast<std::uint64_t>(rank);

    // Table slice, requests (owner and offset of each drawn global index, split
    // here so the timed loop does no division) and reply slots: allocated
    // uninitialised and first written (so first touched) by the parallel loops.
    MPI_Barrier(mc);
    const double g0 = apps::now();
    const auto table = std::make_unique_for_overwrite<std::int64_t[]>(table_size);
    const auto owner = std::make_unique_for_overwrite<std::uint32_t[]>(requests);
    const auto offset = std::make_unique_for_overwrite<std::uint32_t[]>(requests);
    const auto got = std::make_unique_for_overwrite<std::int64_t[]>(requests);
    tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, table_size), [&](const auto& r) {
        for (std::uint64_t j = r.begin(); j != r.end(); ++j) table[j] = -static_cast<std::int64_t>(first + j + 1);
    });
    tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, requests), [&](const auto& r) {
        for (std::uint64_t k = r.begin(); k != r.end(); ++k) {
            const std::uint64_t i = request_index(seed, rank, k, global_size);
            owner[k] = static_cast<std::uint32_t>(i / table_size);
            offset[k] = static_cast<std::uint32_t>(i % table_size);
            got[k] = 0;
        }
    });

    const double generate_seconds = apps::max_all(apps::now() - g0, mc);

    gather_state state;
    state.table = table.get();
    state.table_size = table_size;
    state.got = got.get();
    state.slots = requests;
    g_state = &state;

    MPI_Barrier(mc);
    const buddy::counters before = world.stats();
    const double c0 = cpu_now();
    const double t0 = apps::now();
    if (use_mpi) {
        gather_mpi(mc, ranks, owner.get(), offset.get(), requests, table_size, chunk, state);
    } else {
        send_requests(world, owner.get(), offset.get(), requests);
        world.barrier();
    }
    const double elapsed = apps::now() - t0;
    const double cpu_elapsed = cpu_now() - c0;
    const buddy::counters after = world.stats();
    // Bytes put on the wire: buddy records (headers included) or the MPI payload
    // (a 4-byte offset per request, an 8-byte value per reply).
    const std::uint64_t my_bytes =
        use_mpi ? state.requests_served * (sizeof(std::uint32_t) + sizeof(std::int64_t))
                : after.bytes_sent - before.bytes_sent;
    // Buddy mode counts its requests served and replies received together, from
    // the runtime's own count of handlers run (one add per batch): a per-message
    // count in the handlers would be a read-modify-write of memory on every record.
    const std::uint64_t my_handled =
        use_mpi ? state.requests_served + state.replies_received : after.messages_handled - before.messages_handled;

    // Debug: one wrong value on one rank (the lowest rank that has a request).
    if (corrupt) {
        const int have = requests > 0 ? rank : ranks;
        int victim = ranks;
        MPI_Allreduce(&have, &victim, 1, MPI_INT, MPI_MIN, mc);
        if (rank == victim) got[requests / 2] ^= 1;
    }

    // Verification (parallel): every slot holds the right value.  Values are
    // never 0, and slots start at 0, so a slot that got no reply is wrong.
    const double v0 = apps::now();
    const std::uint64_t wrong = tbb::parallel_reduce(
        tbb::blocked_range<std::uint64_t>(0, requests), std::uint64_t{0},
        [&](const auto& r, std::uint64_t acc) {
            for (std::uint64_t k = r.begin(); k != r.end(); ++k) {
                const std::uint64_t i = static_cast<std::uint64_t>(owner[k]) * table_size + offset[k];
                const bool ok = got[k] == -static_cast<std::int64_t>(i + 1);
                acc += ok ? 0 : 1;
            }
            return acc;
        },
        [](std::uint64_t a, std::uint64_t b) { return a + b; });

    const double verify_seconds = apps::max_all(apps::now() - v0, mc);
    const std::uint64_t total_requests = apps::sum_all(requests, mc);
    const std::uint64_t total_wrong = apps::sum_all(wrong, mc);
    const std::uint64_t total_bad = apps::sum_all(state.bad, mc);
    // Messages = requests served + replies received.  With every slot right,
    // each of the M·P slots got at least one reply, each from one served request,
    // so 2·M·P messages means exactly one request and one reply per slot: a
    // duplicate anywhere would need a missing reply, and so a wrong slot, elsewhere.
    const std::uint64_t messages = apps::sum_all(my_handled, mc);  // requests + replies delivered
    const bool verified = total_wrong == 0 && total_bad == 0 && messages == 2 * total_requests;
    const double seconds = apps::max_all(elapsed, mc);
    const double cpu_seconds = apps::max_all(cpu_elapsed, mc);
    const std::uint64_t bytes = apps::sum_all(my_bytes, mc);
    const double rate = seconds > 0 ? static_cast<double>(messages) / seconds : 0.0;

    if (rank == 0) {
        const std::string placement = use_mpi ? "none" : world.placement_name();
        if (json) {
            apps::result_line line;
            line.add("app", "index_gather")
                .add("mode", mode)
                .add("placement", placement)
                .add("ranks", ranks)
                .add("messages", messages)
                .add("seconds", seconds)
                .add("rate", rate)
                .add("verified", verified)
                .add("table_per_rank", table_size)
                .add("requests_per_rank", requests)
                .add("requests", total_requests)
                .add("wrong", total_wrong + total_bad)
                .add("cpu_seconds", cpu_seconds)
                .add("bytes", bytes)
                .add("gathers_per_second", seconds > 0 ? static_cast<double>(total_requests) / seconds : 0.0)
                .add("generate_seconds", generate_seconds)
                .add("verify_seconds", verify_seconds)
                .add("threads", threads)
                .add("seed", seed);
            if (use_mpi) line.add("chunk", chunk);
            std::cout << line.str() << std::endl;
        } else {
            std::printf("index_gather: %s mode (%s), %d ranks, %llu requests/rank, table %llu/rank\n", mode.c_str(),
                        placement.c_str(), ranks, static_cast<unsigned long long>(requests),
                        static_cast<unsigned long long>(table_size));
            std::printf("  %llu messages in %.4f s = %.3g msg/s; %s (%llu wrong)\n",
                        static_cast<unsigned long long>(messages), seconds, rate,
                        verified ? "verified" : "NOT VERIFIED",
                        static_cast<unsigned long long>(total_wrong + total_bad));
        }
    }
    return verified ? 0 : 1;
}
