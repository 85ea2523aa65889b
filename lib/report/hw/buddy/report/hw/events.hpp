// Which hardware events measure memory traffic on a given CPU: last-level
// cache misses from the core PMU, and DRAM traffic from the memory-side PMU
// (Intel uncore IMC CAS counts, AMD data fabric, Arm CMN/DMC).  A pure function
// of a cpu_description, so it is testable without the hardware.  The events are
// named the way libpfm4 names them; libpfm4 does the encoding.
#pragma once

#include <string>
#include <vector>

#include "buddy/report/hw/cpu.hpp"

namespace buddy::report::hw {

struct event_spec {
    std::string label;      ///< name in the report ("llc_misses", "imc0_cas_read", ...)
    std::string pfm_event;  ///< libpfm4 event string; empty when libpfm4 cannot encode it
    std::string pmu;        ///< kernel PMU it needs (/sys/bus/event_source/devices/NAME); empty: none exposed
    std::string fallback;   ///< libpfm4 name of the kernel's generic event, tried if pfm_event fails
    bool uncore = false;    ///< memory-side PMU: counted per socket, not per process
    std::string skipped;    ///< non-empty: why it cannot be opened here (known before trying)
};

/// The events to open on `cpu`, wanted ones first; ones known to be impossible
/// carry the reason in `skipped` so a report can say what was tried.
std::vector<event_spec> choose_events(const cpu_description& cpu);

}  // namespace buddy::report::hw
