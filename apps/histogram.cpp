// histogram: every rank sends N 8-byte updates to uniformly random counters of
// a table distributed over the ranks.  The result is verified twice: the global
// sum must equal the updates sent, and a second pass that subtracts the same
// updates must bring every counter back to zero.
//
//   mpirun -n 4 histogram --updates 1000000 --json
//   mpirun -n 4 histogram --mode mpi        # bulk-synchronous MPI_Alltoallv baseline
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <unistd.h>

#include "buddy/comm.hpp"
#include "common/app.hpp"

namespace {

struct state {
    std::vector<std::uint64_t> table;
    std::vector<std::uint64_t> work;  // extra memory touched per update (--work)
    std::uint64_t work_steps = 0;
    std::uint64_t work_sum = 0;
};
state* g_state = nullptr;  // handlers capture nothing; they reach rank state here

// Local memory work per update, to sweep the memory-to-communication ratio:
// `work_steps` dependent random reads over a buffer larger than the caches.
inline void do_work(std::uint64_t slot) {
    state& s = *g_state;
    std::uint64_t x = slot;
    const std::uint64_t n = s.work.size();
    for (std::uint64_t i = 0; i < s.work_steps; ++i) {
        x = s.work[apps::splitmix64(x) % n] + i;
    }
    s.work_sum += x;
}

// Handlers are captureless lambdas: their id is fixed at compile time and the
// record carries only the slot (16 bytes).  A function pointer would add its
// 8-byte code offset to every record and a second indirect call per message:
// measured 2.39e8 vs 3.27e8 messages/s at 2 ranks (docs/perf.md).
constexpr auto add_one = [](buddy::comm&, std::uint64_t slot) {
    ++g_state->table[slot];
    if (g_state->work_steps) [[unlikely]] do_work(slot);
};

// The same with a prefetch step, which asks for the counter of a record a
// few records ahead (for writing).  Used when the table is larger than the
// core's L2 (--prefetch auto): then every increment misses, and the run loop
// overlaps the misses only this way (8 MiB per rank: 1.3-1.5x, docs/perf.md).
// With a cache-resident table the step is pure cost (0.90-0.93x at 512 KiB).
constexpr auto add_one_prefetched = buddy::with_prefetch(add_one, [](std::uint64_t slot) {
    if (slot < g_state->table.size()) __builtin_prefetch(g_state->table.data() + slot, 1);
});

/// --prefetch auto: whether a table of this many bytes per rank outgrows the
/// core's L2 (as the C library reports it; 1 MiB where it reports none).
bool table_outgrows_l2(std::uint64_t table_bytes) {
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    const std::uint64_t l2_bytes = l2 > 0 ? static_cast<std::uint64_t>(l2) : std::uint64_t{1} << 20;
    return table_bytes > l2_bytes;
}

constexpr auto remove_one = [](buddy::comm&, std::uint64_t slot) { --g_state->table[slot]; };

// One pass of updates through buddy: the send loop and the barrier are timed.
// Kept out of main(): inlined there, the loop's registers depended on how big
// main() was, and an unrelated change to the command-line parsing (1e59ae7)
// put the generator's state on the stack, reloaded on every update.
template <typename Handler>
[[gnu::noinline]] double buddy_pass(buddy::comm& world, Handler handler, std::uint64_t updates, std::uint64_t table,
                  std::uint64_t seed) {
    apps::fast_rng rng(seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(world.rank()));
    const auto ranks = static_cast<std::uint64_t>(world.size());
    MPI_Barrier(world.mpi_comm());
    const double t0 = apps::now();
    for (std::uint64_t i = 0; i < updates; ++i) {
        const std::uint64_t r = rng.next();
        // One 64-bit draw gives both: destination from the high half, slot from the low.
        const int dest = static_cast<int>(((r >> 32) * ranks) >> 32);
        const std::uint64_t slot = ((r & 0xFFFFFFFFull) * table) >> 32;
        world.async(dest, handler, slot);
    }
    world.barrier();
    return apps::now() - t0;
}

// The bulk-synchronous baseline: per round, bucket `chunk` updates by
// destination, exchange counts (MPI_Alltoall) and slots (MPI_Alltoallv), apply.
double mpi_pass(MPI_Comm c, bool add, std::uint64_t updates, std::uint64_t table, std::uint64_t seed,
                std::uint64_t chunk, std::vector<std::uint64_t>& counts_table) {
    int rank = 0, size = 0;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    apps::fast_rng rng(seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(rank));
    const auto ranks = static_cast<std::uint64_t>(size);
    std::vector<int> send_counts(ranks), recv_counts(ranks), send_offsets(ranks + 1), recv_offsets(ranks + 1);
    std::vector<std::uint64_t> dests(chunk), slots(chunk), send_buffer(chunk), recv_buffer;
    MPI_Barrier(c);
    const double t0 = apps::now();
    for (std::uint64_t done = 0; done < updates; done += chunk) {
        const std::uint64_t n = std::min(chunk, updates - done);
        std::fill(send_counts.begin(), send_counts.end(), 0);
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint64_t r = rng.next();
            dests[i] = ((r >> 32) * ranks) >> 32;
            slots[i] = ((r & 0xFFFFFFFFull) * table) >> 32;
            ++send_counts[dests[i]];
        }
        send_offsets[0] = 0;
        for (std::uint64_t d = 0; d < ranks; ++d) send_offsets[d + 1] = send_offsets[d] + send_counts[d];
        std::vector<int> fill(send_offsets.begin(), send_offsets.end() - 1);
        for (std::uint64_t i = 0; i < n; ++i) send_buffer[static_cast<std::size_t>(fill[dests[i]]++)] = slots[i];
        MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, c);
        recv_offsets[0] = 0;
        for (std::uint64_t d = 0; d < ranks; ++d) recv_offsets[d + 1] = recv_offsets[d] + recv_counts[d];
        recv_buffer.resize(static_cast<std::size_t>(recv_offsets[ranks]));
        MPI_Alltoallv(send_buffer.data(), send_counts.data(), send_offsets.data(), MPI_UINT64_T,
                      recv_buffer.data(), recv_counts.data(), recv_offsets.data(), MPI_UINT64_T, c);
        if (add) {
            for (std::uint64_t s : recv_buffer) ++counts_table[s];
        } else {
            for (std::uint64_t s : recv_buffer) --counts_table[s];
        }
    }
    // The rounds are lock-step; this barrier makes the timing comparable to buddy's barrier().
    MPI_Barrier(c);
    return apps::now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);

    CLI::App cli{"histogram: random 8-byte updates into a distributed table of counters"};
    std::string mode = "buddy";
    std::string prefetch = "auto";
    std::uint64_t updates = 10'000'000, table = 1 << 16, seed = 1, chunk = 1 << 20, work = 0;
    std::size_t work_bytes = 64ull << 20;
    bool json = false, corrupt = false, stats = false;
    cli.add_option("--mode", mode, "buddy (fire-and-forget) or mpi (bulk-synchronous baseline)")
        ->check(CLI::IsMember({"buddy", "mpi"}));
    cli.add_option("--updates", updates, "updates sent per rank")->check(CLI::Range(1ull, 1ull << 40));
    cli.add_option("--table", table, "counters per rank (default 65536: 512 KiB, cache-resident; raise it to make updates memory-bound)")->check(CLI::Range(1ull, 1ull << 32));
    cli.add_option("--seed", seed, "random seed");
    cli.add_option("--chunk", chunk, "updates per bulk-synchronous round (mpi mode)")
        ->check(CLI::Range(1ull, 1ull << 30));
    cli.add_option("--work", work, "extra dependent random reads per update (local memory work per message)");
    cli.add_option("--work-bytes", work_bytes, "size of the buffer --work reads, in bytes")
        ->check(CLI::Range(std::size_t{8}, std::size_t{1} << 36));
    cli.add_option("--prefetch", prefetch,
                   "buddy mode: prefetch each update's counter a few records ahead (auto: when the table outgrows L2)")
        ->check(CLI::IsMember({"auto", "on", "off"}))
        ->capture_default_str();
    cli.add_flag("--json", json, "print one JSON object as the last line");
    cli.add_flag("--stats", stats, "print buddy's per-rank counter table");
    cli.add_flag("--corrupt", corrupt, "debug: corrupt one received value to prove verification fails");
    if (const auto status = apps::parse_command_line(cli, argc, argv, world.rank())) return *status;
    if (chunk > updates) chunk = updates;

    state s;
    s.table.assign(table, 0);
    s.work_steps = work;
    if (work) {
        s.work.resize(work_bytes / sizeof(std::uint64_t));
        std::iota(s.work.begin(), s.work.end(), std::uint64_t{0});
    }
    g_state = &s;
    const MPI_Comm c = world.mpi_comm();
    const bool use_buddy = mode == "buddy";
    const bool use_prefetch =
        use_buddy && (prefetch == "on" || (prefetch == "auto" && table_outgrows_l2(table * sizeof(std::uint64_t))));

    double seconds = 0;
    if (use_buddy) {
        seconds = use_prefetch ? buddy_pass(world, add_one_prefetched, updates, table, seed)
                               : buddy_pass(world, add_one, updates, table, seed);
    } else {
        seconds = mpi_pass(c, true, updates, table, seed, chunk, s.table);
    }
    seconds = apps::max_all(seconds, c);

    if (corrupt && world.rank() == world.size() - 1) ++s.table[table / 2];

    // Check 1: every update arrived exactly once in total.
    const std::uint64_t local_sum = std::accumulate(s.table.begin(), s.table.end(), std::uint64_t{0});
    const std::uint64_t total = apps::sum_all(local_sum, c);
    const std::uint64_t expected = updates * static_cast<std::uint64_t>(world.size());
    const bool sum_ok = total == expected;

    // Check 2: subtracting the same updates leaves every counter at zero.
    if (use_buddy) {
        buddy_pass(world, remove_one, updates, table, seed);
    } else {
        mpi_pass(c, false, updates, table, seed, chunk, s.table);
    }
    const bool zero_ok = std::all_of(s.table.begin(), s.table.end(), [](std::uint64_t v) { return v == 0; });
    const bool verified = apps::all_true(sum_ok && zero_ok, c);
    const std::uint64_t work_sum = apps::sum_all(s.work_sum, c);

    if (stats && use_buddy) world.print_stats(std::cout);
    if (world.rank() == 0) {
        const double rate = static_cast<double>(expected) / seconds;
        if (json) {
            apps::result_line line;
            line.add("app", "histogram")
                .add("mode", mode)
                .add("placement", use_buddy ? world.placement_name() : "none")
                .add("ranks", world.size())
                .add("messages", expected)
                .add("seconds", seconds)
                .add("rate", rate)
                .add("verified", verified)
                .add("updates_per_rank", updates)
                .add("table_per_rank", table)
                .add("prefetch", use_prefetch)
                .add("global_sum", total)
                .add("work", work)
                .add("work_checksum", work_sum)
                .add("granularity", static_cast<std::uint64_t>(world.settings().granularity));
            std::cout << line.str() << std::endl;
        } else {
            std::cout << "histogram: " << world.size() << " ranks, mode " << mode << ", "
                      << (use_buddy ? world.placement_name() : "no") << " placement\n"
                      << "  updates     " << expected << " (" << updates << " per rank)\n"
                      << "  global sum  " << total << (sum_ok ? " (matches)" : " (MISMATCH)") << "\n"
                      << "  time        " << seconds << " s\n"
                      << "  rate        " << rate / 1e6 << " M updates/s\n"
                      << "  verified    " << (verified ? "yes" : "NO") << std::endl;
        }
    }
    return verified ? 0 : 1;
}
