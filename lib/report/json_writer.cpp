// The JSON report.  Every counter of a list becomes a field of the same name,
// so the document follows buddy/stats.hpp with no code here per counter.
#include <cstdio>
#include <sstream>

#include "buddy/report/writers.hpp"

namespace buddy::report {

namespace {

std::string json_string(const std::string& v) {
    std::string out = "\"";
    for (char ch : v) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
    }
    return out + "\"";
}

std::string json_number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

template <typename Counters>
void json_counters(std::ostringstream& s, const Counters& c) {
    s << "{";
    bool first = true;
    for (const auto& f : fields_of<Counters>()) {
        s << (first ? "" : ", ") << "\"" << f.name << "\": " << c.*f.member;
        first = false;
    }
    s << "}";
}

void json_router_derived(std::ostringstream& s, const router_counters& c, std::uint64_t granularity) {
    s << ", \"mean_batch_bytes\": " << json_number(mean_batch_bytes(c))
      << ", \"batch_fill\": " << json_number(batch_fill(c, granularity));
}

}  // namespace

std::string format_json(const job_report& r) {
    std::ostringstream s;
    s << "{\"schema\": " << schema_version << ", \"placement\": " << json_string(r.placement)
      << ", \"granularity\": " << r.granularity << ", \"ranks\": [";
    for (std::size_t i = 0; i < r.ranks.size(); ++i) {
        const rank_report& k = r.ranks[i];
        s << (i ? ", " : "") << "{\"rank\": " << k.rank << ", \"host\": " << json_string(k.host) << ", \"counters\": ";
        json_counters(s, k.c);
        s << "}";
    }
    s << "], \"total\": ";
    json_counters(s, total_of(r.ranks));
    s << ", \"routers\": [";
    for (std::size_t i = 0; i < r.routers.size(); ++i) {
        const router_report& t = r.routers[i];
        s << (i ? ", " : "") << "{\"router\": " << t.router << ", \"thread\": " << t.thread
          << ", \"node\": " << json_string(t.node) << ", \"counters\": ";
        json_counters(s, t.c);
        json_router_derived(s, t.c, r.granularity);
        s << "}";
    }
    const router_counters routers_total = total_of(r.routers);
    s << "], \"routers_total\": ";
    json_counters(s, routers_total);
    s << ", \"routers_mean_batch_bytes\": " << json_number(mean_batch_bytes(routers_total))
      << ", \"routers_batch_fill\": " << json_number(batch_fill(routers_total, r.granularity));
    const hop_counts h = hops_of(r);
    s << ", \"hops\": {\"0\": " << h.hops[0] << ", \"1\": " << h.hops[1] << ", \"2\": " << h.hops[2] << "}}\n";
    return s.str();
}

}  // namespace buddy::report
