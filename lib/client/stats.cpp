#include "buddy/stats.hpp"

#include <cstdio>
#include <sstream>

namespace buddy {

namespace {
counters total_of(const std::vector<rank_report>& ranks) {
    counters t;
    for (const rank_report& r : ranks) {
        t.messages_sent += r.c.messages_sent;
        t.messages_handled += r.c.messages_handled;
        t.bytes_sent += r.c.bytes_sent;
        t.batches_sent += r.c.batches_sent;
        t.batch_bytes_sent += r.c.batch_bytes_sent;
        t.batches_received += r.c.batches_received;
        t.flush_full += r.c.flush_full;
        t.flush_barrier += r.c.flush_barrier;
        t.flush_idle += r.c.flush_idle;
        t.backpressure_waits += r.c.backpressure_waits;
        t.barriers += r.c.barriers;
        t.quiescence_rounds += r.c.quiescence_rounds;
    }
    return t;
}

void row(std::ostringstream& s, const std::string& who, const counters& c) {
    char line[256];
    const double per_batch = c.batches_sent ? static_cast<double>(c.batch_bytes_sent) / c.batches_sent : 0.0;
    std::snprintf(line, sizeof line, "%-8s %12llu %12llu %9llu %10.0f %8llu %8llu %8llu %8llu\n", who.c_str(),
                  static_cast<unsigned long long>(c.messages_sent),
                  static_cast<unsigned long long>(c.messages_handled),
                  static_cast<unsigned long long>(c.batches_sent), per_batch,
                  static_cast<unsigned long long>(c.flush_full),
                  static_cast<unsigned long long>(c.flush_barrier + c.flush_idle),
                  static_cast<unsigned long long>(c.backpressure_waits),
                  static_cast<unsigned long long>(c.quiescence_rounds));
    s << line;
}

void json_counters(std::ostringstream& s, const counters& c) {
    s << "{\"messages_sent\": " << c.messages_sent << ", \"messages_handled\": " << c.messages_handled
      << ", \"bytes_sent\": " << c.bytes_sent << ", \"batches_sent\": " << c.batches_sent
      << ", \"batch_bytes_sent\": " << c.batch_bytes_sent << ", \"batches_received\": " << c.batches_received
      << ", \"flush_full\": " << c.flush_full << ", \"flush_barrier\": " << c.flush_barrier
      << ", \"flush_idle\": " << c.flush_idle << ", \"backpressure_waits\": " << c.backpressure_waits
      << ", \"barriers\": " << c.barriers << ", \"quiescence_rounds\": " << c.quiescence_rounds << "}";
}

std::string json_string(const std::string& v) {
    std::string out = "\"";
    for (char ch : v) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
    }
    return out + "\"";
}
}  // namespace

std::string format_table(const std::vector<rank_report>& ranks) {
    std::ostringstream s;
    s << "rank             sent      handled   batches  bytes/bat  fl.full  fl.part    waits   rounds\n";
    for (const rank_report& r : ranks) row(s, std::to_string(r.rank), r.c);
    if (ranks.size() > 1) row(s, "total", total_of(ranks));
    return s.str();
}

std::string format_json(const std::vector<rank_report>& ranks, const std::string& placement_name) {
    std::ostringstream s;
    s << "{\"placement\": " << json_string(placement_name) << ", \"ranks\": [";
    for (std::size_t i = 0; i < ranks.size(); ++i) {
        if (i) s << ", ";
        s << "{\"rank\": " << ranks[i].rank << ", \"host\": " << json_string(ranks[i].host) << ", \"counters\": ";
        json_counters(s, ranks[i].c);
        s << "}";
    }
    s << "], \"total\": ";
    json_counters(s, total_of(ranks));
    s << "}\n";
    return s.str();
}

}  // namespace buddy
