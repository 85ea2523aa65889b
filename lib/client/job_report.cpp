// The job's report: every rank's counters, links and hardware counters, the
// routers' counters and links (each router's first rank asks its router),
// gathered to rank 0 and written there; rank 0 also prints the human table.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "buddy/config/knobs.hpp"
#include "buddy/report/writers.hpp"
#include "hw_counters.hpp"
#include "runtime.hpp"

namespace buddy::detail {

namespace {
// Reports travel as uint64 words.  Strings: their length, then their bytes
// packed 8 per word.
using words = std::vector<std::uint64_t>;

void put_string(words& w, const std::string& s) {
    w.push_back(s.size());
    const std::size_t n = (s.size() + 7) / 8;
    const std::size_t at = w.size();
    w.resize(at + n, 0);
    if (!s.empty()) std::memcpy(&w[at], s.data(), s.size());
}

// A cursor over the words one rank sent; running past the end reads zeros
// (which a well-formed sender never makes it do).
struct word_reader {
    const std::uint64_t* at;
    const std::uint64_t* end;
    std::uint64_t next() { return at < end ? *at++ : 0; }
    bool more() const { return at < end; }
    std::string string() {
        const std::uint64_t len = next();
        const std::size_t n = static_cast<std::size_t>((len + 7) / 8);
        if (len > static_cast<std::uint64_t>(end - at) * 8) {
            at = end;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(at), static_cast<std::size_t>(len));
        at += n;
        return s;
    }
};

void put_links(words& w, const std::vector<link_report>& links) {
    w.push_back(links.size());
    for (const link_report& l : links) w.insert(w.end(), {l.to, l.batches, l.bytes});
}

std::vector<link_report> get_links(word_reader& r) {
    std::vector<link_report> out(static_cast<std::size_t>(r.next()));
    for (link_report& l : out) {
        l.to = static_cast<std::uint32_t>(r.next());
        l.batches = r.next();
        l.bytes = r.next();
    }
    return out;
}

// Rank 0 gets every rank's words (in rank order); the others get nothing.
std::vector<words> gather_to_root(const words& mine, MPI_Comm world, int rank, int size) {
    const int count = static_cast<int>(mine.size());
    std::vector<int> counts(rank == 0 ? static_cast<std::size_t>(size) : 0);
    MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, world);
    std::vector<int> offsets(counts.size(), 0);
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
        offsets[r] = static_cast<int>(total);
        total += static_cast<std::size_t>(counts[r]);
    }
    words all(total);
    MPI_Gatherv(mine.data(), count, MPI_UINT64_T, all.data(), counts.data(), offsets.data(), MPI_UINT64_T, 0,
                world);
    std::vector<words> out(counts.size());
    for (std::size_t r = 0; r < counts.size(); ++r)
        out[r].assign(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
    return out;
}
}  // namespace

job_report runtime::gather_report(bool final) {
    job_report rep;
    rep.placement = std::string(to_string(settings_.where));
    rep.granularity = settings_.granularity;
    rep.depth = settings_.depth;
    for (const knobs::knob& k : knobs::table()) {
        const knobs::origin o = knobs::origin_of(settings_, k);
        std::string value = k.get(settings_);
        // append(), not operator+: GCC 12 misreads the latter as an overlapping copy (-Wrestrict).
        if (value.empty()) value = std::string("(").append(k.unset_means).append(")");
        rep.settings.push_back(setting{std::string(k.name), value, std::string(to_string(o.source))});
    }
    rep.ranks = owner_.gather_stats();

    // This rank's links and hardware counters.
    words mine;
    put_links(mine, backend_->links());
    hw_report hw;
    if (hw_ && final) hw = hw_->finish();
    else if (hw_) hw.reason = "counting: the end-of-job report has them";
    mine.insert(mine.end(), {hw.measured, hw.available, hw.llc_miss_bytes, hw.dram_bytes});
    put_string(mine, hw.reason);
    put_string(mine, hw.json);
    // The routers' this rank reports (its router's, if it is its first rank).
    for (const router_report& t : backend_->router_stats()) {
        mine.insert(mine.end(), {t.router, t.thread});
        put_string(mine, t.node);
        for (const auto& f : router_counter_fields) mine.push_back(t.c.*f.member);
        put_links(mine, t.links);
        mine.push_back(t.hw_available);
        put_string(mine, t.hw_reason);
        put_string(mine, t.hw_json);
    }
    const std::vector<words> all = gather_to_root(mine, world_, rank_, size_);
    for (std::size_t r = 0; r < all.size() && r < rep.ranks.size(); ++r) {
        word_reader in{all[r].data(), all[r].data() + all[r].size()};
        rank_report& k = rep.ranks[r];
        k.links = get_links(in);
        k.hw.measured = in.next() != 0;
        k.hw.available = in.next() != 0;
        k.hw.llc_miss_bytes = in.next();
        k.hw.dram_bytes = in.next();
        k.hw.reason = in.string();
        k.hw.json = in.string();
        while (in.more()) {
            router_report t;
            t.router = static_cast<std::uint32_t>(in.next());
            t.thread = static_cast<std::uint32_t>(in.next());
            t.node = in.string();
            for (const auto& f : router_counter_fields) t.c.*f.member = in.next();
            t.links = get_links(in);
            t.hw_available = in.next() != 0;
            t.hw_reason = in.string();
            t.hw_json = in.string();
            rep.routers.push_back(std::move(t));
        }
    }
    return rep;
}

bool runtime::write_report() {
    const job_report rep = gather_report(true);
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
        } else {
            // The human table on stderr, so a program's own stdout (its result
            // line, which scripts read last) stays as it was.
            std::fflush(stdout);
            std::cerr << "buddy: report written to " << settings_.report_path << "\n"
                      << report::format_table(rep) << std::flush;
        }
    }
    MPI_Bcast(&written, 1, MPI_INT, 0, world_);
    return written != 0;
}

}  // namespace buddy::detail
