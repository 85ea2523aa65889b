// quicksilver: a Monte Carlo neutron transport proxy in the style of LLNL's
// Quicksilver.  A box of unit cells is split into blocks over the ranks; each
// cycle, sources add particles in their birth cells, and every particle moves
// segment by segment (collision / cell facet / census), looking up a large
// per-material cross-section table at a pseudo-random energy bin each segment
// (memory-bound host work).  A particle crossing into a cell another rank owns
// is sent there: one async() per particle (buddy mode), or per-neighbour
// buffers exchanged with MPI_Isend/MPI_Irecv each round (mpi mode).  In buddy
// mode a rank that has run out of work of its own waits in barrier(), and the
// handlers track what arrives there and send its migrants on: barrier() then
// ends the cycle: one round a cycle, where mpi mode's bulk-synchronous
// exchange needs about six and buddy's earlier design, which only queued
// arrivals, about five (--arrivals).
//
// Verification: exact particle balance per cycle and in total, every particle
// sent is received, and a serial replay of sampled source histories (the whole
// family tree of each sampled source over all remaining cycles) matches what
// the distributed run tallied for them, count for count and bit for bit in the
// fixed-point path length.  The physics depends only on the particle's own
// state, so the tallies printed are identical at any rank count.
// See docs/apps/quicksilver.md.

#include <mpi.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <span>
#include <string>
#include <vector>

#include "buddy/comm.hpp"
#include "common/app.hpp"
#include "quicksilver/physics.hpp"

namespace {

using qs::particle;

/// Sums an array of 64-bit counts over the job, in place.
void sum_in_place(std::vector<std::uint64_t>& v, MPI_Comm c) {
    if (v.empty()) return;
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_UINT64_T, MPI_SUM, c);
}

/// What one TBB thread accumulates while tracking.
struct alignas(128) worker {
    qs::tallies t;
    std::vector<particle> stack;    ///< fission children still to track
    std::vector<particle> census;   ///< particles that reached census (stay here)
    std::vector<particle> leaving;  ///< particles that crossed into another rank's cell
    std::vector<int> dest;          ///< ... and the rank that owns that cell
};

/// Where a particle that arrives from another rank is tracked (buddy mode).
enum class arrivals {
    queue,    ///< handlers queue it; the rank tracks it in its next chunk, rounds until no rank has work
    handler,  ///< the handler tracks it (and its children) at once and sends its migrants on
    barrier,  ///< queued while the rank has work of its own, tracked by the handler once it waits in barrier()
};

/// --arrivals: each name and what it selects.
const std::map<std::string, arrivals> arrivals_by_name{
    {"queue", arrivals::queue}, {"handler", arrivals::handler}, {"barrier", arrivals::barrier}};

/// Whether handlers track what arrives now, under `a`, while the rank waits in
/// barrier() or has work of its own.
constexpr bool handlers_track(arrivals a, bool in_barrier) noexcept {
    return a == arrivals::handler || (a == arrivals::barrier && in_barrier);
}

class transport;

/// Per-rank state the message handlers reach (handlers cannot capture).
struct rank_state {
    std::vector<particle> inbox;  ///< arrived, not yet tracked
    std::uint64_t received = 0;
    std::uint64_t sent = 0;       ///< particles sent to other ranks
    std::uint64_t asyncs = 0;     ///< async() calls that sent them
    bool corrupt_armed = false;   ///< --corrupt: spoil the next sampled arrival
    transport* tracker = nullptr; ///< what a handler that tracks an arrival tracks it with
    bool track_arrivals = false;  ///< handlers track what arrives (instead of queueing it)
    double track_time = 0;        ///< seconds spent tracking, in chunks and in handlers
    std::uint64_t tracked_in_handlers = 0;  ///< arrivals a handler tracked
    int handler_depth = 0;        ///< handlers tracking now, one inside another's async()
    int deepest_nesting = 0;      ///< the most handler_depth has been

    /// Counts an arrival and applies --corrupt; returns the particle as it is to be tracked.
    particle arrived(particle p) {
        ++received;
        if (corrupt_armed && (p.flags & qs::flag_sampled)) {
            p.seg += 1;  // a different random stream: a different history
            corrupt_armed = false;
        }
        return p;
    }
};
rank_state* g_state = nullptr;

/// Per-cycle global counts, in print order.
enum count_slot : int { c_start = 0, c_source, c_absorb, c_scatter, c_fission, c_produce, c_escape, c_census, c_segments, c_sent, c_received, n_counts };

class transport {
public:
    transport(const qs::problem& pb, int me) : pb_(pb), me_(me), workers_([&pb] {
        worker w;
        w.t.size_for(pb);
        return w;
    }) {}

    /// Tracks every particle of `batch` (in parallel over TBB threads).
    void process(std::span<particle> batch) {
        if (batch.empty()) return;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, batch.size(), 16), [&](const tbb::blocked_range<std::size_t>& r) {
            worker& w = workers_.local();
            const auto leave = [&w](const particle& p, int owner) {
                w.leaving.push_back(p);
                w.dest.push_back(owner);
            };
            for (std::size_t i = r.begin(); i != r.end(); ++i) run(batch[i], w, leave);
        });
    }

    tbb::enumerable_thread_specific<worker>& workers() { return workers_; }

    /// This cycle's counts of every thread, summed, and reset for the next cycle.
    void take_counts(std::array<std::uint64_t, n_counts>& c) {
        for (worker& w : workers_) {
            c[c_absorb] += w.t.absorb;
            c[c_scatter] += w.t.scatter;
            c[c_fission] += w.t.fission;
            c[c_produce] += w.t.produce;
            c[c_escape] += w.t.escape;
            c[c_census] += w.t.census;
            c[c_segments] += w.t.segments;
            w.t.reset_counts();
        }
    }

    /// Census particles of every thread, moved out (they start the next cycle here).
    void take_census(std::vector<particle>& out) {
        for (worker& w : workers_) {
            out.insert(out.end(), w.census.begin(), w.census.end());
            w.census.clear();
        }
    }

    /// Tracks `first` and its fission children on the calling thread, and
    /// calls migrate(p, owner) for each that crosses into another rank's cell.
    /// migrate() may run message handlers that call follow() again (an async()
    /// inside one): the nested call shares this thread's fission stack, and
    /// whichever call finds a child on it tracks it.
    template <typename Migrate>
    void follow(const particle& first, Migrate&& migrate) {
        run(first, workers_.local(), migrate);
    }

private:
    template <typename Migrate>
    void run(const particle& first, worker& w, Migrate&& migrate) {
        w.stack.push_back(first);
        while (!w.stack.empty()) {
            particle p = w.stack.back();
            w.stack.pop_back();
            const qs::fate f = qs::track(pb_, me_, p, w.t, [&w](const particle& c) { w.stack.push_back(c); });
            if (f == qs::fate::migrated) {
                migrate(p, pb_.dec.owner(p.ix, p.iy, p.iz));
            } else if (f == qs::fate::census) {
                w.census.push_back(p);
            }
        }
    }

    const qs::problem& pb_;
    int me_;
    tbb::enumerable_thread_specific<worker> workers_;
};

void receive(buddy::comm& c, const particle& arriving);

// Captureless lambdas, not functions: a lambda's particle takes async()'s
// fixed-size path (a 104-byte record written inline, handled in runs); a
// function handler's record carries its code offset and is encoded and
// dispatched one by one.
constexpr auto on_particle = [](buddy::comm& c, const particle& p) { receive(c, p); };
constexpr auto on_particles = [](buddy::comm& c, std::span<const particle> ps) {
    for (const particle& p : ps) receive(c, p);
};

/// A particle that arrived from another rank: queued, or (while the rank says
/// so) tracked here with its children, migrants sent on from this handler one
/// particle per message (--pack applies to the chunks' leavers).  What this
/// handler tracks never goes into a worker's leaving list or the --pack
/// staging, which main() iterates while its async() calls may run handlers.
/// The clock stops around each async(): the handlers it may run count their
/// own tracking, and sending is communication.
void receive(buddy::comm& c, const particle& arriving) {
    rank_state& s = *g_state;
    const particle p = s.arrived(arriving);
    if (!s.track_arrivals) {
        s.inbox.push_back(p);
        return;
    }
    ++s.tracked_in_handlers;
    s.deepest_nesting = std::max(s.deepest_nesting, ++s.handler_depth);
    double start = apps::now();
    s.tracker->follow(p, [&c, &s, &start](const particle& q, int owner) {
        s.track_time += apps::now() - start;
        ++s.sent;
        ++s.asyncs;
        c.async(owner, on_particle, q);
        start = apps::now();
    });
    s.track_time += apps::now() - start;
    --s.handler_depth;
}

/// Serial replay of the sampled roots this rank is responsible for (sample
/// index % ranks == me): each root's whole family, through every remaining
/// cycle, with no decomposition.  Returns the per-sample tallies.
std::vector<std::uint64_t> replay(const qs::problem& pb, int me, int ranks) {
    qs::tallies t;
    t.size_for(pb);
    qs::problem serial = pb;  // shares nothing mutable; work lookups are not needed
    serial.work = 0;
    struct item {
        particle p;
        int cycle;
    };
    std::vector<item> stack;
    for (std::uint64_t s = static_cast<std::uint64_t>(me); s < pb.samples; s += static_cast<std::uint64_t>(ranks)) {
        const std::uint64_t root = s * pb.sample_stride;
        stack.push_back({qs::make_source(pb, root), static_cast<int>(root / pb.particles)});
        while (!stack.empty()) {
            item it = stack.back();
            stack.pop_back();
            for (;;) {
                const int cycle = it.cycle;
                const qs::fate f = qs::track(serial, -1, it.p, t, [&](const particle& c) { stack.push_back({c, cycle}); });
                if (f == qs::fate::census && it.cycle + 1 < pb.cycles) {
                    qs::start_next_cycle(pb, it.p);
                    ++it.cycle;
                    continue;
                }
                break;
            }
        }
    }
    return t.sampled;
}

/// CPU seconds used by this process, all threads (contention shows in wall time, not here).
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string hex64(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    const int me = world.rank();
    const int ranks = world.size();
    const MPI_Comm mc = world.mpi_comm();

    CLI::App app{"quicksilver: Monte Carlo neutron transport proxy (particles migrate between domain owners)"};
    int nx = 24, ny = 24, nz = 24;
    int groups = 8;
    std::uint64_t particles = 40000;
    int cycles = 10;
    double table_mb = 64;
    int work = 0;
    std::uint64_t seed = 1;
    std::string mode = "buddy";
    std::string decomp = "block";
    int threads = 1;
    int pack = 1;
    std::size_t chunk = 2048;
    std::string arrivals_flag = "barrier";
    std::uint64_t verify_samples = 1024;
    bool json = false;
    bool corrupt = false;
    app.add_option("--nx", nx, "cells along x")->check(CLI::Range(1, 4096));
    app.add_option("--ny", ny, "cells along y")->check(CLI::Range(1, 4096));
    app.add_option("--nz", nz, "cells along z")->check(CLI::Range(1, 4096));
    app.add_option("--groups", groups, "energy groups")->check(CLI::Range(1, 64));
    app.add_option("--particles", particles, "source particles per cycle (whole job)")->check(CLI::Range(1ull, 1ull << 32));
    app.add_option("--cycles", cycles, "time steps")->check(CLI::Range(1, 100000));
    app.add_option("--table-mb", table_mb, "cross-section table size per rank, MiB (all materials and groups)")
        ->check(CLI::Range(0.001, 16384.0));
    app.add_option("--work", work, "extra cross-section lookups per segment (memory work; physics unchanged)")
        ->check(CLI::Range(0, 60000));
    app.add_option("--seed", seed, "random seed (materials, tables, sources, collisions)");
    app.add_option("--mode", mode, "buddy: one async per migrating particle; mpi: per-neighbour Isend/Irecv rounds")
        ->check(CLI::IsMember({"buddy", "mpi"}));
    app.add_option("--decomp", decomp, "domain decomposition: block (3-D, least cut surface) or slab (along z)")
        ->check(CLI::IsMember({"block", "slab"}));
    app.add_option("--threads", threads, "oneTBB threads per rank for the particle loop (0: TBB's default)")
        ->check(CLI::Range(0, 1024));
    app.add_option("--pack", pack, "buddy mode: particles per async (1: one particle per message)")->check(CLI::Range(1, 8192));
    app.add_option("--chunk", chunk, "buddy mode: particles tracked between sends/progress")->check(CLI::Range(1ull, 1ull << 30));
    app.add_option("--arrivals", arrivals_flag,
                   "buddy mode: where a particle from another rank is tracked: queue (next chunk, in rounds), "
                   "handler (in its handler, at once), barrier (next chunk while the rank has work, its "
                   "handler once it waits in barrier())")
        ->capture_default_str()
        ->check(CLI::IsMember(arrivals_by_name));
    app.add_option("--verify-samples", verify_samples, "source histories replayed serially to check the run")
        ->check(CLI::Range(1ull, 1ull << 24));
    app.add_flag("--json", json, "print one JSON result line (rank 0)");
    app.add_flag("--corrupt", corrupt, "debug: corrupt one received value to prove verification fails");
    if (const auto status = apps::parse_command_line(app, argc, argv, me)) return *status == 0 ? 0 : 2;

    std::optional<tbb::global_control> tbb_limit;
    if (threads > 0) tbb_limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    const bool buddy_mode = mode == "buddy";
    const arrivals arrival = arrivals_by_name.at(arrivals_flag);
    // a packed message must fit the runtime's largest payload (BUDDY_MAX_MESSAGE)
    const std::size_t pack_limit = std::max<std::size_t>(1, (world.settings().max_message - 64) / sizeof(particle));
    pack = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(pack), pack_limit));

    // ---- the replicated problem
    qs::problem pb;
    pb.m = qs::mesh{nx, ny, nz};
    try {
        pb.dec = qs::decomposition::make(pb.m, ranks, decomp == "slab");
    } catch (const std::exception& e) {
        if (me == 0) std::fprintf(stderr, "quicksilver: %s (%dx%dx%d cells, %d ranks)\n", e.what(), nx, ny, nz, ranks);
        return 2;
    }
    pb.groups = groups;
    pb.cycles = cycles;
    pb.particles = particles;
    pb.seed = seed;
    pb.work = work;
    pb.dt = 1.0;
    for (int g = 0; g < groups; ++g) pb.speed.push_back(4.0 * std::pow(0.8, g));
    pb.material = qs::lay_out_materials(pb.m, seed);
    pb.xs.groups = groups;
    pb.xs.bins = qs::bins_for(table_mb, groups);
    pb.xs.entries.resize(static_cast<std::size_t>(qs::n_materials) * static_cast<std::size_t>(groups) * pb.xs.bins);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, pb.xs.entries.size(), 4096), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t e = r.begin(); e != r.end(); ++e) {
            const std::uint64_t bin = e % pb.xs.bins;
            const std::uint64_t mg = e / pb.xs.bins;
            pb.xs.entries[e] = qs::make_entry(seed, static_cast<int>(mg / static_cast<std::uint64_t>(groups)),
                                              static_cast<int>(mg % static_cast<std::uint64_t>(groups)), bin);
        }
    });
    const std::uint64_t roots = particles * static_cast<std::uint64_t>(cycles);
    pb.sample_stride = std::max<std::uint64_t>(1, (roots + verify_samples - 1) / verify_samples);
    pb.samples = (roots - 1) / pb.sample_stride + 1;

    rank_state state;
    g_state = &state;
    const bool corrupter = corrupt && me == ranks - 1;
    state.corrupt_armed = corrupter && ranks > 1;
    bool corrupt_source = corrupter && ranks == 1;

    transport tr(pb, me);
    std::vector<std::array<std::uint64_t, n_counts>> per_cycle;
    std::vector<particle> queue, census;
    std::uint64_t rounds = 0;
    state.tracker = &tr;
    state.track_arrivals = buddy_mode && handlers_track(arrival, false);

    // buddy mode: staging for --pack > 1
    std::vector<std::vector<particle>> stage(buddy_mode && pack > 1 ? static_cast<std::size_t>(ranks) : 0);
    auto send_leaving = [&] {
        for (worker& w : tr.workers()) {
            for (std::size_t i = 0; i < w.leaving.size(); ++i) {
                const int d = w.dest[i];
                if (pack == 1) {
                    world.async(d, on_particle, w.leaving[i]);
                    ++state.asyncs;
                } else {
                    auto& s = stage[static_cast<std::size_t>(d)];
                    s.push_back(w.leaving[i]);
                    if (s.size() == static_cast<std::size_t>(pack)) {
                        world.async(d, on_particles, std::span<const particle>(s));
                        ++state.asyncs;
                        s.clear();
                    }
                }
            }
            state.sent += w.leaving.size();
            w.leaving.clear();
            w.dest.clear();
        }
        for (std::size_t d = 0; d < stage.size(); ++d) {
            if (stage[d].empty()) continue;
            world.async(static_cast<int>(d), on_particles, std::span<const particle>(stage[d]));
            ++state.asyncs;
            stage[d].clear();
        }
    };
    auto drain_inbox = [&] {
        if (state.inbox.empty()) return;
        queue.insert(queue.end(), state.inbox.begin(), state.inbox.end());
        state.inbox.clear();
    };

    // mpi mode: the neighbours this rank exchanges with
    const std::vector<int> nbrs = pb.dec.neighbours(me);
    std::vector<int> slot_of(static_cast<std::size_t>(ranks), -1);
    for (std::size_t i = 0; i < nbrs.size(); ++i) slot_of[static_cast<std::size_t>(nbrs[i])] = static_cast<int>(i);
    std::vector<std::vector<particle>> out_buf(nbrs.size()), in_buf(nbrs.size());
    std::vector<std::uint64_t> out_n(nbrs.size()), in_n(nbrs.size());
    std::vector<MPI_Request> reqs;
    MPI_Comm xc = MPI_COMM_NULL;  // private communicator for the exchange: no tag can meet the runtime's
    if (!buddy_mode) MPI_Comm_dup(mc, &xc);
    bool stray = false;  // a particle went to a rank that is not a face neighbour (a bug)

    MPI_Barrier(mc);
    const double t0 = apps::now();
    const double cpu0 = process_cpu_seconds();
    for (int cycle = 0; cycle < cycles; ++cycle) {
        std::array<std::uint64_t, n_counts> c{};
        // census particles of the last cycle, then this cycle's sources (born on their cell's owner)
        queue.swap(census);
        census.clear();
        for (particle& p : queue) qs::start_next_cycle(pb, p);
        c[c_start] = queue.size();
        for (std::uint64_t i = 0; i < particles; ++i) {
            const std::uint64_t id = static_cast<std::uint64_t>(cycle) * particles + i;
            int ci, cj, ck;
            qs::source_cell(pb, id, ci, cj, ck);
            if (pb.dec.owner(ci, cj, ck) != me) continue;
            queue.push_back(qs::make_source(pb, id));
            ++c[c_source];
            if (corrupt_source && (queue.back().flags & qs::flag_sampled)) {
                queue.back().seg += 1;
                corrupt_source = false;
            }
        }

        if (buddy_mode) {
            for (;;) {
                while (!queue.empty()) {
                    const std::size_t n = std::min(chunk, queue.size());
                    const double ts = apps::now();
                    tr.process(std::span<particle>(queue.data() + queue.size() - n, n));
                    state.track_time += apps::now() - ts;
                    queue.resize(queue.size() - n);
                    send_leaving();
                    world.progress();
                    drain_inbox();
                }
                // Waiting in barrier() for the others, handlers track what arrives
                // (unless arrivals are queued for the next round).
                state.track_arrivals = handlers_track(arrival, true);
                world.barrier();
                state.track_arrivals = handlers_track(arrival, false);
                drain_inbox();
                ++rounds;
                if (apps::sum_all(queue.size(), mc) == 0) break;
            }
        } else {
            for (;;) {
                const double ts = apps::now();
                tr.process(std::span<particle>(queue));
                state.track_time += apps::now() - ts;
                queue.clear();
                for (auto& b : out_buf) b.clear();
                for (worker& w : tr.workers()) {
                    for (std::size_t i = 0; i < w.leaving.size(); ++i) {
                        const int s = slot_of[static_cast<std::size_t>(w.dest[i])];
                        if (s < 0) {
                            stray = true;
                            continue;
                        }
                        out_buf[static_cast<std::size_t>(s)].push_back(w.leaving[i]);
                    }
                    state.sent += w.leaving.size();
                    w.leaving.clear();
                    w.dest.clear();
                }
                // counts first, then the particles themselves
                const std::size_t nn = nbrs.size();
                reqs.assign(2 * nn, MPI_REQUEST_NULL);
                for (std::size_t i = 0; i < nn; ++i) {
                    out_n[i] = out_buf[i].size();
                    MPI_Irecv(&in_n[i], 1, MPI_UINT64_T, nbrs[i], 11, xc, &reqs[i]);
                    MPI_Isend(&out_n[i], 1, MPI_UINT64_T, nbrs[i], 11, xc, &reqs[nn + i]);
                }
                MPI_Waitall(static_cast<int>(2 * nn), reqs.data(), MPI_STATUSES_IGNORE);
                for (std::size_t i = 0; i < nn; ++i) {
                    in_buf[i].resize(in_n[i]);
                    MPI_Irecv(in_buf[i].data(), static_cast<int>(in_buf[i].size() * sizeof(particle)), MPI_BYTE, nbrs[i], 12, xc,
                              &reqs[i]);
                    MPI_Isend(out_buf[i].data(), static_cast<int>(out_buf[i].size() * sizeof(particle)), MPI_BYTE, nbrs[i], 12, xc,
                              &reqs[nn + i]);
                }
                MPI_Waitall(static_cast<int>(2 * nn), reqs.data(), MPI_STATUSES_IGNORE);
                for (auto& in : in_buf)
                    for (const particle& p : in) state.inbox.push_back(state.arrived(p));
                drain_inbox();
                ++rounds;
                // termination test: particles in flight anywhere after this exchange round?
                if (apps::sum_all(queue.size(), mc) == 0) break;
            }
        }

        tr.take_counts(c);
        tr.take_census(census);
        c[c_sent] = state.sent;
        c[c_received] = state.received;
        per_cycle.push_back(c);
        // the per-cycle balance line
        std::vector<std::uint64_t> g(c.begin(), c.end());
        sum_in_place(g, mc);
        if (me == 0) {
            std::printf("cycle %d: start %" PRIu64 " source %" PRIu64 " absorb %" PRIu64 " scatter %" PRIu64 " fission %" PRIu64
                        " produce %" PRIu64 " escape %" PRIu64 " census %" PRIu64 " segments %" PRIu64 "\n",
                        cycle, g[c_start], g[c_source], g[c_absorb], g[c_scatter], g[c_fission], g[c_produce], g[c_escape],
                        g[c_census], g[c_segments]);
            std::fflush(stdout);
        }
        std::copy(g.begin(), g.end(), per_cycle.back().begin());
    }
    const double elapsed = apps::max_all(apps::now() - t0, mc);
    double cpu_total = 0, cpu_mine = process_cpu_seconds() - cpu0;
    MPI_Allreduce(&cpu_mine, &cpu_total, 1, MPI_DOUBLE, MPI_SUM, mc);
    if (xc != MPI_COMM_NULL) MPI_Comm_free(&xc);
    const double track_max = apps::max_all(state.track_time, mc);
    double track_mean = 0;
    MPI_Allreduce(&state.track_time, &track_mean, 1, MPI_DOUBLE, MPI_SUM, mc);
    track_mean /= ranks;

    // ---- verification
    bool ok = apps::all_true(!stray, mc);
    std::array<std::uint64_t, n_counts> total{};
    bool balance = true;
    for (int cycle = 0; cycle < cycles; ++cycle) {
        const auto& g = per_cycle[static_cast<std::size_t>(cycle)];
        for (int s = 0; s < n_counts; ++s)
            if (s != c_sent && s != c_received) total[static_cast<std::size_t>(s)] += g[static_cast<std::size_t>(s)];
        // everything alive in the cycle ends in exactly one of absorb, fission (the parent), escape, census
        if (g[c_start] + g[c_source] + g[c_produce] != g[c_absorb] + g[c_fission] + g[c_escape] + g[c_census]) balance = false;
        const std::uint64_t previous_census = cycle == 0 ? 0 : per_cycle[static_cast<std::size_t>(cycle - 1)][c_census];
        if (g[c_start] != previous_census) balance = false;
        if (g[c_source] != particles) balance = false;
        if (g[c_sent] != g[c_received]) balance = false;  // cumulative: every particle sent so far arrived
    }
    const std::uint64_t final_census = per_cycle.back()[c_census];
    if (total[c_source] + total[c_produce] != total[c_absorb] + total[c_fission] + total[c_escape] + final_census) balance = false;
    const std::uint64_t messages = per_cycle.back()[c_sent];

    // the sampled histories: what the distributed run tallied vs a serial replay
    std::vector<std::uint64_t> measured(pb.samples * qs::n_slots, 0);
    std::vector<std::uint64_t> path(static_cast<std::size_t>(groups), 0);
    std::uint64_t sink = 0, state_sum = 0;
    for (worker& w : tr.workers()) {
        state_sum += w.t.state;
        for (std::size_t i = 0; i < measured.size(); ++i) measured[i] += w.t.sampled[i];
        for (std::size_t g = 0; g < path.size(); ++g) path[g] += w.t.path[g];
        sink += w.t.sink;
    }
    sum_in_place(measured, mc);
    sum_in_place(path, mc);
    state_sum = apps::sum_all(state_sum, mc);
    std::vector<std::uint64_t> reference = replay(pb, me, ranks);
    sum_in_place(reference, mc);
    std::uint64_t mismatched = 0;
    for (std::uint64_t s = 0; s < pb.samples; ++s) {
        bool same = true;
        for (int k = 0; k < qs::n_slots; ++k)
            if (measured[s * qs::n_slots + static_cast<std::uint64_t>(k)] != reference[s * qs::n_slots + static_cast<std::uint64_t>(k)])
                same = false;
        if (!same) ++mismatched;
    }
    const bool replay_ok = mismatched == 0;
    ok = ok && balance && replay_ok;
    ok = apps::all_true(ok, mc);

    // decomposition-independent digest of the path-length tally per group and of
    // the final state of every particle end
    std::uint64_t digest = apps::splitmix64(0xCBF29CE484222325ull ^ state_sum);
    double path_total = 0;
    for (std::size_t g = 0; g < path.size(); ++g) {
        digest = apps::splitmix64(digest ^ path[g]);
        path_total += static_cast<double>(path[g]) * 0x1.0p-32;
    }
    const std::uint64_t all_asyncs = apps::sum_all(state.asyncs, mc);
    const std::uint64_t tracked_in_handlers = apps::sum_all(state.tracked_in_handlers, mc);
    const int deepest_nesting = static_cast<int>(apps::max_all(static_cast<double>(state.deepest_nesting), mc));
    const std::uint64_t all_record_bytes = apps::sum_all(buddy_mode ? world.stats().bytes_sent : 0, mc);
    const std::uint64_t all_rounds = apps::sum_all(me == 0 ? rounds : 0, mc);
    const std::uint64_t work_sink = apps::sum_all(sink, mc);
    const double fom = elapsed > 0 ? static_cast<double>(total[c_segments]) / elapsed : 0.0;
    const double rate = elapsed > 0 ? static_cast<double>(messages) / elapsed : 0.0;

    if (me == 0) {
        if (json) {
            apps::result_line r;
            r.add("app", "quicksilver")
                .add("mode", mode)
                .add("placement", buddy_mode ? std::string(world.placement_name()) : std::string("none"))
                .add("ranks", ranks)
                .add("messages", messages)
                .add("seconds", elapsed)
                .add("rate", rate)
                .add("verified", ok)
                .add("fom", fom)
                .add("segments", total[c_segments])
                .add("source", total[c_source])
                .add("absorb", total[c_absorb])
                .add("scatter", total[c_scatter])
                .add("fission", total[c_fission])
                .add("produce", total[c_produce])
                .add("escape", total[c_escape])
                .add("census", final_census)
                .add("tally", hex64(digest))
                .add("state_checksum", hex64(state_sum))
                .add("path_length", path_total)
                .add("cpu_seconds", cpu_total)
                .add("track_seconds_max", track_max)
                .add("track_seconds_mean", track_mean)
                .add("balance", balance)
                .add("replay_samples", pb.samples)
                .add("replay_mismatches", mismatched)
                .add("asyncs", buddy_mode ? all_asyncs : 0)
                .add("bytes_per_async", all_asyncs ? static_cast<double>(all_record_bytes) / static_cast<double>(all_asyncs) : 0.0)
                .add("rounds", all_rounds)
                .add("decomposition", std::to_string(pb.dec.px) + "x" + std::to_string(pb.dec.py) + "x" + std::to_string(pb.dec.pz))
                .add("nx", nx)
                .add("ny", ny)
                .add("nz", nz)
                .add("groups", groups)
                .add("particles", particles)
                .add("cycles", cycles)
                .add("table_mb", table_mb)
                .add("work", work)
                .add("threads", threads)
                .add("pack", buddy_mode ? pack : 0)
                .add("arrivals", buddy_mode ? arrivals_flag : std::string("none"))
                .add("tracked_in_handlers", tracked_in_handlers)
                .add("deepest_nesting", deepest_nesting);
            std::printf("%s\n", r.str().c_str());
        } else {
            std::printf("quicksilver %s on %d ranks (%s, %dx%dx%d blocks): %" PRIu64 " segments in %.3f s = %.3g segments/s; "
                        "%" PRIu64 " particles migrated (%.3g/s) in %" PRIu64 " rounds\n",
                        mode.c_str(), ranks, buddy_mode ? world.placement_name() : "none", pb.dec.px, pb.dec.py, pb.dec.pz,
                        total[c_segments], elapsed, fom, messages, rate, all_rounds);
            std::printf("tally %s (path length %.6f), census %" PRIu64 ", work sink %" PRIu64 "\n", hex64(digest).c_str(),
                        path_total, final_census, work_sink);
            std::printf("balance %s, replay %s (%" PRIu64 " sampled histories, %" PRIu64 " differ): %s\n", balance ? "ok" : "BROKEN",
                        replay_ok ? "ok" : "MISMATCH", pb.samples, mismatched, ok ? "verified" : "NOT VERIFIED");
        }
        std::fflush(stdout);
    }
    (void)work_sink;
    return ok ? 0 : 1;
}
