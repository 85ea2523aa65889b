#include "buddy/control/node_paths.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>

namespace buddy::control {

namespace {

std::string replace_all(std::string s, std::string_view what, std::string_view with) {
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
    return s;
}

// Reads an unsigned number in `base` at `at` (no sign, no prefix); advances `at` past it.
bool read_number(std::string_view s, std::size_t& at, std::uint64_t& v, int base) {
    const char* first = s.data() + at;
    const char* last = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(first, last, v, base);
    if (ec != std::errc() || ptr == first) return false;
    at = static_cast<std::size_t>(ptr - s.data());
    return true;
}

bool read_char(std::string_view s, std::size_t& at, char c) {
    if (at >= s.size() || s[at] != c) return false;
    ++at;
    return true;
}

}  // namespace

std::string this_host() {
    char h[256] = {};
    ::gethostname(h, sizeof h - 1);
    return h;
}

std::string host_in_names(std::string_view host) {
    std::string s(host);
    for (char& c : s) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
        if (!keep) c = '_';
    }
    return s.empty() ? "_" : s;
}

std::string default_socket_path(unsigned uid, std::string_view host, unsigned index) {
    return "/tmp/buddy-" + std::to_string(uid) + "/router-" + host_in_names(host) + "-" + std::to_string(index) +
           ".sock";
}

std::string socket_path(std::string_view configured, unsigned uid, std::string_view host, unsigned index) {
    if (configured.empty()) return default_socket_path(uid, host, index);
    std::string s = replace_all(std::string(configured), "{host}", host_in_names(host));
    if (s.find("{i}") != std::string::npos) return replace_all(std::move(s), "{i}", std::to_string(index));
    if (index == 0) return s;
    return s + "-" + std::to_string(index);
}

std::string segment_name(unsigned uid, std::string_view host, std::uint32_t router_pid, std::uint64_t job,
                         std::uint32_t rank, ring_direction d) {
    char job_hex[24];
    std::snprintf(job_hex, sizeof job_hex, "%016llx", static_cast<unsigned long long>(job));
    return "/buddy-" + std::to_string(uid) + "-" + host_in_names(host) + "-" + std::to_string(router_pid) + "-" +
           job_hex + "-" + std::to_string(rank) + (d == ring_direction::outbound ? "-out" : "-in");
}

std::uint32_t segment_router_pid(std::string_view entry, unsigned uid, std::string_view host) {
    const std::string prefix = "buddy-" + std::to_string(uid) + "-" + host_in_names(host) + "-";
    if (entry.substr(0, prefix.size()) != prefix) return 0;
    // The rest must be exactly what segment_name() writes after the host:
    // <pid>-<16 hex>-<rank>-{out,in}.  A host "a-1" makes names that start
    // like host "a"'s but have one more field, so they fail here.
    std::size_t at = prefix.size();
    std::uint64_t pid = 0, job = 0, rank = 0;
    if (!read_number(entry, at, pid, 10) || pid == 0 || pid > 0xFFFFFFFFu || !read_char(entry, at, '-')) return 0;
    const std::size_t hex_start = at;
    if (!read_number(entry, at, job, 16) || at - hex_start != 16 || !read_char(entry, at, '-')) return 0;
    if (!read_number(entry, at, rank, 10) || !read_char(entry, at, '-')) return 0;
    const std::string_view role = entry.substr(at);
    if (role != "out" && role != "in") return 0;
    return static_cast<std::uint32_t>(pid);
}

}  // namespace buddy::control
