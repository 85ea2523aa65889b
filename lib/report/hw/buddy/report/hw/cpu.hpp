// What the event choice needs to know about a CPU: who made it, which model it
// is, and which PMUs the kernel exposes.  Kept apart from the probing so the
// choice can be tested with a description written by hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace buddy::report::hw {

enum class cpu_vendor { intel, amd, arm, other };

struct cpu_description {
    cpu_vendor vendor = cpu_vendor::other;
    std::string vendor_name;          ///< as /proc/cpuinfo says it ("GenuineIntel", "0x41", ...)
    unsigned family = 0;              ///< x86 family (decimal, extended family folded in)
    unsigned model = 0;               ///< x86 model (decimal, extended model folded in)
    unsigned arm_part = 0;            ///< Arm MIDR part number (0xd41 is Cortex-A78)
    std::vector<std::string> pmus;    ///< names under /sys/bus/event_source/devices
};

/// Reads /proc/cpuinfo and /sys/bus/event_source/devices (missing files leave
/// fields at their defaults; never throws).
cpu_description describe_this_cpu();

/// One line a person can read: "GenuineIntel family 6 model 207, PMUs: cpu, software".
std::string describe(const cpu_description& cpu);

}  // namespace buddy::report::hw
