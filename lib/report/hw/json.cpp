// JSON fragment for a hardware-counter result.
#include "buddy/report/hw/json.hpp"

#include <cstdio>
#include <sstream>

namespace buddy::report::hw {

namespace {

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

}  // namespace

std::string json_fragment(const result& r) {
    std::ostringstream out;
    out << "\"hw_counters\": {\"available\": " << (r.available ? "true" : "false")
        << ", \"reason\": " << quoted(r.reason) << ", \"cpu\": " << quoted(r.cpu) << ", \"values\": {";
    for (std::size_t i = 0; i < r.values.size(); ++i) {
        const auto& v = r.values[i];
        out << (i ? ", " : "") << quoted(v.label) << ": {\"event\": " << quoted(v.event) << ", \"value\": " << v.value
            << ", \"enabled_ns\": " << v.enabled_ns << ", \"running_ns\": " << v.running_ns
            << ", \"per_socket\": " << (v.per_socket ? "true" : "false") << "}";
    }
    out << "}, \"not_opened\": [";
    for (std::size_t i = 0; i < r.failures.size(); ++i) {
        const auto& f = r.failures[i];
        out << (i ? ", " : "") << "{\"event\": " << quoted(f.label) << ", \"tried\": " << quoted(f.tried)
            << ", \"error\": " << quoted(f.error) << "}";
    }
    out << "]}";
    return out.str();
}

}  // namespace buddy::report::hw
