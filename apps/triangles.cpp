// triangles: counts the triangles of an undirected R-MAT graph.
//
// The lower triangle L (row v = the neighbours u < v of v) is spread over the
// ranks by rows (see triangles/rmat.hpp for the vertex -> rank map).  A
// triangle w < u < v is found exactly once: rank owner(v) walks row v, and for
// each entry u and every w < u in the same row asks owner(u) "is w in L[u]?".
// The owner counts the hits into its own total; nobody replies, and the job's
// count is the sum over ranks.
//
//   buddy mode: by default one async per (row v, owner d) carrying the prefix
//               of row v that the entries u owned by d need (--batching row);
//               or one per (u, candidate list) -- the entries of row v below
//               u, as a std::span (--batching span); or one per (u, w)
//               (--batching wedge);
//   mpi mode:   the same records packed into per-destination buffers and
//               exchanged with MPI_Alltoallv in bulk-synchronous rounds.
//
// See docs/apps/triangles.md for the measurements behind the choices.
#include <CLI/CLI.hpp>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "buddy/comm.hpp"
#include "common/app.hpp"
#include "triangles/csr.hpp"
#include "triangles/exchange.hpp"
#include "triangles/rmat.hpp"
#include "triangles/verify.hpp"

namespace {

using triangles::csr;
using triangles::owner_map;
using triangles::vertex;

/// What this process's handlers reach (handlers cannot capture).
struct rank_state {
    const csr* L = nullptr;
    owner_map map;
    std::vector<std::uint64_t> incoming;  ///< edges received while building
    std::uint64_t hits = 0;               ///< triangles found answering queries
    std::uint64_t wedges_answered = 0;    ///< candidates tested answering queries
    triangles::row_marks marks;           ///< scratch for answering row messages
};
rank_state* g_state = nullptr;

struct options {
    int scale = 17;
    int edge_factor = 16;
    std::uint64_t seed = 1;
    double a = 0.57, b = 0.19, c = 0.19;
    std::string mode = "buddy";
    std::string batching = "row";
    int threads = 1;
    int serial_max_scale = 12;
    std::size_t round_words = std::size_t{1} << 20;
    std::size_t block_rows = 1024;
    bool json = false;
    bool corrupt = false;
};

/// Edges of this rank's slice [lo, hi) of the edge indices as packed (max, min)
/// keys, self loops dropped, sorted and locally deduplicated.
std::vector<std::uint64_t> generate_slice(const triangles::rmat_params& p, std::uint64_t lo, std::uint64_t hi) {
    constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();
    std::vector<std::uint64_t> keys(hi - lo);
    tbb::parallel_for(tbb::blocked_range<std::uint64_t>(lo, hi, 4096), [&](const tbb::blocked_range<std::uint64_t>& r) {
        for (std::uint64_t i = r.begin(); i < r.end(); ++i) {
            vertex s, t;
            triangles::rmat_edge(p, i, s, t);
            keys[i - lo] = s == t ? none : (s > t ? triangles::pack(s, t) : triangles::pack(t, s));
        }
    });
    tbb::parallel_sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (!keys.empty() && keys.back() == none) keys.pop_back();
    return keys;
}

/// How remote queries are grouped into messages.
enum class batching {
    row,    ///< one message per (row v, owner d): the prefix of row v that the u's owned by d need
    span,   ///< one message per (u, candidate list): u and the entries of row v below it
    wedge,  ///< one message per (u, w)
};

/// Answers a row message (or a local row) on rank `me`: the questions of every
/// entry u it owns.  Returns (hits, wedges tested).
inline std::pair<std::uint64_t, std::uint64_t> answer_row(const vertex* row, std::size_t len, const csr& L,
                                                         const owner_map& map, int me, triangles::row_marks& marks) {
    return triangles::answer_row(
        row, len, [&](vertex u) { return map.owner(u) == me; },
        [&](vertex u) { return L.row(map.local_row(u)); }, marks);
}

/// Queries whose answer is on this rank: tested in place, in parallel.
/// Returns (hits, wedges tested).
/// Rows [first, last) of L; `sets` holds each thread's mark array.
std::pair<std::uint64_t, std::uint64_t> count_local(const csr& L, const owner_map& map, int rank,
                                                    tbb::enumerable_thread_specific<triangles::row_marks>& sets,
                                                    std::size_t first, std::size_t last) {
    using acc = std::pair<std::uint64_t, std::uint64_t>;
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(first, last, 256), acc{0, 0},
        [&](const tbb::blocked_range<std::size_t>& r, acc a) {
            triangles::row_marks& marks = sets.local();
            for (std::size_t q = r.begin(); q < r.end(); ++q) {
                const auto row = L.row(q);
                const acc got = answer_row(row.data(), row.size(), L, map, rank, marks);
                a.first += got.first;
                a.second += got.second;
            }
            return a;
        },
        [](acc x, acc y) { return acc{x.first + y.first, x.second + y.second}; });
}

std::pair<std::uint64_t, std::uint64_t> count_local(const csr& L, const owner_map& map, int rank) {
    const std::size_t vertices = static_cast<std::size_t>(map.ranks) * L.rows();
    tbb::enumerable_thread_specific<triangles::row_marks> sets{triangles::row_marks(vertices)};
    return count_local(L, map, rank, sets, 0, L.rows());
}

// ---- buddy mode -------------------------------------------------------------

void on_span(buddy::comm&, vertex u, std::span<const vertex> cand) {
    const auto r = g_state->L->row(g_state->map.local_row(u));
    g_state->hits += triangles::count_common(cand.data(), cand.size(), r.data(), r.size());
    g_state->wedges_answered += cand.size();
}

/// Sends the remote queries of rows [first, end); handlers answer them on the
/// owners.  Returns the wedges sent.  A span never exceeds max_span elements:
/// longer candidate lists go in pieces, and a row message carries at most
/// max_span entries (entries beyond go as span queries).
std::uint64_t send_queries_buddy(buddy::comm& world, const csr& L, const owner_map& map, batching mode,
                                 std::size_t max_span, std::size_t first, std::size_t end) {
    const int rank = world.rank();
    std::uint64_t wedges = 0;
    auto send_span = [&](int dest, vertex u, const vertex* row, std::size_t j) {
        for (std::size_t at = 0; at < j; at += max_span)
            world.async(
                dest, [](buddy::comm& c, vertex uu, std::span<const vertex> cand) { on_span(c, uu, cand); }, u,
                std::span<const vertex>(row + at, std::min(max_span, j - at)));
    };
    if (mode == batching::row) {
        std::vector<std::size_t> last(map.ranks, 0);  // per destination: last position it owns, 0 = none
        std::vector<int> touched;
        for (std::size_t q = first; q < end; ++q) {
            const auto row = L.row(q);
            touched.clear();
            for (std::size_t j = 1; j < row.size(); ++j) {
                const int dest = map.owner(row[j]);
                if (dest == rank) continue;
                wedges += j;
                if (j >= max_span) {
                    send_span(dest, row[j], row.data(), j);
                } else {
                    if (last[dest] == 0) touched.push_back(dest);
                    last[dest] = j;
                }
            }
            for (int dest : touched) {
                world.async(
                    dest,
                    [](buddy::comm& c, std::span<const vertex> r) {
                        const auto got =
                            answer_row(r.data(), r.size(), *g_state->L, g_state->map, c.rank(), g_state->marks);
                        g_state->hits += got.first;
                        g_state->wedges_answered += got.second;
                    },
                    std::span<const vertex>(row.data(), last[dest] + 1));
                last[dest] = 0;
            }
        }
        return wedges;
    }
    for (std::size_t q = first; q < end; ++q) {
        const auto row = L.row(q);
        for (std::size_t j = 1; j < row.size(); ++j) {
            const vertex u = row[j];
            const int dest = map.owner(u);
            if (dest == rank) continue;
            wedges += j;
            if (mode == batching::span) {
                send_span(dest, u, row.data(), j);
                continue;
            }
            for (std::size_t k = 0; k < j; ++k) {
                world.async(
                    dest,
                    [](buddy::comm&, vertex uu, vertex w) {
                        const auto r = g_state->L->row(g_state->map.local_row(uu));
                        g_state->hits += std::binary_search(r.begin(), r.end(), w) ? 1 : 0;
                        ++g_state->wedges_answered;
                    },
                    u, row[k]);
            }
        }
    }
    return wedges;
}

// ---- mpi mode ---------------------------------------------------------------

/// Bulk-synchronous rounds: each rank packs about `round_words` words of
/// queries into per-destination buffers -- [n, v1..vn] per row record,
/// [u, n, w1..wn] per span record, [u, w] per wedge record -- then all ranks
/// exchange them with MPI_Alltoallv and answer what they received (in parallel
/// with oneTBB); repeat until every rank has sent everything.
struct mpi_count_result {
    std::uint64_t wedges = 0, records = 0, rounds = 0, words = 0;
};
mpi_count_result count_remote_mpi(MPI_Comm comm, const csr& L, const owner_map& map, int rank, batching mode,
                                  std::size_t round_words) {
    using acc = std::pair<std::uint64_t, std::uint64_t>;
    const auto add = [](acc x, acc y) { return acc{x.first + y.first, x.second + y.second}; };
    const int p = static_cast<int>(map.ranks);
    mpi_count_result res;
    std::vector<std::vector<std::uint32_t>> out(p);
    std::vector<std::size_t> last(p, 0);
    std::vector<int> touched;
    std::size_t q = 0;
    bool done = L.rows() == 0;
    std::vector<std::size_t> starts;
    const std::size_t vertices = static_cast<std::size_t>(map.ranks) * L.rows();
    tbb::enumerable_thread_specific<triangles::row_marks> sets{triangles::row_marks(vertices)};
    while (true) {
        for (auto& o : out) o.clear();
        std::size_t words = 0;
        for (; !done && words < round_words; done = ++q == L.rows()) {
            const auto row = L.row(q);
            touched.clear();
            for (std::size_t j = 1; j < row.size(); ++j) {
                const vertex u = row[j];
                const int dest = map.owner(u);
                if (dest == rank) continue;
                res.wedges += j;
                auto& o = out[dest];
                if (mode == batching::row) {
                    if (last[dest] == 0) touched.push_back(dest);
                    last[dest] = j;
                } else if (mode == batching::span) {
                    o.push_back(u);
                    o.push_back(static_cast<std::uint32_t>(j));
                    o.insert(o.end(), row.begin(), row.begin() + static_cast<std::ptrdiff_t>(j));
                    words += 2 + j;
                    ++res.records;
                } else {
                    for (std::size_t k = 0; k < j; ++k) {
                        o.push_back(u);
                        o.push_back(row[k]);
                    }
                    words += 2 * j;
                    res.records += j;
                }
            }
            for (int dest : touched) {
                const std::size_t len = last[dest] + 1;
                out[dest].push_back(static_cast<std::uint32_t>(len));
                out[dest].insert(out[dest].end(), row.begin(), row.begin() + static_cast<std::ptrdiff_t>(len));
                words += 1 + len;
                ++res.records;
                last[dest] = 0;
            }
        }
        const std::vector<std::uint32_t> in = triangles::alltoallv(out, comm);
        ++res.rounds;
        res.words += words;
        acc got{0, 0};
        if (mode == batching::wedge) {
            got = tbb::parallel_reduce(
                tbb::blocked_range<std::size_t>(0, in.size() / 2, 4096), acc{0, 0},
                [&](const tbb::blocked_range<std::size_t>& r, acc a) {
                    for (std::size_t i = r.begin(); i < r.end(); ++i) {
                        const auto row = L.row(map.local_row(in[2 * i]));
                        a.first += std::binary_search(row.begin(), row.end(), in[2 * i + 1]) ? 1 : 0;
                    }
                    a.second += r.size();
                    return a;
                },
                add);
        } else {
            // Variable-length records: find where each starts, then answer them in parallel.
            const std::size_t head = mode == batching::row ? 1 : 2;
            starts.clear();
            for (std::size_t at = 0; at < in.size(); at += head + in[at + head - 1]) starts.push_back(at);
            got = tbb::parallel_reduce(
                tbb::blocked_range<std::size_t>(0, starts.size(), 64), acc{0, 0},
                [&](const tbb::blocked_range<std::size_t>& r, acc a) {
                    triangles::row_marks& marks = sets.local();
                    for (std::size_t i = r.begin(); i < r.end(); ++i) {
                        const std::size_t at = starts[i];
                        const std::size_t n = in[at + head - 1];
                        if (mode == batching::row) {
                            a = add(a, answer_row(in.data() + at + 1, n, L, map, rank, marks));
                        } else {
                            const auto row = L.row(map.local_row(in[at]));
                            a.first += triangles::count_common(in.data() + at + 2, n, row.data(), row.size());
                            a.second += n;
                        }
                    }
                    return a;
                },
                add);
        }
        g_state->hits += got.first;
        g_state->wedges_answered += got.second;
        if (apps::all_true(done, comm)) break;
    }
    return res;
}

int run(buddy::comm& world, const options& o) {
    const int rank = world.rank();
    const int p = world.size();
    const bool mpi_mode = o.mode == "mpi";
    const batching mode = o.batching == "row" ? batching::row
                          : o.batching == "span" ? batching::span
                                                 : batching::wedge;
    MPI_Comm comm = world.mpi_comm();

    std::unique_ptr<tbb::global_control> threads_limit;
    if (o.threads > 0)
        threads_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                              static_cast<std::size_t>(o.threads));

    const triangles::rmat_params params(o.scale, o.seed, o.a, o.b, o.c);
    const std::uint64_t n = std::uint64_t{1} << o.scale;
    const std::uint64_t m = n * static_cast<std::uint64_t>(o.edge_factor);
    owner_map map;
    map.ranks = static_cast<std::uint32_t>(p);
    const std::size_t rows = static_cast<std::size_t>((n + p - 1) / p);

    rank_state state;
    state.map = map;
    g_state = &state;

    // ---- build: generate this rank's slice of edge indices, ship each edge to its row's owner.
    MPI_Barrier(comm);
    const double b0 = apps::now();
    const std::uint64_t lo = m * static_cast<std::uint64_t>(rank) / p;
    const std::uint64_t hi = m * static_cast<std::uint64_t>(rank + 1) / p;
    std::vector<std::uint64_t> keys = generate_slice(params, lo, hi);
    std::vector<std::vector<std::uint64_t>> by_owner(p);
    for (std::uint64_t k : keys) by_owner[map.owner(triangles::key_row(k))].push_back(k);
    std::vector<std::uint64_t>().swap(keys);
    std::uint64_t build_messages = 0;
    if (mpi_mode) {
        state.incoming = triangles::alltoallv(by_owner, comm);
        for (int d = 0; d < p; ++d) build_messages += (d != rank && !by_owner[d].empty()) ? 1 : 0;
    } else {
        // 16 KiB of edges per message, or less under a smaller message limit.
        const std::size_t chunk =
            std::clamp<std::size_t>((world.settings().max_message - 64) / sizeof(std::uint64_t), 1, 2048);
        state.incoming = std::move(by_owner[rank]);
        for (int d = 0; d < p; ++d) {
            if (d == rank) continue;
            const auto& edges = by_owner[d];
            for (std::size_t at = 0; at < edges.size(); at += chunk) {
                world.async(
                    d,
                    [](buddy::comm&, std::span<const std::uint64_t> e) {
                        g_state->incoming.insert(g_state->incoming.end(), e.begin(), e.end());
                    },
                    std::span<const std::uint64_t>(edges.data() + at, std::min(chunk, edges.size() - at)));
                ++build_messages;
            }
        }
        world.barrier();
    }
    by_owner.clear();
    const csr L = triangles::build_csr(state.incoming, map, rows);
    std::vector<std::uint64_t>().swap(state.incoming);
    state.L = &L;
    state.marks = triangles::row_marks(static_cast<std::size_t>(p) * rows);
    const double build_seconds = apps::max_all(apps::now() - b0, comm);

    // ---- count (the timed phase).
    std::size_t max_span = 0;
    if (!mpi_mode) {
        // As long as the message limit allows (262 128 vertices by default): a
        // record larger than a batch is fine, and splitting long rows costs
        // volume (each piece re-sends its prefix as span queries).
        max_span = (world.settings().max_message - 64) / sizeof(vertex);
        max_span = std::max<std::size_t>(max_span, 1);
    }
    std::uint64_t remote_wedges = 0, messages = 0, rounds = 0;
    if (!mpi_mode) world.barrier();
    MPI_Barrier(comm);
    const std::uint64_t sent_before = world.stats().messages_sent;
    const std::uint64_t bytes_before = world.stats().bytes_sent;
    std::uint64_t bytes = 0;
    const double t0 = apps::now();
    const std::clock_t cpu0 = std::clock();
    std::pair<std::uint64_t, std::uint64_t> local{0, 0};
    if (mpi_mode) {
        local = count_local(L, map, rank);
        const mpi_count_result r = count_remote_mpi(comm, L, map, rank, mode, o.round_words);
        remote_wedges = r.wedges;
        messages = r.records;
        bytes = r.words * sizeof(std::uint32_t);
        rounds = r.rounds;
    } else {
        // Blocks of rows: a block's remote queries first, so they are in
        // flight while its local ones run, then a progress() call.  A rank
        // runs the handlers of what others sent it only inside buddy calls:
        // one long local count would leave its peers' batches waiting, and
        // the peers themselves stalled on credit, for the whole of it.
        const std::size_t vertices = static_cast<std::size_t>(p) * L.rows();
        tbb::enumerable_thread_specific<triangles::row_marks> sets{triangles::row_marks(vertices)};
        for (std::size_t first = 0; first < L.rows(); first += o.block_rows) {
            const std::size_t last = std::min(L.rows(), first + o.block_rows);
            remote_wedges += send_queries_buddy(world, L, map, mode, max_span, first, last);
            const auto got = count_local(L, map, rank, sets, first, last);
            local.first += got.first;
            local.second += got.second;
            world.progress();
        }
        world.barrier();
        messages = world.stats().messages_sent - sent_before;
        bytes = world.stats().bytes_sent - bytes_before;
    }
    const double seconds = apps::max_all(apps::now() - t0, comm);
    // Processor time of the count phase (all threads of the rank), slowest rank: on
    // a shared, oversubscribed machine it shows the work that the wall clock hides.
    const double cpu_seconds =
        apps::max_all(static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC, comm);

    std::uint64_t my_count = local.first + state.hits;
    if (o.corrupt && rank == p - 1) my_count += 1;  // debug: prove verification bites
    const std::uint64_t total = apps::sum_all(my_count, comm);
    const std::uint64_t wedges_sent = apps::sum_all(local.second + remote_wedges, comm);
    const std::uint64_t wedges_answered = apps::sum_all(local.second + state.wedges_answered, comm);
    const std::uint64_t edges = apps::sum_all(L.columns.size(), comm);
    const std::uint64_t total_messages = apps::sum_all(messages, comm);
    const std::uint64_t total_bytes = apps::sum_all(bytes, comm);
    const std::uint64_t total_build_messages = apps::sum_all(build_messages, comm);

    // ---- verify.
    const double v0 = apps::now();
    bool ok = wedges_sent == wedges_answered;
    const std::uint64_t recount = apps::sum_all(triangles::ghost_recount(L, map, rank, comm), comm);
    ok = ok && recount == total;
    std::string check = "ghost";
    if (o.scale <= o.serial_max_scale) {
        check = "serial+ghost";
        std::uint64_t ref[3] = {0, 0, 0};
        if (rank == 0) {
            const triangles::graph_figures f = triangles::serial_count(params, m);
            ref[0] = f.triangles;
            ref[1] = f.edges;
            ref[2] = f.wedges;
        }
        MPI_Bcast(ref, 3, MPI_UINT64_T, 0, comm);
        ok = ok && ref[0] == total && ref[1] == edges && ref[2] == wedges_sent;
        if (!ok && rank == 0 && !o.json)
            std::cerr << "serial reference: triangles " << ref[0] << " edges " << ref[1] << " wedges " << ref[2]
                      << "\n";
    }
    const bool verified = apps::all_true(ok, comm);
    const double verify_seconds = apps::max_all(apps::now() - v0, comm);
    if (!verified && rank == 0)
        std::cerr << "triangles: verification FAILED: count " << total << ", ghost recount " << recount
                  << ", wedges sent " << wedges_sent << ", answered " << wedges_answered << "\n";

    if (rank == 0) {
        if (o.json) {
            apps::result_line line;
            line.add("app", "triangles")
                .add("mode", o.mode)
                .add("placement", mpi_mode ? "none" : world.placement_name())
                .add("ranks", p)
                .add("messages", total_messages)
                .add("seconds", seconds)
                .add("rate", seconds > 0 ? static_cast<double>(total_messages) / seconds : 0.0)
                .add("verified", verified)
                .add("triangles", total)
                .add("vertices", n)
                .add("edges", edges)
                .add("wedges_checked", wedges_sent)
                .add("bytes", total_bytes)
                .add("scale", o.scale)
                .add("edge_factor", o.edge_factor)
                .add("seed", o.seed)
                .add("batching", o.batching)
                .add("threads", o.threads)
                .add("rounds", rounds)
                .add("cpu_seconds", cpu_seconds)
                .add("build_seconds", build_seconds)
                .add("build_messages", total_build_messages)
                .add("check", check)
                .add("verify_seconds", verify_seconds);
            std::cout << line.str() << std::endl;
        } else {
            std::cout << "triangles: scale " << o.scale << " (" << n << " vertices), " << edges << " edges, "
                      << total << " triangles, " << wedges_sent << " wedges checked\n"
                      << "  " << o.mode << " mode, " << p << " ranks, " << o.batching << " queries: "
                      << total_messages << " messages in " << seconds << " s ("
                      << (seconds > 0 ? static_cast<double>(total_messages) / seconds : 0.0)
                      << " msg/s); build " << build_seconds << " s\n"
                      << "  verification (" << check << "): " << (verified ? "passed" : "FAILED") << std::endl;
        }
    }
    return verified ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) try {
    int rc = 0;
    {
        buddy::comm world(&argc, &argv);  // strips --buddy-* flags before CLI11 sees argv
        options o;
        CLI::App app{"triangles: count the triangles of an undirected R-MAT graph"};
        app.add_option("--scale", o.scale, "log2 of the number of vertices")
            ->capture_default_str()->check(CLI::Range(1, 31));
        app.add_option("--edge-factor", o.edge_factor, "generated edges per vertex (before removing "
                                                        "self loops and duplicates)")
            ->capture_default_str()
            ->check(CLI::Range(1, 1 << 16));
        app.add_option("--seed", o.seed, "graph seed")
            ->capture_default_str();
        app.add_option("--a", o.a, "R-MAT probability of quadrant a")
            ->capture_default_str()->check(CLI::Range(0.0, 1.0));
        app.add_option("--b", o.b, "R-MAT probability of quadrant b")
            ->capture_default_str()->check(CLI::Range(0.0, 1.0));
        app.add_option("--c", o.c, "R-MAT probability of quadrant c")
            ->capture_default_str()->check(CLI::Range(0.0, 1.0));
        app.add_option("--mode", o.mode, "buddy: fire-and-forget queries; mpi: Alltoallv rounds")
            ->capture_default_str()
            ->check(CLI::IsMember({"buddy", "mpi"}));
        app.add_option("--batching", o.batching,
                       "row: one message per (row v, owner rank); span: one per (u, candidate list); "
                       "wedge: one per (u, w)")
            ->capture_default_str()
            ->check(CLI::IsMember({"row", "span", "wedge"}));
        app.add_option("--threads", o.threads, "oneTBB threads per rank (0 = TBB's default)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_option("--serial-max-scale", o.serial_max_scale,
                       "also check against a serial count on rank 0 up to this scale")
            ->capture_default_str();
        app.add_option("--round-words", o.round_words, "mpi mode: 32-bit words of queries a rank sends per round")
            ->capture_default_str()
            ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 28));
        app.add_option("--block-rows", o.block_rows,
                       "buddy mode: rows per block of queries, local count and progress() call")
            ->capture_default_str()
            ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 31));
        app.add_flag("--json", o.json, "print one JSON result line");
        app.add_flag("--corrupt", o.corrupt, "debug: corrupt one received value to prove verification fails");
        const auto status = apps::parse_command_line(app, argc, argv, world.rank(), [&] {
            if (o.a + o.b + o.c > 1.0) throw CLI::ValidationError("--a + --b + --c must not exceed 1");
        });
        if (status) rc = *status;
        if (!status) {
            try {
                rc = run(world, o);
            } catch (const std::exception& e) {
                std::cerr << "triangles: " << e.what() << std::endl;
                MPI_Abort(world.mpi_comm(), 2);
            }
        }
    }
    return rc;
} catch (const std::exception& e) {
    // A refused --buddy-* setting or placement: say so instead of terminate()'s abort.
    std::cerr << "triangles: " << e.what() << std::endl;
    return 2;
}
