// The memory-to-communication ratio and the offload advice (docs/report.md,
// "Memory-to-communication ratio and advice": the rule, its thresholds and the
// sweeps they come from).
#include <cstdio>

#include "buddy/report/writers.hpp"

namespace buddy::report {

memory_ratio compute_ratio(const job_report& r) {
    memory_ratio m;
    const counters t = total_of(r.ranks);
    // Counters only when every rank has them: a ratio over some ranks' memory
    // traffic and every rank's bytes would understate it.
    bool all_llc = !r.ranks.empty(), all_dram = !r.ranks.empty();
    std::uint64_t llc = 0, dram = 0;
    for (const rank_report& k : r.ranks) {
        all_llc &= k.hw.available && k.hw.llc_miss_bytes > 0;
        all_dram &= k.hw.available && k.hw.dram_bytes > 0;
        llc += k.hw.llc_miss_bytes;
        dram += k.hw.dram_bytes;
    }
    if ((all_dram || all_llc) && t.bytes_sent > 0) {
        m.measured = true;
        m.unit = "bytes/byte";
        if (all_dram) {
            // Memory-controller counts are per socket: every rank of a socket
            // saw the same traffic, so one rank per host counts it.
            std::vector<std::string> seen;
            dram = 0;
            for (const rank_report& k : r.ranks) {
                bool first = true;
                for (const std::string& h : seen) first &= h != k.host;
                if (first) {
                    seen.push_back(k.host);
                    dram += k.hw.dram_bytes;
                }
            }
            m.kind = "dram_bytes_per_byte";
            m.value = static_cast<double>(dram) / static_cast<double>(t.bytes_sent);
            m.label = "DRAM bytes (memory-controller CAS x 64) per byte communicated, hardware counters";
        } else {
            m.kind = "llc_miss_bytes_per_byte";
            m.value = static_cast<double>(llc) / static_cast<double>(t.bytes_sent);
            m.label = "last-level miss bytes (misses x 64) per byte communicated, hardware counters";
        }
        return m;
    }
    m.kind = "time_per_message";
    m.unit = "ns/message";
    const double work = static_cast<double>(t.time_application_ns + t.time_handlers_ns);
    m.value = t.messages_handled ? work / static_cast<double>(t.messages_handled) : 0.0;
    m.label = "time proxy (no hardware counters): application + handler ns per handled message, all ranks";
    return m;
}

offload_advice advise(const job_report& r, const advice_thresholds& th) {
    offload_advice a;
    a.ratio = compute_ratio(r);
    const bool bytes = a.ratio.measured;
    const double helps = bytes ? th.helps_bytes : th.helps_ns;
    const double no_help = bytes ? th.no_help_bytes : th.no_help_ns;
    const counters t = total_of(r.ranks);
    char rule[200];
    std::snprintf(rule, sizeof rule, "%.3g %s (helps at >= %.3g, does not below %.3g)", a.ratio.value,
                  a.ratio.unit.c_str(), helps, no_help);
    if (t.messages_handled == 0) {
        a.verdict = "unclear";
        a.line = "no message was handled: nothing to advise on";
    } else if (a.ratio.value >= helps) {
        a.verdict = "helps";
        a.line = std::string("offloading routing (placement host, or dpu) is expected to help: the job is "
                             "host-dominated, ") + rule;
    } else if (a.ratio.value < no_help) {
        a.verdict = "does not help";
        a.line = std::string("offloading routing is not expected to help: the job is communication-bound, ") + rule +
                 "; keep placement inproc and tune granularity";
    } else {
        a.verdict = "unclear";
        a.line = std::string("between the thresholds, ") + rule + ": measure both placements (perf/sweep)";
    }
    return a;
}

}  // namespace buddy::report
