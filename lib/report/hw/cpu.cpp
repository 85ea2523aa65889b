// Probing the running machine for a cpu_description.
#include "buddy/report/hw/cpu.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace buddy::report::hw {

namespace {

// "key\t: value" -> value, in one processor's block of /proc/cpuinfo.
std::string cpuinfo_field(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name != key) continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        return value;
    }
    return {};
}

unsigned to_number(const std::string& s) {
    if (s.empty()) return 0;
    try {
        return static_cast<unsigned>(std::stoul(s, nullptr, 0));  // base 0: "0xd41" and "207"
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

cpu_description describe_this_cpu() {
    cpu_description cpu;
    // The first processor's block is enough (all cores of a node are alike here).
    std::ifstream f("/proc/cpuinfo");
    std::string text, line;
    while (std::getline(f, line) && !line.empty()) text += line + '\n';
    const std::string x86_vendor = cpuinfo_field(text, "vendor_id");
    const std::string arm_implementer = cpuinfo_field(text, "CPU implementer");
    if (!x86_vendor.empty()) {
        cpu.vendor_name = x86_vendor;
        cpu.vendor = x86_vendor == "GenuineIntel"   ? cpu_vendor::intel
                     : x86_vendor == "AuthenticAMD" ? cpu_vendor::amd
                                                    : cpu_vendor::other;
        cpu.family = to_number(cpuinfo_field(text, "cpu family"));
        cpu.model = to_number(cpuinfo_field(text, "model"));
    } else if (!arm_implementer.empty()) {
        cpu.vendor_name = arm_implementer;
        cpu.vendor = cpu_vendor::arm;
        cpu.arm_part = to_number(cpuinfo_field(text, "CPU part"));
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/bus/event_source/devices", ec))
        cpu.pmus.push_back(entry.path().filename().string());
    std::sort(cpu.pmus.begin(), cpu.pmus.end());
    return cpu;
}

std::string describe(const cpu_description& cpu) {
    std::ostringstream out;
    out << (cpu.vendor_name.empty() ? "unknown vendor" : cpu.vendor_name);
    if (cpu.vendor == cpu_vendor::arm)
        out << " part 0x" << std::hex << cpu.arm_part << std::dec;
    else
        out << " family " << cpu.family << " model " << cpu.model;
    out << ", PMUs:";
    if (cpu.pmus.empty()) out << " none";
    for (std::size_t i = 0; i < cpu.pmus.size(); ++i) out << (i ? ", " : " ") << cpu.pmus[i];
    return out.str();
}

}  // namespace buddy::report::hw
