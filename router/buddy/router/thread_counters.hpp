// Hardware counters of one router thread, for the reports of the jobs it
// serves.  A router is a service shared by jobs, so it cannot count "the job"
// the way a rank counts itself: each router thread counts itself from its
// start, the control thread takes a mark when a job starts routing, and the
// job's report gets the thread's counts from that mark to its stats request.
// What else the thread served meanwhile (another job) is in those counts too;
// docs/report.md says so.
//
// Reading happens on the control thread (a read(2) of each event's
// descriptor), so the router thread's passes never stop for it.
#pragma once

#include <memory>
#include <string>

namespace buddy::router {

class thread_counters {
public:
    struct sample;                                 ///< counts at one moment (opaque)
    using mark = std::shared_ptr<const sample>;

    thread_counters();
    ~thread_counters();
    thread_counters(const thread_counters&) = delete;
    thread_counters& operator=(const thread_counters&) = delete;

    /// On the router thread, once, before it serves anything: counts that
    /// thread from now on.  Never throws for a missing PMU: records why.
    void start_here();
    /// The counts now (any thread, after start_here() returned).
    mark now() const;
    struct report {
        bool available = false;  ///< at least one event counted
        std::string reason;      ///< when not: why
        std::string json;        ///< `{"available": ..., "reason": ..., "values": {...}, ...}`
    };
    /// The counts of the stretch from `from` to now.
    report since(const mark& from) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace buddy::router
