// transpose: transpose a distributed sparse matrix (CSR, block rows).
//
// The matrix is n x n with n = --rows-per-rank R times the number of ranks and
// about --avg-degree D nonzeros per row, drawn by an Erdős–Rényi or an R-MAT
// generator that depends only on the seed and n.  Rank p owns rows
// [pR, (p+1)R) of A and, afterwards, rows [pR, (p+1)R) of A^T, i.e. the
// nonzeros of A whose column falls in its block.
//
//   buddy mode, --message nonzero:  one async per nonzero, (row, col, value)
//                                   to the owner of row `col` of A^T;
//               --message segment:  one async per (row, destination) segment:
//                                   the row index and two spans (columns, values);
//                                   a row's columns are sorted, so the entries
//                                   for one destination are contiguous already.
//   mpi mode:   one alltoallv of (row, col, value) triples.
//
// Received nonzeros are stored as they arrive (by the handlers, or by the
// unpacking loop after the alltoallv) in lists per bucket of result rows and
// source rank (transpose/inbox.hpp).  After the exchange each rank builds its
// block of A^T a bucket at a time (oneTBB): counts the bucket's rows, places
// its lists in source order, and sorts every row that is not already sorted
// by column.  Sources send
// their rows in ascending order, so when the runtime keeps each source's
// messages in order no row needs sorting (`rows_sorted` reports how many did);
// that is an optimisation only, nothing relies on the order.
//
// Verification: (1) transpose(transpose(A)) == A exactly (pointers, columns and
// value bits); (2) an order-independent fingerprint of A with (row, col) swapped
// equals that of A^T; (3) for n <= 20000, rank 0 gathers A and A^T and compares
// A^T with a serial transpose.
//
// --work W: per received nonzero, W dependent random reads over a per-rank
// buffer of --work-bytes, folded into a reported checksum (it never touches the
// matrix, so it cannot change the verified result).
#include <buddy/comm.hpp>

#include <CLI/CLI.hpp>
#include <tbb/global_control.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/app.hpp"
#include "transpose/inbox.hpp"
#include "transpose/matrix.hpp"

namespace {

using transpose_app::csr;
using transpose_app::triple;

/// Longest segment one message carries (keeps messages well under a batch);
/// lowered at start if --buddy-max-message is smaller.
std::size_t max_segment = 2048;

/// What the handlers reach on the receiving rank (handlers cannot capture).
struct inbox_state {
    transpose_app::inbox* inbox = nullptr;  ///< received nonzeros, transposed (row local, col global)
    transpose_app::divider32 source{1};     ///< source rank of an original row
    std::uint32_t first_row = 0;           ///< first row of this rank's block of the result
    const std::uint64_t* work_buffer = nullptr;
    std::uint64_t work_words = 0;
    std::uint64_t work_reads = 0;
    std::uint64_t work_sum = 0;
    std::uint64_t bad = 0;  ///< malformed messages (row or column outside the matrix, span lengths differ)
};
inbox_state* g_inbox = nullptr;

/// Stores nonzero (row, col, val) of the original matrix, sent by the owner of
/// `row`, as entry (col, row) of the result (both modes run this per nonzero).
inline void receive_one(inbox_state& s, std::uint32_t from, std::uint32_t row, std::uint32_t col, double val) {
    if (!s.inbox->add(from, col - s.first_row, row, val)) [[unlikely]]
        ++s.bad;
    if (s.work_reads != 0) [[unlikely]]
        s.work_sum += transpose_app::memory_work(s.work_buffer, s.work_words, s.work_reads, row, col);
}

constexpr auto on_nonzero = [](buddy::comm&, std::uint32_t row, std::uint32_t col, double val) {
    inbox_state& s = *g_inbox;
    receive_one(s, s.source(row), row, col, val);
};

constexpr auto on_segment = [](buddy::comm&, std::uint32_t row, std::span<const std::uint32_t> cols,
                               std::span<const double> vals) {
    inbox_state& s = *g_inbox;
    if (cols.size() != vals.size()) [[unlikely]] {
        ++s.bad;
        return;
    }
    const std::uint32_t from = s.source(row);
    for (std::size_t k = 0; k < cols.size(); ++k) receive_one(s, from, row, cols[k], vals[k]);
};

enum class message_kind { nonzero, segment };

struct phase_times {
    double exchange = 0;  ///< sending until every nonzero has arrived
    double build = 0;     ///< building the local CSR of the result
    double cpu = 0;       ///< processor time of both (all threads of the process)
};

/// Processor time of this process (all its threads), seconds: steadier than
/// wall time on an oversubscribed machine.
inline double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct transpose_options {
    bool use_mpi = false;
    message_kind kind = message_kind::segment;
    std::uint64_t work_reads = 0;
    const std::vector<std::uint64_t>* work_buffer = nullptr;
    bool corrupt = false;
};

struct transpose_result {
    csr m;
    std::uint64_t messages = 0;  ///< sent by this rank
    std::uint64_t bytes = 0;     ///< put on the wire by this rank (buddy: records; mpi: triples)
    std::uint64_t work_sum = 0;
    std::uint64_t rows_sorted = 0;  ///< rows of the result that the build had to sort
    bool ok = true;              ///< every received nonzero was well formed
    phase_times times;
};

/// Buffers reused by every transpose.  They are sized and touched before the
/// timed phase, so neither mode pays for first-touch page faults (which on this
/// VM cost more than the sort itself) inside it.
struct workspace {
    transpose_app::inbox inbox;   ///< received nonzeros (both modes)
    // MPI mode's alltoallv buffers; resize() writes nothing, the packing loop
    // and the alltoallv overwrite them in full.
    transpose_app::overwrite_vector<triple> outbox;   ///< triples grouped by destination
    transpose_app::overwrite_vector<triple> received; ///< the receive buffer

    /// Makes room for about `receive` nonzeros in from `sources` ranks, into
    /// `rows` result rows; in MPI mode also for `send` out and `receive` in
    /// through the alltoallv's buffers.
    void prepare(std::uint64_t receive, std::uint32_t sources, std::uint64_t rows, bool use_mpi,
                 std::uint64_t send) {
        inbox.prepare(rows, sources, receive);
        prefault(outbox, use_mpi ? send : 0);
        prefault(received, use_mpi ? receive : 0);
    }
    /// Gives `v` capacity for n elements, pages touched, size 0.
    template <typename Vector>
    static void prefault(Vector& v, std::uint64_t n) {
        if (v.capacity() < n) {
            Vector().swap(v);
            v.resize(n);
            std::fill(v.begin(), v.end(), typename Vector::value_type{});  // resize() of an overwrite_vector touches nothing
        }
        v.clear();
    }
};

/// Pre-touches a result matrix's arrays (capacity for `nonzeros`).
void prepare_result(csr& m, std::uint64_t rows, std::uint64_t nonzeros) {
    workspace::prefault(m.ptr, rows + 1);
    workspace::prefault(m.col, nonzeros);
    workspace::prefault(m.val, nonzeros);
}

/// Sends every nonzero of `a` to the owner of its column (buddy).
std::uint64_t send_buddy(buddy::comm& world, const csr& a, std::uint64_t block, message_kind kind) {
    std::uint64_t messages = 0;
    const transpose_app::divider32 owner(static_cast<std::uint32_t>(block));
    const std::uint32_t* col = a.col.data();
    const double* val = a.val.data();
    for (std::uint64_t i = 0; i < a.rows; ++i) {
        const auto row = static_cast<std::uint32_t>(a.first_row + i);
        std::uint64_t j = a.ptr[i];
        const std::uint64_t end = a.ptr[i + 1];
        if (kind == message_kind::nonzero) {
            for (; j < end; ++j)
                world.async(static_cast<int>(owner(col[j])), on_nonzero, row, col[j], val[j]);
            messages += end - a.ptr[i];
        } else {
            while (j < end) {
                const std::uint64_t dest = owner(col[j]);
                const std::uint64_t limit = (dest + 1) * block;
                std::uint64_t k = j + 1;
                const std::uint64_t stop = std::min(end, j + max_segment);
                while (k < stop && col[k] < limit) ++k;
                world.async(static_cast<int>(dest), on_segment, row, std::span<const std::uint32_t>(col + j, k - j),
                            std::span<const double>(val + j, k - j));
                ++messages;
                j = k;
            }
        }
    }
    return messages;
}

/// One alltoallv of (row, col, value) triples (mpi baseline); fills the inbox
/// with the same per-nonzero work as the handlers do.
void exchange_mpi(MPI_Comm mc, int ranks, const csr& a, std::uint64_t block, workspace& ws, inbox_state& s) {
    const auto p = static_cast<std::size_t>(ranks);
    const transpose_app::divider32 owner(static_cast<std::uint32_t>(block));
    std::vector<std::uint64_t> count(p, 0);
    for (std::uint64_t j = 0; j < a.col.size(); ++j) ++count[owner(a.col[j])];
    std::vector<int> send_count(p), send_displ(p), recv_count(p), recv_displ(p);
    std::vector<std::uint64_t> fill(p);
    std::uint64_t at = 0;
    for (std::size_t d = 0; d < p; ++d) {
        if (count[d] > INT_MAX || at > INT_MAX) throw std::runtime_error("transpose: alltoallv counts exceed int");
        send_count[d] = static_cast<int>(count[d]);
        send_displ[d] = static_cast<int>(at);
        fill[d] = at;
        at += count[d];
    }
    ws.outbox.resize(at);
    triple* out = ws.outbox.data();
    for (std::uint64_t i = 0; i < a.rows; ++i) {
        const auto row = static_cast<std::uint32_t>(a.first_row + i);
        for (std::uint64_t j = a.ptr[i]; j < a.ptr[i + 1]; ++j)
            out[fill[owner(a.col[j])]++] = triple{row, a.col[j], a.val[j]};
    }
    MPI_Alltoall(send_count.data(), 1, MPI_INT, recv_count.data(), 1, MPI_INT, mc);
    std::uint64_t in = 0;
    for (std::size_t d = 0; d < p; ++d) {
        if (in > INT_MAX) throw std::runtime_error("transpose: alltoallv counts exceed int");
        recv_displ[d] = static_cast<int>(in);
        in += static_cast<std::uint64_t>(recv_count[d]);
    }
    MPI_Datatype triple_type;
    MPI_Type_contiguous(sizeof(triple), MPI_BYTE, &triple_type);
    MPI_Type_commit(&triple_type);
    ws.received.resize(in);  // by source rank, each in row order
    MPI_Alltoallv(out, send_count.data(), send_displ.data(), triple_type, ws.received.data(), recv_count.data(),
                  recv_displ.data(), triple_type, mc);
    MPI_Type_free(&triple_type);
    for (const triple& t : ws.received) receive_one(s, s.source(t.row), t.row, t.col, t.val);
}

/// Transposes `a` into `res.m` (collective).  The result has the same block
/// distribution.  `res.m` and `ws` should be prepared (pre-touched).
void transpose(buddy::comm& world, const csr& a, std::uint64_t block, const transpose_options& opt, workspace& ws,
               transpose_result& res) {
    MPI_Comm mc = world.mpi_comm();
    const int rank = world.rank();
    ws.inbox.clear();

    inbox_state s;
    s.inbox = &ws.inbox;
    s.source = transpose_app::divider32(static_cast<std::uint32_t>(block));
    s.first_row = static_cast<std::uint32_t>(static_cast<std::uint64_t>(rank) * block);
    if (opt.work_reads != 0 && opt.work_buffer != nullptr) {
        s.work_buffer = opt.work_buffer->data();
        s.work_words = opt.work_buffer->size();
        s.work_reads = opt.work_reads;
    }
    g_inbox = &s;
    MPI_Barrier(mc);  // every rank's inbox is ready before anyone sends

    const std::uint64_t bytes_before = world.stats().bytes_sent;
    const double c0 = cpu_now();
    const double t0 = apps::now();
    if (opt.use_mpi) {
        exchange_mpi(mc, world.size(), a, block, ws, s);
        res.messages = a.nonzeros();
        res.bytes = a.nonzeros() * sizeof(triple);
    } else {
        res.messages = send_buddy(world, a, block, opt.kind);
        world.barrier();
        res.bytes = world.stats().bytes_sent - bytes_before;
    }
    const double t1 = apps::now();

    if (opt.corrupt) {  // debug: one wrong value on the lowest rank that received any
        triple* some = ws.inbox.any();
        const int have = some == nullptr ? world.size() : rank;
        int victim = world.size();
        MPI_Allreduce(&have, &victim, 1, MPI_INT, MPI_MIN, mc);
        if (rank == victim) some->val += 1.0;
    }

    res.rows_sorted = ws.inbox.build(a.n, s.first_row, res.m);
    res.ok = s.bad == 0;
    const double t2 = apps::now();
    res.times.cpu = cpu_now() - c0;
    res.times.exchange = t1 - t0;
    res.times.build = t2 - t1;
    res.work_sum = s.work_sum;
    g_inbox = nullptr;
}

/// Rank 0 gets every nonzero of the distributed matrix, row-major (collective).
std::vector<triple> gather_all(MPI_Comm mc, int rank, int ranks, const csr& m) {
    std::vector<triple> mine;
    mine.reserve(m.nonzeros());
    for (std::uint64_t i = 0; i < m.rows; ++i)
        for (std::uint64_t j = m.ptr[i]; j < m.ptr[i + 1]; ++j)
            mine.push_back(triple{static_cast<std::uint32_t>(m.first_row + i), m.col[j], m.val[j]});
    const int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(ranks)), displs(static_cast<std::size_t>(ranks));
    MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, mc);
    std::vector<triple> all;
    if (rank == 0) {
        int at = 0;
        for (int r = 0; r < ranks; ++r) {
            displs[static_cast<std::size_t>(r)] = at;
            at += counts[static_cast<std::size_t>(r)];
        }
        all.resize(static_cast<std::size_t>(at));
    }
    MPI_Datatype triple_type;
    MPI_Type_contiguous(sizeof(triple), MPI_BYTE, &triple_type);
    MPI_Type_commit(&triple_type);
    MPI_Gatherv(mine.data(), n, triple_type, all.data(), counts.data(), displs.data(), triple_type, 0, mc);
    MPI_Type_free(&triple_type);
    return all;
}

/// Serial transpose of row-major triples: a stable counting sort by column
/// (rows stay ascending inside each new row).
std::vector<triple> serial_transpose(const std::vector<triple>& a, std::uint64_t n) {
    std::vector<std::uint64_t> start(n + 1, 0);
    for (const triple& t : a) ++start[t.col + 1];
    for (std::uint64_t i = 0; i < n; ++i) start[i + 1] += start[i];
    std::vector<triple> t(a.size());
    for (const triple& x : a) t[start[x.col]++] = triple{x.col, x.row, x.val};
    return t;
}

bool same_triples(const std::vector<triple>& x, const std::vector<triple>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const triple& a, const triple& b) {
        return a.row == b.row && a.col == b.col &&
               std::bit_cast<std::uint64_t>(a.val) == std::bit_cast<std::uint64_t>(b.val);
    });
}

}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);  // first: strips --buddy-* flags
    const int rank = world.rank();
    const int ranks = world.size();
    MPI_Comm mc = world.mpi_comm();

    CLI::App cli{"transpose: transpose a distributed sparse matrix (CSR by block rows)"};
    std::uint64_t rows_per_rank = std::uint64_t{1} << 18;
    double avg_degree = 16;
    std::string gen_name = "er";
    std::string message = "segment";
    std::uint64_t seed = 1;
    std::string mode = "buddy";
    std::uint64_t work = 0;
    std::uint64_t work_bytes = std::uint64_t{64} << 20;
    int threads = 1;
    bool json = false;
    bool corrupt = false;
    cli.add_option("--rows-per-rank", rows_per_rank, "matrix rows per rank (n = rows-per-rank x ranks)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{0xFFFFFFFEu}))
        ->capture_default_str();
    cli.add_option("--avg-degree", avg_degree, "average nonzeros per row (before duplicate removal)")
        ->check(CLI::Range(0.0, 1.0e6))
        ->capture_default_str();
    cli.add_option("--generator", gen_name, "er: Erdős–Rényi; rmat: R-MAT (a=0.57, b=0.19, c=0.19)")
        ->check(CLI::IsMember({"er", "rmat"}))
        ->capture_default_str();
    cli.add_option("--message", message,
                   "buddy mode: nonzero: one message per nonzero; segment: one per row and destination")
        ->check(CLI::IsMember({"nonzero", "segment"}))
        ->capture_default_str();
    cli.add_option("--seed", seed, "random seed")->capture_default_str();
    cli.add_option("--mode", mode, "buddy: fire-and-forget messages; mpi: one alltoallv of triples")
        ->check(CLI::IsMember({"buddy", "mpi"}))
        ->capture_default_str();
    cli.add_option("--work", work, "random reads of the work buffer per received nonzero")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 20))
        ->capture_default_str();
    cli.add_option("--work-bytes", work_bytes, "bytes of the per-rank work buffer (suffixes k, m, g: powers of 1024)")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{8}, std::uint64_t{1} << 40))
        ->capture_default_str();
    cli.add_option("--threads", threads, "oneTBB threads per rank (0: TBB's default)")
        ->check(CLI::Range(0, 1024))
        ->capture_default_str();
    cli.add_flag("--json", json, "print one JSON result line");
    cli.add_flag("--corrupt", corrupt, "debug: corrupt one received value to prove verification fails");
    if (const auto status = apps::parse_command_line(cli, argc, argv, rank)) return *status;
    const std::uint64_t n = rows_per_rank * static_cast<std::uint64_t>(ranks);
    if (n > 0xFFFFFFFFull) {
        if (rank == 0) std::cerr << "transpose: n = rows-per-rank x ranks must be below 2^32\n";
        return 1;
    }

    std::optional<tbb::global_control> tbb_limit;
    if (threads > 0) tbb_limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

    const bool use_mpi = mode == "mpi";
    {
        // A segment message: row (4) + two counts (16) + 12 bytes per nonzero + alignment.
        const std::size_t room = world.settings().max_message;
        max_segment = std::clamp<std::size_t>(room > 40 ? (room - 40) / 12 : 1, 1, max_segment);
    }
    const auto kind = gen_name == "rmat" ? transpose_app::generator::rmat : transpose_app::generator::er;

    // Generate this rank's block of A.
    MPI_Barrier(mc);
    const double g0 = apps::now();
    const transpose_app::matrix_generator gen(kind, seed, n, avg_degree);
    const csr a = gen.generate(static_cast<std::uint64_t>(rank) * rows_per_rank, rows_per_rank);
    const double generate_seconds = apps::max_all(apps::now() - g0, mc);
    std::vector<std::uint64_t> work_buffer;
    if (work != 0) work_buffer = transpose_app::make_work_buffer(work_bytes);

    transpose_options opt;
    opt.use_mpi = use_mpi;
    opt.kind = message == "nonzero" ? message_kind::nonzero : message_kind::segment;
    opt.work_reads = work;
    opt.work_buffer = &work_buffer;
    opt.corrupt = corrupt;

    // Buffers for both transposes, touched now (a rank usually receives about
    // as many nonzeros as it sends; the inbox grows if not).
    workspace ws;
    const std::uint64_t expect = a.nonzeros() + a.nonzeros() / 4 + 4096;
    ws.prepare(expect, static_cast<std::uint32_t>(ranks), rows_per_rank, use_mpi, a.nonzeros());
    transpose_result t, tt;
    prepare_result(t.m, rows_per_rank, expect);
    prepare_result(tt.m, rows_per_rank, a.nonzeros());

    // The measured transpose.
    transpose(world, a, rows_per_rank, opt, ws, t);

    // Verification.
    const std::uint64_t nonzeros = apps::sum_all(a.nonzeros(), mc);
    const std::uint64_t nonzeros_t = apps::sum_all(t.m.nonzeros(), mc);
    const std::uint64_t print_a = apps::sum_all(transpose_app::matrix_fingerprint(a, false), mc);
    const std::uint64_t print_a_swapped = apps::sum_all(transpose_app::matrix_fingerprint(a, true), mc);
    const std::uint64_t print_t = apps::sum_all(transpose_app::matrix_fingerprint(t.m, false), mc);

    transpose_options again = opt;
    again.work_reads = 0;
    again.corrupt = false;
    transpose(world, t.m, rows_per_rank, again, ws, tt);
    const bool round_trip = apps::all_true(tt.ok && tt.m.same_as(a), mc);

    bool serial_ok = true;
    const bool serial_checked = n <= 20000;
    if (serial_checked) {
        const std::vector<triple> all_a = gather_all(mc, rank, ranks, a);
        const std::vector<triple> all_t = gather_all(mc, rank, ranks, t.m);
        if (rank == 0) serial_ok = same_triples(serial_transpose(all_a, n), all_t);
        serial_ok = apps::all_true(serial_ok, mc);
    }

    const bool received_ok = apps::all_true(t.ok, mc);
    const bool verified = received_ok && round_trip && serial_ok && nonzeros == nonzeros_t &&
                          print_a_swapped == print_t;

    const std::uint64_t messages = apps::sum_all(t.messages, mc);
    const double seconds = apps::max_all(t.times.exchange + t.times.build, mc);
    const double exchange_seconds = apps::max_all(t.times.exchange, mc);
    const double cpu_seconds = apps::max_all(t.times.cpu, mc);
    const std::uint64_t bytes = apps::sum_all(t.bytes, mc);
    const double build_seconds = apps::max_all(t.times.build, mc);
    const std::uint64_t work_checksum = apps::sum_all(t.work_sum, mc);
    const std::uint64_t rows_sorted = apps::sum_all(t.rows_sorted, mc);
    const double rate = seconds > 0 ? static_cast<double>(messages) / seconds : 0.0;
    const double nonzero_rate = seconds > 0 ? static_cast<double>(nonzeros) / seconds : 0.0;

    if (rank == 0) {
        const std::string placement = use_mpi ? "none" : world.placement_name();
        const std::string message_used = use_mpi ? "triples" : message;
        if (json) {
            apps::result_line line;
            line.add("app", "transpose")
                .add("mode", mode)
                .add("placement", placement)
                .add("ranks", ranks)
                .add("messages", messages)
                .add("seconds", seconds)
                .add("rate", rate)
                .add("verified", verified)
                .add("message", message_used)
                .add("generator", gen_name)
                .add("n", n)
                .add("rows_per_rank", rows_per_rank)
                .add("avg_degree", avg_degree)
                .add("nonzeros", nonzeros)
                .add("nonzero_rate", nonzero_rate)
                .add("cpu_seconds", cpu_seconds)
                .add("bytes", bytes)
                .add("exchange_seconds", exchange_seconds)
                .add("build_seconds", build_seconds)
                .add("rows_sorted", rows_sorted)
                .add("generate_seconds", generate_seconds)
                .add("matrix_fingerprint", print_a)
                .add("round_trip", round_trip)
                .add("serial_checked", serial_checked)
                .add("work", work)
                .add("work_bytes", work_bytes)
                .add("work_checksum", work_checksum)
                .add("threads", threads)
                .add("seed", seed);
            std::cout << line.str() << std::endl;
        } else {
            std::printf("transpose: %s mode (%s, %s messages), %d ranks, n=%llu, %s generator, %llu nonzeros\n",
                        mode.c_str(), placement.c_str(), message_used.c_str(), ranks,
                        static_cast<unsigned long long>(n), gen_name.c_str(),
                        static_cast<unsigned long long>(nonzeros));
            std::printf("  %llu messages in %.4f s (exchange %.4f s, build %.4f s) = %.3g msg/s, %.3g nonzeros/s\n",
                        static_cast<unsigned long long>(messages), seconds, exchange_seconds, build_seconds, rate,
                        nonzero_rate);
            if (work != 0)
                std::printf("  work: %llu reads/nonzero over %llu bytes, checksum %llu\n",
                            static_cast<unsigned long long>(work), static_cast<unsigned long long>(work_bytes),
                            static_cast<unsigned long long>(work_checksum));
            std::printf("  %s (round trip %s, fingerprint %s%s)\n", verified ? "verified" : "NOT VERIFIED",
                        round_trip ? "ok" : "FAILED", print_a_swapped == print_t ? "ok" : "FAILED",
                        serial_checked ? (serial_ok ? ", serial ok" : ", serial FAILED") : "");
        }
    }
    return verified ? 0 : 1;
}
