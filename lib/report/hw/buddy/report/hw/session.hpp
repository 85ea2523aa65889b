// Hardware counters around a job: a session opens the events chosen for this
// CPU (libpfm4 encodes them, perf_event_open counts them) for this process and
// the threads and children it creates after start(), and stop() reads them.
// Where the machine gives no counters (VMs expose only software PMUs), the
// result says `available = false` and why; it never makes numbers up.
//
//   buddy::report::hw::session hw;
//   hw.start();
//   run_the_job();
//   hw.stop();
//   std::cout << json_fragment(hw.result()) << '\n';
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "buddy/report/hw/cpu.hpp"
#include "buddy/report/hw/events.hpp"

namespace buddy::report::hw {

struct reading {
    std::string label;            ///< event_spec::label
    std::string event;            ///< the libpfm4 event string counted
    std::uint64_t value = 0;      ///< raw count (not scaled)
    std::uint64_t enabled_ns = 0; ///< time the event was enabled
    std::uint64_t running_ns = 0; ///< time it was on a counter; < enabled_ns when multiplexed
    bool per_socket = false;      ///< memory-side PMU: counts the socket, not just this process
};

struct not_opened {
    std::string label;
    std::string tried;  ///< what was attempted: the event string and PMU
    std::string error;  ///< the exact failure
};

struct result {
    bool available = false;           ///< at least one event was counted
    std::string reason;               ///< when not available: what was tried and why it failed
    std::string cpu;                  ///< describe(cpu_description)
    std::vector<reading> values;
    std::vector<not_opened> failures; ///< every chosen event that was not counted
};

/// What a session counts (uncore events always count their whole socket).
struct scope {
    /// 0: the calling process, and the threads and children it creates after
    /// start().  A thread id: that one thread only, from start() on (a router
    /// thread, counted for the jobs it serves; see router/thread_counters).
    pid_t thread = 0;
};

class session {
public:
    /// Chooses the events for `cpu` (the running machine by default).
    explicit session(cpu_description cpu = describe_this_cpu(), hw::scope what = {});
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// Opens and enables every event that can be opened; never throws for a
    /// missing PMU or permission, it records the failure instead.
    void start();
    /// Disables and reads the events, fills result(), and closes them.
    void stop();
    const hw::result& result() const { return result_; }

    /// The counts so far, without stopping (between start() and stop(); any
    /// thread may call it).  Events that failed to open are in `failures`.
    hw::result sample() const;
    /// `later` minus `earlier` per event: the counts of the stretch between
    /// two samples of one session.
    static hw::result difference(const hw::result& later, const hw::result& earlier);

private:
    struct open_event {
        event_spec spec;
        std::string event;  ///< the name that opened: spec.pfm_event or spec.fallback
        int fd = -1;
    };
    void close_all();
    /// Encodes `name` with libpfm4 and opens it; -1 and `error` set on failure.
    int open_one(const event_spec& spec, const std::string& name, int init, std::string& error) const;
    /// Reads every open event into `into` (values, or a failure per event).
    void read_all(hw::result& into) const;
    /// Sets `available` and, when nothing was counted, `reason`.
    static void conclude(hw::result& r);

    cpu_description cpu_;
    hw::scope scope_;
    std::vector<event_spec> chosen_;
    std::vector<open_event> open_;
    hw::result result_;
    bool started_ = false;
};

}  // namespace buddy::report::hw
