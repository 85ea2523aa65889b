// soak: random traffic that checks every message buddy delivers.
//
// Each rank sends messages of random size (0 bytes to --max-size) to random
// ranks, over several comms used in turn within each phase (the world comm and
// a split of it), and handlers forward a new message onwards while a hop
// budget lasts, so handlers send from inside deliveries to any depth.  Every
// message carries (sender, comm, sequence number per sender and destination)
// and a payload whose every byte is derived from those, so the receiver checks
// content, duplicates and, at the end against the senders' counts, loss.
//
// The last stdout line (rank 0) is JSON with `verified`, and the counts of
// messages checked, lost, duplicated and corrupted.
#include <buddy/comm.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/app.hpp"

namespace {

constexpr int max_comms = 2;

/// What a rank knows about the traffic it takes part in, per comm.
struct traffic {
    buddy::comm* c = nullptr;
    std::vector<std::uint64_t> next_seq;            ///< per destination: sequence numbers sent
    std::vector<std::vector<std::uint8_t>> seen;    ///< per sender: one flag per sequence number
    std::uint64_t received = 0, duplicated = 0, corrupted = 0, out_of_range = 0;
};

struct soak_state {
    traffic comms[max_comms];
    int ncomms = 0;
    std::size_t max_size = 0;
    std::uint64_t seed = 0;
    std::uint64_t sent_total = 0;
    std::uint64_t forwarded = 0;
    bool corrupt_one = false;          ///< --corrupt: damage one received check on purpose
} g;

/// Word `w` of the payload of (sender, comm, seq): different for every
/// message and position, so a misplaced or stale byte shows.  Byte i of the
/// payload is byte i % 8 of word i / 8.
inline std::uint64_t payload_word(std::uint32_t sender, std::uint32_t comm, std::uint64_t seq, std::size_t w) {
    const std::uint64_t key = (static_cast<std::uint64_t>(sender) << 44) ^ (static_cast<std::uint64_t>(comm) << 40) ^ seq;
    return apps::splitmix64(apps::splitmix64(key) + w);
}

void fill_payload(std::span<std::uint8_t> out, std::uint32_t sender, std::uint32_t comm, std::uint64_t seq) {
    for (std::size_t at = 0; at < out.size(); at += 8) {
        const std::uint64_t word = payload_word(sender, comm, seq, at / 8);
        std::memcpy(out.data() + at, &word, std::min<std::size_t>(8, out.size() - at));
    }
}

bool payload_intact(std::span<const std::uint8_t> in, std::uint32_t sender, std::uint32_t comm, std::uint64_t seq) {
    for (std::size_t at = 0; at < in.size(); at += 8) {
        const std::uint64_t word = payload_word(sender, comm, seq, at / 8);
        if (std::memcmp(in.data() + at, &word, std::min<std::size_t>(8, in.size() - at)) != 0) return false;
    }
    return true;
}

/// Sizes: mostly small (the common fire-and-forget case), a few up to max_size.
std::size_t pick_size(apps::fast_rng& rng) {
    const std::uint64_t r = rng.below(100);
    if (r < 70) return static_cast<std::size_t>(rng.below(std::min<std::size_t>(g.max_size, 32) + 1));
    if (r < 98) return static_cast<std::size_t>(rng.below(std::min<std::size_t>(g.max_size, 4096) + 1));
    return static_cast<std::size_t>(rng.below(g.max_size + 1));  // 2%: up to the maximum
}

int index_of(buddy::comm& c) {
    for (int i = 0; i < g.ncomms; ++i)
        if (g.comms[i].c == &c) return i;
    return -1;
}

void send_one(traffic& t, int comm_index, int dest, std::size_t size, std::uint8_t hops);

// The handler: check, record, and forward while hops remain.
void on_message(buddy::comm& c, std::uint32_t sender, std::uint64_t seq, std::uint8_t hops,
                std::span<const std::uint8_t> payload) {
    const int ci = index_of(c);
    traffic& t = g.comms[ci < 0 ? 0 : ci];
    ++t.received;
    bool good = ci >= 0 && payload_intact(payload, sender, static_cast<std::uint32_t>(ci), seq);
    if (g.corrupt_one) {
        g.corrupt_one = false;
        good = false;
    }
    if (!good) ++t.corrupted;
    if (sender >= t.seen.size()) {
        ++t.out_of_range;
    } else {
        std::vector<std::uint8_t>& flags = t.seen[sender];
        if (seq >= flags.size()) flags.resize(std::max<std::size_t>(seq + 1, flags.size() * 2), 0);
        if (flags[seq]++ != 0) ++t.duplicated;
    }
    if (hops > 0) {
        // A new message from this rank: same size, next destination chosen from what arrived.
        apps::fast_rng rng(g.seed ^ (static_cast<std::uint64_t>(sender) << 32) ^ seq ^ hops);
        const int dest = static_cast<int>(rng.below(static_cast<std::uint64_t>(c.size())));
        ++g.forwarded;
        send_one(t, ci, dest, payload.size(), static_cast<std::uint8_t>(hops - 1));
    }
}

void send_one(traffic& t, int comm_index, int dest, std::size_t size, std::uint8_t hops) {
    const auto me = static_cast<std::uint32_t>(t.c->rank());
    const std::uint64_t seq = t.next_seq[static_cast<std::size_t>(dest)]++;
    // A buffer per send: async() may run handlers that send too, while this
    // payload is still being read (a test of correctness, not of speed).
    std::vector<std::uint8_t> buf(size);
    fill_payload(buf, me, static_cast<std::uint32_t>(comm_index), seq);
    ++g.sent_total;
    t.c->async(dest, on_message, me, seq, hops, std::span<const std::uint8_t>(buf));
}

}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);

    CLI::App cli{"soak: random sizes, destinations, recursion and several comms, every message checked"};
    std::uint64_t messages = 20000, seed = 7;
    int phases = 4, hops = 3, comms = 2;
    std::size_t max_size = 0;
    bool json = false, corrupt = false;
    cli.add_option("--messages", messages, "messages each rank starts per phase")->check(CLI::Range(0ull, 1ull << 36));
    cli.add_option("--phases", phases, "phases: each ends with a barrier on every comm")->check(CLI::Range(1, 100000));
    cli.add_option("--hops", hops, "forwarding budget: a handler forwards while hops remain")->check(CLI::Range(0, 255));
    cli.add_option("--comms", comms, "comms used in turn (1: world; 2: world and a split of it)")->check(CLI::Range(1, max_comms));
    cli.add_option("--max-size", max_size, "largest payload in bytes (default: the largest async() allows)");
    cli.add_option("--seed", seed, "random seed");
    cli.add_flag("--json", json, "print one JSON object as the last line");
    cli.add_flag("--corrupt", corrupt, "debug: count one received message as corrupted, to prove the check bites");
    if (const auto status = apps::parse_command_line(cli, argc, argv, world.rank())) return *status;

    // Payload bytes plus the record's own arguments (sender, seq, hops, span count).
    const std::size_t overhead = 64;
    const std::size_t limit = world.settings().max_message > overhead ? world.settings().max_message - overhead : 0;
    g.max_size = max_size == 0 ? limit : std::min(max_size, limit);
    g.seed = seed;
    g.corrupt_one = corrupt && world.rank() == 0;

    // The second comm: ranks split in two halves, each its own job.
    MPI_Comm half = MPI_COMM_NULL;
    MPI_Comm_split(world.mpi_comm(), world.rank() % 2, world.rank(), &half);
    std::optional<buddy::comm> sub;
    if (comms > 1) sub.emplace(half, world.settings());
    g.ncomms = comms;
    g.comms[0].c = &world;
    if (sub) g.comms[1].c = &*sub;
    for (int i = 0; i < g.ncomms; ++i) {
        traffic& t = g.comms[i];
        t.next_seq.assign(static_cast<std::size_t>(t.c->size()), 0);
        t.seen.assign(static_cast<std::size_t>(t.c->size()), {});
    }

    apps::fast_rng rng(apps::splitmix64(seed) ^ static_cast<std::uint64_t>(world.rank()));
    const double t0 = apps::now();
    for (int phase = 0; phase < phases; ++phase) {
        // Interleave the comms message by message, so one comm's batches wait
        // while the other's fill: waits in one must make progress on both.
        for (std::uint64_t m = 0; m < messages; ++m) {
            const int ci = static_cast<int>(m % static_cast<std::uint64_t>(g.ncomms));
            traffic& t = g.comms[ci];
            const int dest = static_cast<int>(rng.below(static_cast<std::uint64_t>(t.c->size())));
            send_one(t, ci, dest, pick_size(rng), static_cast<std::uint8_t>(rng.below(static_cast<std::uint64_t>(hops) + 1)));
        }
        for (int i = 0; i < g.ncomms; ++i) g.comms[i].c->barrier();
    }
    const double seconds = apps::max_all(apps::now() - t0, world.mpi_comm());

    // Loss: what each sender sent to this rank must all have arrived, once.
    std::uint64_t lost = 0, duplicated = 0, corrupted = 0, out_of_range = 0, checked = 0;
    for (int i = 0; i < g.ncomms; ++i) {
        traffic& t = g.comms[i];
        const int n = t.c->size();
        std::vector<std::uint64_t> expected(static_cast<std::size_t>(n));
        MPI_Alltoall(t.next_seq.data(), 1, MPI_UINT64_T, expected.data(), 1, MPI_UINT64_T, t.c->mpi_comm());
        for (int s = 0; s < n; ++s) {
            const std::vector<std::uint8_t>& flags = t.seen[static_cast<std::size_t>(s)];
            const std::uint64_t want = expected[static_cast<std::size_t>(s)];
            for (std::uint64_t q = 0; q < want; ++q)
                if (q >= flags.size() || flags[q] == 0) ++lost;
            for (std::size_t q = want; q < flags.size(); ++q)
                if (flags[q] != 0) ++out_of_range;  // a sequence number never sent
        }
        duplicated += t.duplicated;
        corrupted += t.corrupted;
        out_of_range += t.out_of_range;
        checked += t.received;
    }
    const MPI_Comm wc = world.mpi_comm();
    const std::uint64_t all_sent = apps::sum_all(g.sent_total, wc);
    const std::uint64_t all_checked = apps::sum_all(checked, wc);
    const std::uint64_t all_lost = apps::sum_all(lost, wc);
    const std::uint64_t all_dup = apps::sum_all(duplicated, wc);
    const std::uint64_t all_bad = apps::sum_all(corrupted, wc);
    const std::uint64_t all_stray = apps::sum_all(out_of_range, wc);
    const std::uint64_t all_forwarded = apps::sum_all(g.forwarded, wc);
    const bool verified = all_sent == all_checked && all_lost == 0 && all_dup == 0 && all_bad == 0 && all_stray == 0;

    sub.reset();
    MPI_Comm_free(&half);
    if (world.rank() == 0) {
        if (!verified)
            std::fprintf(stderr, "soak: sent %llu, checked %llu, lost %llu, duplicated %llu, corrupted %llu, stray %llu\n",
                         static_cast<unsigned long long>(all_sent), static_cast<unsigned long long>(all_checked),
                         static_cast<unsigned long long>(all_lost), static_cast<unsigned long long>(all_dup),
                         static_cast<unsigned long long>(all_bad), static_cast<unsigned long long>(all_stray));
        if (json) {
            apps::result_line r;
            r.add("app", "soak").add("placement", world.placement_name()).add("ranks", world.size())
                .add("comms", g.ncomms).add("messages", all_checked).add("forwarded", all_forwarded)
                .add("lost", all_lost).add("duplicated", all_dup).add("corrupted", all_bad).add("stray", all_stray)
                .add("max_size", static_cast<std::uint64_t>(g.max_size))
                .add("granularity", static_cast<std::uint64_t>(world.settings().granularity))
                .add("depth", static_cast<std::uint64_t>(world.settings().depth))
                .add("seconds", seconds).add("verified", verified);
            std::printf("%s\n", r.str().c_str());
        }
    }
    return verified ? 0 : 1;
}
