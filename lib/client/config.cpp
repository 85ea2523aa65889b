#include "buddy/config.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace buddy {

std::string_view to_string(placement p) noexcept {
    switch (p) {
        case placement::inproc: return "inproc";
        case placement::host: return "host";
        case placement::dpu: return "dpu";
    }
    return "unknown";
}

namespace {

std::string format_bytes(std::size_t n) {
    if (n % (1024ull * 1024 * 1024) == 0) return std::to_string(n >> 30) + "G";
    if (n % (1024ull * 1024) == 0) return std::to_string(n >> 20) + "M";
    if (n % 1024 == 0) return std::to_string(n >> 10) + "K";
    return std::to_string(n);
}

[[noreturn]] void refuse(std::string_view knob, std::string_view value, const std::string& expected) {
    throw config_error("buddy: invalid " + std::string(knob) + " '" + std::string(value) + "': expected " +
                       expected);
}

std::uint64_t parse_unsigned(std::string_view text, std::string_view knob, const std::string& expected) {
    std::uint64_t v = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last || text.empty()) refuse(knob, text, expected);
    return v;
}

placement parse_placement(std::string_view text, std::string_view knob) {
    if (text == "inproc") return placement::inproc;
    if (text == "host") return placement::host;
    if (text == "dpu") return placement::dpu;
    refuse(knob, text, "one of inproc, host, dpu");
}

double parse_seconds(std::string_view text, std::string_view knob) {
    const std::string s(text);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0)
        refuse(knob, text, "a positive number of seconds");
    return v;
}

bool parse_bool(std::string_view text, std::string_view knob) {
    if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
    if (text == "0" || text == "false" || text == "no" || text == "off") return false;
    refuse(knob, text, "one of 1, 0, true, false, yes, no, on, off");
}

// One table of knobs: name (flag --buddy-NAME, variable BUDDY_NAME in upper case
// with '-' as '_'), and how to apply a value.
struct knob {
    const char* name;
    void (*apply)(config&, std::string_view value, std::string_view shown_as);
};

const knob knobs[] = {
    {"placement", [](config& c, std::string_view v, std::string_view k) { c.where = parse_placement(v, k); }},
    {"granularity", [](config& c, std::string_view v, std::string_view k) { c.granularity = parse_bytes(v, k); }},
    {"depth",
     [](config& c, std::string_view v, std::string_view k) {
         c.depth = static_cast<std::uint32_t>(std::min<std::uint64_t>(
             parse_unsigned(v, k, "a whole number of batches"), UINT32_MAX));
     }},
    {"max-message", [](config& c, std::string_view v, std::string_view k) { c.max_message = parse_bytes(v, k); }},
    {"timeout", [](config& c, std::string_view v, std::string_view k) { c.timeout_seconds = parse_seconds(v, k); }},
    {"report", [](config& c, std::string_view v, std::string_view) { c.report_path = std::string(v); }},
    {"router-threads",
     [](config& c, std::string_view v, std::string_view k) {
         c.router_threads = static_cast<std::uint32_t>(std::min<std::uint64_t>(
             parse_unsigned(v, k, "a whole number of threads"), UINT32_MAX));
     }},
    {"routers-per-node",
     [](config& c, std::string_view v, std::string_view k) {
         c.routers_per_node = static_cast<std::uint32_t>(std::min<std::uint64_t>(
             parse_unsigned(v, k, "a whole number of routers"), UINT32_MAX));
     }},
    {"router-cores", [](config& c, std::string_view v, std::string_view) { c.router_cores = std::string(v); }},
    {"router-bin", [](config& c, std::string_view v, std::string_view) { c.router_bin = std::string(v); }},
    {"ring-bytes", [](config& c, std::string_view v, std::string_view k) { c.ring_bytes = parse_bytes(v, k); }},
    {"router-socket", [](config& c, std::string_view v, std::string_view) { c.router_socket = std::string(v); }},
    {"verbose", [](config& c, std::string_view v, std::string_view k) { c.verbose = parse_bool(v, k); }},
};

std::string env_name(const char* name) {
    std::string s = "BUDDY_";
    for (const char* p = name; *p; ++p) s += (*p == '-') ? '_' : static_cast<char>(std::toupper(*p));
    return s;
}

void range_check(std::string_view knob_name, std::uint64_t v, std::uint64_t lo, std::uint64_t hi, bool bytes) {
    if (v < lo || v > hi) {
        const std::string shown = bytes ? format_bytes(v) : std::to_string(v);
        const std::string range = bytes ? format_bytes(lo) + " to " + format_bytes(hi)
                                        : std::to_string(lo) + " to " + std::to_string(hi);
        throw config_error("buddy: " + std::string(knob_name) + " = " + shown + " is out of range: accepted " +
                           range);
    }
}

}  // namespace

std::size_t parse_bytes(std::string_view text, std::string_view knob_name) {
    const std::string expected = "a byte count such as 4096, 64K or 1M";
    if (text.empty()) refuse(knob_name, text, expected);
    std::uint64_t scale = 1;
    std::string_view digits = text;
    const char last = text.back();
    if (last == 'K' || last == 'k') scale = 1024;
    if (last == 'M' || last == 'm') scale = 1024ull * 1024;
    if (last == 'G' || last == 'g') scale = 1024ull * 1024 * 1024;
    if (scale != 1) digits.remove_suffix(1);
    const std::uint64_t v = parse_unsigned(digits, knob_name, expected);
    if (v > UINT64_MAX / scale) refuse(knob_name, text, expected);
    return static_cast<std::size_t>(v * scale);
}

config config::from_env() {
    config c;
    c.apply_env();
    return c;
}

void config::apply_env() {
    for (const knob& k : knobs) {
        const std::string var = env_name(k.name);
        if (const char* v = std::getenv(var.c_str())) k.apply(*this, v, var);
    }
}

void config::apply_args(int* argc, char*** argv) {
    if (!argc || !argv || !*argv) return;
    int out = 1;
    char** args = *argv;
    for (int i = 1; i < *argc; ++i) {
        std::string_view a = args[i];
        if (a == "--") {  // the rest belongs to the application
            for (; i < *argc; ++i) args[out++] = args[i];
            break;
        }
        if (a.rfind("--buddy-", 0) != 0) {
            args[out++] = args[i];
            continue;
        }
        std::string_view body = a.substr(8);
        std::string_view value;
        bool has_value = false;
        if (auto eq = body.find('='); eq != std::string_view::npos) {
            value = body.substr(eq + 1);
            body = body.substr(0, eq);
            has_value = true;
        }
        const knob* found = nullptr;
        for (const knob& k : knobs)
            if (body == k.name) found = &k;
        if (!found) {
            std::string names;
            for (const knob& k : knobs) names += std::string(names.empty() ? "" : ", ") + "--buddy-" + k.name;
            throw config_error("buddy: unknown flag '" + std::string(a) + "': known flags are " + names);
        }
        if (!has_value) {
            if (body == "verbose") {
                value = "1";
            } else if (i + 1 < *argc) {
                value = args[++i];
            } else {
                throw config_error("buddy: flag --buddy-" + std::string(body) + " needs a value");
            }
        }
        found->apply(*this, value, "--buddy-" + std::string(body));
    }
    args[out] = nullptr;
    *argc = out;
}

void config::validate() const {
    using r = knob_range;
    range_check("granularity (BUDDY_GRANULARITY)", granularity, r::granularity_min, r::granularity_max, true);
    range_check("depth (BUDDY_DEPTH)", depth, r::depth_min, r::depth_max, false);
    range_check("max-message (BUDDY_MAX_MESSAGE)", max_message, r::max_message_min, r::max_message_max, true);
    range_check("router-threads (BUDDY_ROUTER_THREADS)", router_threads, r::router_threads_min,
                r::router_threads_max, false);
    range_check("routers-per-node (BUDDY_ROUTERS_PER_NODE)", routers_per_node, r::routers_per_node_min,
                r::routers_per_node_max, false);
    range_check("ring-bytes (BUDDY_RING_BYTES)", ring_bytes, r::ring_bytes_min, r::ring_bytes_max, true);
    if ((ring_bytes & (ring_bytes - 1)) != 0)
        throw config_error("buddy: ring-bytes (BUDDY_RING_BYTES) = " + format_bytes(ring_bytes) +
                           " must be a power of two");
}

std::string config::describe() const {
    std::ostringstream s;
    s << "placement      " << to_string(where) << "   (BUDDY_PLACEMENT, --buddy-placement)\n"
      << "granularity    " << format_bytes(granularity) << " bytes   (BUDDY_GRANULARITY)\n"
      << "depth          " << depth << " batches per hop   (BUDDY_DEPTH)\n"
      << "max-message    " << format_bytes(max_message) << " bytes   (BUDDY_MAX_MESSAGE)\n"
      << "timeout        " << timeout_seconds << " s   (BUDDY_TIMEOUT)\n"
      << "router-threads " << router_threads << "   (BUDDY_ROUTER_THREADS)\n"
      << "routers/node   " << routers_per_node << "   (BUDDY_ROUTERS_PER_NODE)\n"
      << "router-cores   " << (router_cores.empty() ? "(hwloc)" : router_cores) << "   (BUDDY_ROUTER_CORES)\n"
      << "ring-bytes     " << format_bytes(ring_bytes) << " bytes   (BUDDY_RING_BYTES)\n"
      << "report         " << (report_path.empty() ? "(none)" : report_path) << "   (BUDDY_REPORT)\n";
    return s.str();
}

}  // namespace buddy
