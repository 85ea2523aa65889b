// The human table rank 0 prints at the end of a job with a report: per rank,
// per router thread, per link, the settings in force, the memory-to-
// communication ratio and the advice line.  Chosen columns, for reading; the
// JSON has every counter (and `--counters` below lists them all).
#include <cstdio>
#include <sstream>

#include "buddy/report/writers.hpp"

namespace buddy::report {

namespace {

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

void line(std::ostringstream& s, const char* fmt, auto... args) {
    char b[512];
    std::snprintf(b, sizeof b, fmt, args...);
    s << b;
}

void rank_row(std::ostringstream& s, const std::string& who, const counters& c, std::uint64_t granularity) {
    line(s, "%-6s %12llu %12llu %12llu %10.1f %10.1f %10.1f %10.1f %8llu %8llu %5.2f\n", who.c_str(),
         static_cast<unsigned long long>(c.messages_sent), static_cast<unsigned long long>(c.bytes_sent),
         static_cast<unsigned long long>(c.messages_handled), ms(c.time_handlers_ns), ms(c.time_application_ns),
         ms(c.time_barrier_ns), ms(c.time_stall_ns), static_cast<unsigned long long>(c.backpressure_waits),
         static_cast<unsigned long long>(c.batches_sent), rank_batch_fill(c, granularity));
}

void router_row(std::ostringstream& s, const std::string& who, const router_counters& c, std::uint64_t granularity,
                std::uint64_t depth) {
    line(s, "%-6s %12llu %12llu %9llu %9llu %5.2f %9llu %9llu %6llu/%-4llu %7.1f%% %7.1f%% %8llu\n", who.c_str(),
         static_cast<unsigned long long>(c.records_local), static_cast<unsigned long long>(c.records_remote),
         static_cast<unsigned long long>(c.records_transit), static_cast<unsigned long long>(c.batches_sent),
         batch_fill(c, granularity), static_cast<unsigned long long>(c.flush_full),
         static_cast<unsigned long long>(c.flush_idle), static_cast<unsigned long long>(c.in_flight_max),
         static_cast<unsigned long long>(depth), 100.0 * idle_pass_fraction(c), 100.0 * idle_fraction(c),
         static_cast<unsigned long long>(c.stalls));
}

void link_rows(std::ostringstream& s, const std::string& from, const char* to_kind,
               const std::vector<link_report>& links) {
    for (const link_report& l : links) {
        line(s, "%-12s %-12s %10llu %14llu %12.0f\n", from.c_str(), (std::string(to_kind) + " " + std::to_string(l.to)).c_str(),
             static_cast<unsigned long long>(l.batches), static_cast<unsigned long long>(l.bytes),
             l.batches ? static_cast<double>(l.bytes) / static_cast<double>(l.batches) : 0.0);
    }
}

}  // namespace

std::string format_table(const job_report& r) {
    std::ostringstream s;
    line(s, "buddy report: placement %s, %zu ranks, granularity %llu, depth %llu\n\n", r.placement.c_str(),
         r.ranks.size(), static_cast<unsigned long long>(r.granularity), static_cast<unsigned long long>(r.depth));

    s << "per rank (times in ms; fill = batch bytes / granularity)\n";
    line(s, "%-6s %12s %12s %12s %10s %10s %10s %10s %8s %8s %5s\n", "rank", "sent", "bytes_sent", "handled",
         "handlers", "app", "barrier", "stalls", "waits", "batches", "fill");
    for (const rank_report& k : r.ranks) rank_row(s, std::to_string(k.rank), k.c, r.granularity);
    if (r.ranks.size() > 1) rank_row(s, "total", total_of(r.ranks), r.granularity);

    if (!r.routers.empty()) {
        s << "\nper router thread (router/thread; in-flight = most batches in flight to one hop / depth)\n";
        line(s, "%-6s %12s %12s %9s %9s %5s %9s %9s %11s %8s %8s %8s\n", "router", "to_ranks", "to_routers",
             "transit", "batches", "fill", "full", "idle", "in-flight", "idle_pas", "idle_tim", "stalls");
        for (const router_report& t : r.routers)
            router_row(s, std::to_string(t.router) + "/" + std::to_string(t.thread), t.c, r.granularity, r.depth);
        if (r.routers.size() > 1) router_row(s, "total", total_of(r.routers), r.granularity, r.depth);
    }
    const hop_counts h = hops_of(r);
    s << (r.routers.empty() ? "\nrecords by rank-to-rank hops (inproc)" : "\nrecords by hops between routers")
      << ": 0: " << h.hops[0] << ", 1: " << h.hops[1] << ", 2: " << h.hops[2] << "\n";

    bool any_link = false;
    for (const rank_report& k : r.ranks) any_link |= !k.links.empty();
    for (const router_report& t : r.routers) any_link |= !t.links.empty();
    s << "\nper link (batches and bytes sent to each next hop)\n";
    if (!any_link) {
        s << "(none: every record stayed on its node)\n";
    } else {
        line(s, "%-12s %-12s %10s %14s %12s\n", "from", "to", "batches", "bytes", "bytes/batch");
        for (const rank_report& k : r.ranks) link_rows(s, "rank " + std::to_string(k.rank), "rank", k.links);
        for (const router_report& t : r.routers)
            link_rows(s, "router " + std::to_string(t.router) + "/" + std::to_string(t.thread), "router", t.links);
    }

    s << "\nsettings in force\n";
    for (const setting& k : r.settings) line(s, "  %-17s %-20s %s\n", k.name.c_str(), k.value.c_str(), k.source.c_str());

    s << "\nhardware counters\n";
    for (const rank_report& k : r.ranks) {
        if (!k.hw.measured) s << "  rank " << k.rank << ": not measured" << (k.hw.reason.empty() ? "" : " (" + k.hw.reason + ")") << "\n";
        else if (k.hw.available)
            line(s, "  rank %d: llc miss bytes %llu, dram bytes %llu\n", k.rank,
                 static_cast<unsigned long long>(k.hw.llc_miss_bytes), static_cast<unsigned long long>(k.hw.dram_bytes));
        else s << "  rank " << k.rank << ": unavailable: " << k.hw.reason << "\n";
    }
    for (const router_report& t : r.routers) {
        s << "  router " << t.router << "/" << t.thread << ": ";
        if (t.hw_available) s << "counted (the report's routers[].hw_counters)\n";
        else s << "unavailable: " << (t.hw_reason.empty() ? "no counters from this router" : t.hw_reason) << "\n";
    }

    const offload_advice a = advise(r);
    line(s, "\nmemory-to-communication ratio: %.4g %s (%s)\n", a.ratio.value, a.ratio.unit.c_str(), a.ratio.label.c_str());
    s << "advice: " << a.line << "\n";
    return s.str();
}

}  // namespace buddy::report
