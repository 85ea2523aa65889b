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

class session {
public:
    /// Chooses the events for `cpu` (the running machine by default).
    explicit session(cpu_description cpu = describe_this_cpu());
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// Opens and enables every event that can be opened; never throws for a
    /// missing PMU or permission, it records the failure instead.
    void start();
    /// Disables and reads the events, fills result(), and closes them.
    void stop();
    const hw::result& result() const { return result_; }

private:
    struct open_event {
        event_spec spec;
        std::string event;  ///< the name that opened: spec.pfm_event or spec.fallback
        int fd = -1;
    };
    void close_all();
    /// Encodes `name` with libpfm4 and opens it; -1 and `error` set on failure.
    static int open_one(const event_spec& spec, const std::string& name, int init, std::string& error);

    cpu_description cpu_;
    std::vector<event_spec> chosen_;
    std::vector<open_event> open_;
    hw::result result_;
    bool started_ = false;
};

}  // namespace buddy::report::hw
