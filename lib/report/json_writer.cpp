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
      << ", \"batch_fill\": " << json_number(batch_fill(c, granularity))
      << ", \"idle_fraction\": " << json_number(idle_fraction(c))
      << ", \"idle_pass_fraction\": " << json_number(idle_pass_fraction(c));
}

void json_links(std::ostringstream& s, const std::vector<link_report>& links) {
    s << ", \"links\": [";
    for (std::size_t i = 0; i < links.size(); ++i)
        s << (i ? ", " : "") << "{\"to\": " << links[i].to << ", \"batches\": " << links[i].batches
          << ", \"bytes\": " << links[i].bytes << "}";
    s << "]";
}

void json_hw(std::ostringstream& s, const hw_report& hw) {
    if (!hw.measured) {
        s << ", \"hw_counters\": {\"available\": false, \"reason\": "
          << json_string(hw.reason.empty() ? "not measured: no report was asked for at start" : hw.reason) << "}";
        return;
    }
    // The session's own JSON object (lib/report/hw), embedded as it is.
    s << ", \"hw_counters\": " << (hw.json.empty() ? "{\"available\": false, \"reason\": " + json_string(hw.reason) + "}" : hw.json);
}

}  // namespace

std::string format_json(const job_report& r) {
    std::ostringstream s;
    s << "{\"schema\": " << schema_version << ", \"placement\": " << json_string(r.placement)
      << ", \"granularity\": " << r.granularity << ", \"depth\": " << r.depth << ", \"settings\": [";
    for (std::size_t i = 0; i < r.settings.size(); ++i)
        s << (i ? ", " : "") << "{\"name\": " << json_string(r.settings[i].name)
          << ", \"value\": " << json_string(r.settings[i].value) << ", \"source\": " << json_string(r.settings[i].source)
          << "}";
    s << "], \"ranks\": [";
    for (std::size_t i = 0; i < r.ranks.size(); ++i) {
        const rank_report& k = r.ranks[i];
        s << (i ? ", " : "") << "{\"rank\": " << k.rank << ", \"host\": " << json_string(k.host) << ", \"counters\": ";
        json_counters(s, k.c);
        json_links(s, k.links);
        json_hw(s, k.hw);
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
        json_links(s, t.links);
        // The router's own JSON object (read_stats_reply checked its braces);
        // a report assembled without a router reply says so instead.
        s << ", \"hw_counters\": "
          << (t.hw_json.empty() ? "{\"available\": false, \"reason\": \"no counters from this router\"}" : t.hw_json)
          << "}";
    }
    const router_counters routers_total = total_of(r.routers);
    s << "], \"routers_total\": ";
    json_counters(s, routers_total);
    s << ", \"routers_mean_batch_bytes\": " << json_number(mean_batch_bytes(routers_total))
      << ", \"routers_batch_fill\": " << json_number(batch_fill(routers_total, r.granularity));
    const hop_counts h = hops_of(r);
    s << ", \"hops\": {\"0\": " << h.hops[0] << ", \"1\": " << h.hops[1] << ", \"2\": " << h.hops[2] << "}";
    const offload_advice a = advise(r);
    s << ", \"memory_ratio\": {\"kind\": " << json_string(a.ratio.kind) << ", \"value\": " << json_number(a.ratio.value)
      << ", \"unit\": " << json_string(a.ratio.unit) << ", \"measured\": " << (a.ratio.measured ? "true" : "false")
      << ", \"label\": " << json_string(a.ratio.label) << "}, \"advice\": {\"offload\": " << json_string(a.verdict)
      << ", \"line\": " << json_string(a.line) << "}}\n";
    return s.str();
}

}  // namespace buddy::report
