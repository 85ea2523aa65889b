// The human table: a column per counter of a list, headed by its name, so the
// table follows buddy/stats.hpp with no code here per counter.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "buddy/report/writers.hpp"

namespace buddy::report {

namespace {

// A column is as wide as its counter's name (at least 8), plus a space.
template <typename Counters>
void header(std::ostringstream& s, const char* who, const char* extra = nullptr) {
    char cell[64];
    std::snprintf(cell, sizeof cell, "%-8s", who);
    s << cell;
    for (const auto& f : fields_of<Counters>()) {
        std::snprintf(cell, sizeof cell, " %*s", static_cast<int>(std::max<std::size_t>(8, std::strlen(f.name))),
                      f.name);
        s << cell;
    }
    if (extra) s << " " << extra;
    s << "\n";
}

template <typename Counters>
void row(std::ostringstream& s, const std::string& who, const Counters& c) {
    char cell[64];
    std::snprintf(cell, sizeof cell, "%-8s", who.c_str());
    s << cell;
    for (const auto& f : fields_of<Counters>()) {
        std::snprintf(cell, sizeof cell, " %*llu", static_cast<int>(std::max<std::size_t>(8, std::strlen(f.name))),
                      static_cast<unsigned long long>(c.*f.member));
        s << cell;
    }
}

void router_row(std::ostringstream& s, const std::string& who, const router_counters& c, std::uint64_t granularity) {
    row(s, who, c);
    char cell[64];
    std::snprintf(cell, sizeof cell, " %10.0f %5.2f\n", mean_batch_bytes(c), batch_fill(c, granularity));
    s << cell;
}

}  // namespace

std::string format_table(const job_report& r) {
    std::ostringstream s;
    header<counters>(s, "rank");
    for (const rank_report& k : r.ranks) {
        row(s, std::to_string(k.rank), k.c);
        s << "\n";
    }
    if (r.ranks.size() > 1) {
        row(s, "total", total_of(r.ranks));
        s << "\n";
    }
    if (!r.routers.empty()) {
        s << "\n";
        header<router_counters>(s, "router", "bytes/batch  fill");
        for (const router_report& t : r.routers)
            router_row(s, std::to_string(t.router) + "/" + std::to_string(t.thread), t.c, r.granularity);
        if (r.routers.size() > 1) router_row(s, "total", total_of(r.routers), r.granularity);
    }
    const hop_counts h = hops_of(r);
    s << (r.routers.empty() ? "\nrecords by rank-to-rank hops (inproc)" : "\nrecords by hops between routers")
      << ": 0: " << h.hops[0] << ", 1: " << h.hops[1] << ", 2: " << h.hops[2] << "\n";
    return s.str();
}

}  // namespace buddy::report
