// The job's report: every rank's counters, the routers' counters (each
// router's first rank asks its router), gathered to rank 0 and written there.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "buddy/report/writers.hpp"
#include "runtime.hpp"

namespace buddy::detail {

namespace {
// A router report travels as uint64 words: router, thread, the node name
// (64 bytes, NUL-padded), then its counters in the order of the list.
constexpr std::size_t node_words = 8;
constexpr std::size_t router_words = 2 + node_words + std::size(router_counter_fields);

void encode(const router_report& r, std::uint64_t* w) {
    w[0] = r.router;
    w[1] = r.thread;
    char node[node_words * 8] = {};
    r.node.copy(node, sizeof node - 1);
    std::memcpy(&w[2], node, sizeof node);
    std::size_t i = 2 + node_words;
    for (const auto& f : router_counter_fields) w[i++] = r.c.*f.member;
}

router_report decode(const std::uint64_t* w) {
    router_report r;
    r.router = static_cast<std::uint32_t>(w[0]);
    r.thread = static_cast<std::uint32_t>(w[1]);
    char node[node_words * 8 + 1] = {};
    std::memcpy(node, &w[2], node_words * 8);
    r.node = node;
    std::size_t i = 2 + node_words;
    for (const auto& f : router_counter_fields) r.c.*f.member = w[i++];
    return r;
}
}  // namespace

job_report runtime::gather_report() {
    job_report rep;
    rep.placement = std::string(to_string(settings_.where));
    rep.granularity = settings_.granularity;
    rep.ranks = owner_.gather_stats();

    const std::vector<router_report> mine = backend_->router_stats();
    std::vector<std::uint64_t> words(mine.size() * router_words);
    for (std::size_t i = 0; i < mine.size(); ++i) encode(mine[i], &words[i * router_words]);
    const int count = static_cast<int>(words.size());
    std::vector<int> counts(rank_ == 0 ? static_cast<std::size_t>(size_) : 0);
    MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, world_);
    std::vector<int> offsets(counts.size(), 0);
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
        offsets[r] = static_cast<int>(total);
        total += static_cast<std::size_t>(counts[r]);
    }
    std::vector<std::uint64_t> all(total);
    MPI_Gatherv(words.data(), count, MPI_UINT64_T, all.data(), counts.data(), offsets.data(), MPI_UINT64_T, 0,
                world_);
    for (std::size_t at = 0; at + router_words <= all.size(); at += router_words) rep.routers.push_back(decode(&all[at]));
    return rep;
}

bool runtime::write_report() {
    const job_report rep = gather_report();
    int written = 1;
    if (rank_ == 0) {
        std::ofstream out(settings_.report_path);
        if (out) out << report::format_json(rep);
        if (out) out.flush();
        if (!out) {
            const int err = errno;
            written = 0;
            std::fprintf(stderr, "buddy: rank 0: cannot write the report to %s (BUDDY_REPORT / --buddy-report): %s\n",
                         settings_.report_path.c_str(), err ? std::strerror(err) : "write failed");
            std::fflush(stderr);
        }
    }
    MPI_Bcast(&written, 1, MPI_INT, 0, world_);
    return written != 0;
}

}  // namespace buddy::detail
