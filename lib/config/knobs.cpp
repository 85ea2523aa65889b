// The table of knobs and what derives from it: parsing a user's text into the
// public struct, echoing it back, checking ranges and forms.
#include "buddy/config/knobs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "buddy/config/words.hpp"

namespace buddy::knobs {

namespace {

bool whole_number(std::string_view text, std::uint64_t& v) {
    if (text.empty()) return false;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

bool bytes_from_text(std::string_view text, std::uint64_t& out) {
    if (text.empty()) return false;
    std::uint64_t scale = 1;
    switch (text.back()) {
        case 'K': case 'k': scale = 1024; break;
        case 'M': case 'm': scale = 1024ull * 1024; break;
        case 'G': case 'g': scale = 1024ull * 1024 * 1024; break;
        default: break;
    }
    std::string_view digits = text;
    if (scale != 1) digits.remove_suffix(1);
    std::uint64_t v = 0;
    if (!whole_number(digits, v) || v > UINT64_MAX / scale) return false;
    out = v * scale;
    return true;
}

std::optional<bool> boolean_word(std::string_view t) noexcept {
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    return std::nullopt;
}

std::optional<bool> boolean_word_ignoring_case(std::string_view t) noexcept {
    std::string lower(t.size(), '\0');
    for (std::size_t i = 0; i < t.size(); ++i)
        lower[i] = static_cast<char>(t[i] >= 'A' && t[i] <= 'Z' ? t[i] - 'A' + 'a' : t[i]);
    return boolean_word(lower);
}

namespace {

// ------------------------------------------------------------ member access
// One set/get/number triple per kind of member, instantiated per member, so a
// table entry names its member once.

template <auto member>
struct bytes_member {
    static void set(config& c, std::string_view text, const knob& k, std::string_view spelled) {
        std::uint64_t v = 0;
        if (!bytes_from_text(text, v)) refuse(k, spelled, text, "expected " + accepted(k));
        c.*member = static_cast<std::size_t>(v);
    }
    static std::string get(const config& c) { return format_bytes(c.*member); }
    static std::uint64_t number(const config& c) { return c.*member; }
};

template <auto member>
struct count_member {
    static void set(config& c, std::string_view text, const knob& k, std::string_view spelled) {
        std::uint64_t v = 0;
        if (!whole_number(text, v)) refuse(k, spelled, text, "expected " + accepted(k));
        // Saturate: a huge count stays huge and the range check refuses it,
        // echoing the text the user gave.
        c.*member = static_cast<std::uint32_t>(std::min<std::uint64_t>(v, UINT32_MAX));
    }
    static std::string get(const config& c) { return std::to_string(c.*member); }
    static std::uint64_t number(const config& c) { return c.*member; }
};

template <auto member>
struct text_member {
    static void set(config& c, std::string_view text, const knob&, std::string_view) { c.*member = std::string(text); }
    static std::string get(const config& c) { return c.*member; }
};

template <auto member>
struct bool_member {
    static void set(config& c, std::string_view t, const knob& k, std::string_view spelled) {
        if (const std::optional<bool> b = boolean_word(t)) c.*member = *b;
        else refuse(k, spelled, t, "expected " + accepted(k));
    }
    static std::string get(const config& c) { return c.*member ? "on" : "off"; }
};

template <auto member>
struct seconds_member {
    static void set(config& c, std::string_view text, const knob& k, std::string_view spelled) {
        double v = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) || v <= 0)
            refuse(k, spelled, text, "expected " + accepted(k));
        c.*member = v;
    }
    static std::string get(const config& c) {
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, c.*member);  // shortest text that reads back
        return std::string(buf, r.ptr);
    }
};

// A knob that takes one word of its enum's table (words.hpp).
template <auto member>
struct choice_member {
    using value_type = std::remove_cvref_t<decltype(std::declval<config&>().*member)>;
    static void set(config& c, std::string_view t, const knob& k, std::string_view spelled) {
        if (!value_of(t, c.*member))
            throw config_error("buddy: unknown " + std::string(k.name) + " '" + std::string(t) + "': expected " +
                               std::string(k.choices) + " (" + std::string(spelled) + ")");
    }
    static std::string get(const config& c) { return std::string(word_of(c.*member)); }
    static constexpr std::string_view words = word_list<value_type>::text;
};
using placement_member = choice_member<&config::where>;
using wait_member = choice_member<&config::wait>;
using route_member = choice_member<&config::route>;

template <typename M>
constexpr knob entry(std::string_view name, form kind, std::string_view unit, std::string_view description) {
    knob k{};
    k.name = name;
    k.kind = kind;
    k.unit = unit;
    k.description = description;
    k.set = &M::set;
    k.get = &M::get;
    if constexpr (requires(const config& c) { M::number(c); }) k.number = &M::number;
    return k;
}

template <typename M>
constexpr knob ranged(std::string_view name, form kind, std::string_view unit, std::uint64_t lo, std::uint64_t hi,
                      std::string_view description) {
    knob k = entry<M>(name, kind, unit, description);
    k.min = lo;
    k.max = hi;
    return k;
}

constexpr knob unset_is(knob k, std::string_view unset_means) {
    k.unset_means = unset_means;
    return k;
}

using kr = knob_range;

constexpr knob with_choices(knob k, std::string_view choices) {
    k.choices = choices;
    return k;
}

constexpr knob power_of_two(knob k) {
    k.power_of_two = true;
    return k;
}

constexpr knob job_wide(knob k) {
    k.job_wide = true;
    return k;
}

// The table.  Ranges come from knob_range (public, since the router checks a
// rank's hello with them); defaults from the member initialisers of config.
const knob the_table[] = {
    job_wide(with_choices(entry<placement_member>("placement", form::choice, "placement", "where routing runs"),
                          placement_member::words)),
    job_wide(with_choices(entry<route_member>("route", form::choice, "route",
                                              "next hops between routers (inproc: ranks); see docs/routing.md"),
                          route_member::words)),
    job_wide(ranged<bytes_member<&config::granularity>>("granularity", form::bytes, "bytes", kr::granularity_min,
                                                        kr::granularity_max, "batch size: a batch is sent once it holds this much")),
    job_wide(ranged<count_member<&config::depth>>("depth", form::count, "batches", kr::depth_min, kr::depth_max,
                                                  "batches in flight per next hop before the sender waits")),
    job_wide(ranged<bytes_member<&config::max_message>>("max-message", form::bytes, "bytes", kr::max_message_min,
                                                        kr::max_message_max, "largest payload of one async()")),
    entry<seconds_member<&config::timeout_seconds>>("timeout", form::seconds, "seconds",
                                                    "longest wait on another party without progress (barrier() included: it then names the rank that did not arrive)"),
    unset_is(entry<text_member<&config::report_path>>("report", form::path, "path",
                                                            "JSON counter report (ranks and routers) written at the end; see docs/counters.md"),
                   "none"),
    job_wide(ranged<count_member<&config::router_threads>>("router-threads", form::count, "threads", kr::router_threads_min,
                                                           kr::router_threads_max, "threads per router (host, dpu)")),
    job_wide(ranged<count_member<&config::routers_per_node>>("routers-per-node", form::count, "routers",
                                                             kr::routers_per_node_min, kr::routers_per_node_max,
                                                             "routers per node; ranks are split between them (host)")),
    unset_is(entry<text_member<&config::router_cores>>("router-cores", form::cpu_list, "cores",
                                                             "cores for the routers a rank starts (host)"),
                   "chosen by hwloc"),
    unset_is(entry<text_member<&config::router_bin>>("router-bin", form::program, "path",
                                                           "the buddy-router a rank starts if none listens (host)"),
                   "searched"),
    job_wide(power_of_two(ranged<bytes_member<&config::ring_bytes>>("ring-bytes", form::bytes, "bytes", kr::ring_bytes_min,
                                                                    kr::ring_bytes_max,
                                                                    "ring size per rank and router thread (host, dpu)"))),
    unset_is(entry<text_member<&config::router_socket>>("router-socket", form::socket, "path",
                                                              "control socket of the router to attach to (host; {i}: router index, {host}: host name)"),
                   "per user and host"),
    unset_is(entry<text_member<&config::dpu_map>>("dpu-map", form::file, "path",
                                                        "which router serves each host: lines 'host-name address:port' (dpu; see docs/dpu.md)"),
             "none"),
    with_choices(entry<wait_member>("wait", form::choice, "policy",
                                    "how waiting ranks and routers use their core: spin, yield, or auto (spin when "
                                    "ranks and routers fit the cores and the node was otherwise idle at start)"),
                 wait_member::words),
    entry<bool_member<&config::verbose>>("verbose", form::boolean, "boolean", "print the settings in force at start"),
    job_wide(entry<bool_member<&config::checksum>>("checksum", form::boolean, "boolean",
                                                   "CRC-32C over every batch and ring chunk, verified at every hop; corruption fails the job")),
    job_wide(entry<bool_member<&config::node_rings>>("node-rings", form::boolean, "boolean",
                                                     "inproc: ranks of one node pass batches through shared-memory rings (off: over UCX)")),
};

std::string upper_with_underscores(std::string_view name) {
    std::string s;
    for (char ch : name) s += (ch == '-') ? '_' : static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
    return s;
}

std::string range_text(const knob& k) {
    if (k.kind == form::bytes) return format_bytes(k.min) + " to " + format_bytes(k.max);
    return std::to_string(k.min) + " to " + std::to_string(k.max);
}

}  // namespace

std::span<const knob> table() noexcept { return the_table; }

const knob& find(std::string_view name) {
    for (const knob& k : the_table)
        if (k.name == name) return k;
    throw std::out_of_range("buddy: no knob named '" + std::string(name) + "'");
}

std::string env_of(const knob& k) { return "BUDDY_" + upper_with_underscores(k.name); }
std::string flag_of(const knob& k) { return "--buddy-" + std::string(k.name); }

std::string default_text(const knob& k) {
    std::string v = k.get(config{});
    if (!v.empty()) return v;
    // Appended, not "(" + ...: GCC 12 warns (-Wrestrict, a false positive) on the temporary.
    v.append("(").append(k.unset_means).append(")");
    return v;
}

std::string accepted(const knob& k) {
    switch (k.kind) {
        case form::choice: return "one of " + std::string(k.choices);
        case form::bytes:
            return "a byte count from " + range_text(k) + (k.power_of_two ? ", a power of two" : "") +
                   ", as 4096, 64K or 1M";
        case form::count: return "a whole number of " + std::string(k.unit) + " from " + range_text(k);
        case form::seconds: return "a positive number of seconds";
        case form::boolean: return "one of 1, 0, true, false, yes, no, on, off";
        case form::path: return "a file path";
        case form::socket: return "an absolute path whose directory exists, or whose directory's parent does";
        case form::cpu_list: return "cores of this machine as numbers and ranges, such as 6,7 or 6-7";
        case form::program: return "the path of an executable buddy-router";
        case form::file: return "the path of a readable file";
    }
    return {};
}

std::string markdown_table() {
    std::string t = "| variable | flag | unit | default | meaning |\n|---|---|---|---|---|\n";
    for (const knob& k : the_table) {
        std::string unit;
        switch (k.kind) {
            case form::choice: unit = "one of " + std::string(k.choices); break;
            case form::bytes:
                unit = "bytes (`K`, `M`, `G`), " + range_text(k) + (k.power_of_two ? ", a power of two" : "");
                break;
            case form::count: unit = std::string(k.unit) + ", " + range_text(k); break;
            case form::socket: unit = "absolute path"; break;
            case form::cpu_list: unit = "core list (`6,7` or `6-7`)"; break;
            default: unit = std::string(k.unit); break;
        }
        const std::string value = k.get(config{});
        const std::string shown = value.empty() ? std::string(k.unset_means) : "`" + value + "`";
        t += "| `" + env_of(k) + "` | `" + flag_of(k) + "` | " + unit + " | " + shown + " | " +
             std::string(k.description) + " |\n";
    }
    return t;
}

std::string format_bytes(std::uint64_t n) {
    if (n == 0) return "0";
    if (n % (1024ull * 1024 * 1024) == 0) return std::to_string(n >> 30) + "G";
    if (n % (1024ull * 1024) == 0) return std::to_string(n >> 20) + "M";
    if (n % 1024 == 0) return std::to_string(n >> 10) + "K";
    return std::to_string(n);
}

void refuse(const knob& k, std::string_view spelled, std::string_view text, const std::string& problem) {
    std::string m = "buddy: invalid " + std::string(spelled) + " '" + std::string(text) + "'";
    if (spelled != k.name) m += " (knob " + std::string(k.name) + ")";
    throw config_error(m + ": " + problem);
}

void apply_text(config& c, const knob& k, std::string_view text, knob_source source, std::string_view spelled) {
    if (text.empty()) {
        // Uniform for every knob: an empty value is a mistake (an unset shell
        // variable, a stray '='), never a silent default.
        const std::string how = source == knob_source::environment ? "unset " + std::string(spelled)
                                                                   : "leave " + std::string(spelled) + " out";
        refuse(k, spelled, text, "empty; " + how + " for the default: " + default_text(k));
    }
    k.set(c, text, k, spelled);
    c.given.push_back({std::string(k.name), source, std::string(spelled), std::string(text), k.get(c)});
}

origin origin_of(const config& c, const knob& k) {
    const std::string now = k.get(c);
    for (auto g = c.given.rbegin(); g != c.given.rend(); ++g) {
        if (g->knob != k.name) continue;
        if (g->value == now) return {g->source, g->spelled, g->text};
        break;  // the program changed it after the user gave it
    }
    const knob_source s = now == k.get(config{}) ? knob_source::default_value : knob_source::explicit_value;
    return {s, std::string(k.name), now};
}

std::vector<int> parse_cpu_list(std::string_view text, std::string_view spelled) {
    auto bad = [&]() -> void {
        throw config_error("buddy: invalid " + std::string(spelled) + " '" + std::string(text) +
                           "': expected core numbers and ranges such as 0-3,8,10-11");
    };
    std::vector<int> out;
    // One flag per possible core: searching `out` for each core made a wide
    // range ("0-65535") quadratic, seconds of start-up (found by fuzz_config).
    std::vector<bool> listed(65536);
    if (text.empty()) bad();
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t comma = std::min(text.find(',', at), text.size());
        const std::string_view item = text.substr(at, comma - at);
        const std::size_t dash = item.find('-');
        std::uint64_t lo = 0, hi = 0;
        const bool ok = dash == std::string_view::npos
                            ? whole_number(item, lo)
                            : whole_number(item.substr(0, dash), lo) && whole_number(item.substr(dash + 1), hi);
        if (dash == std::string_view::npos) hi = lo;
        if (!ok || hi < lo || hi > 65535) bad();
        for (std::uint64_t cpu = lo; cpu <= hi; ++cpu)
            if (!listed[cpu]) {
                listed[cpu] = true;
                out.push_back(static_cast<int>(cpu));
            }
        at = comma + 1;
    }
    return out;
}

void check(const config& c, const knob& k) {
    const origin o = origin_of(c, k);
    switch (k.kind) {
        case form::bytes:
        case form::count: {
            const std::uint64_t v = k.number(c);
            // "<spelled> <text> is out of range: ..." is what buddyrun printed
            // before the table existed; scripts and tests match it.
            const std::string knob_named = o.spelled == k.name ? "" : " (knob " + std::string(k.name) + ")";
            if (v < k.min || v > k.max)
                throw config_error("buddy: " + o.spelled + " " + o.shown + " is out of range: accepted " +
                                   range_text(k) + " " + std::string(k.unit) + knob_named);
            if (k.power_of_two && (v & (v - 1)) != 0)
                throw config_error("buddy: " + o.spelled + " " + o.shown + " is not a power of two: accepted " +
                                   "powers of two from " + range_text(k) + knob_named);
            return;
        }
        case form::seconds:
            if (!(c.timeout_seconds > 0) || !std::isfinite(c.timeout_seconds))
                refuse(k, o.spelled, o.shown, "expected " + accepted(k));
            return;
        case form::cpu_list: {
            const std::string text = k.get(c);
            if (text.empty()) return;
            std::vector<int> cpus;
            try {
                cpus = parse_cpu_list(text, o.spelled);
            } catch (const config_error&) {
                refuse(k, o.spelled, o.shown, "expected " + accepted(k));
            }
            check_cpus_exist(k, o, cpus);
            return;
        }
        case form::program: {
            const std::string path = k.get(c);
            // Only placement host starts routers, so only there is it worth
            // running the program to ask what it is.
            if (!path.empty()) check_router_program(k, o, path, c.where == placement::host);
            return;
        }
        case form::socket: {
            const std::string path = k.get(c);
            if (!path.empty()) check_socket_path(k, o, path);
            return;
        }
        case form::file: {
            const std::string path = k.get(c);
            // Only placement dpu reads the map; its lines are checked where
            // they are parsed (lib/control/dpu_map.cpp), by buddyrun and the ranks.
            if (!path.empty() && c.where == placement::dpu) check_readable_file(k, o, path);
            return;
        }
        case form::choice:
        case form::boolean:
        case form::path: return;  // every value the member can hold is accepted
    }
}

}  // namespace buddy::knobs
