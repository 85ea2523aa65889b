#include "buddy/control/dpu_map.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace buddy::control {

namespace {

bool blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < line.size()) {
        while (at < line.size() && blank(line[at])) ++at;
        const std::size_t start = at;
        while (at < line.size() && !blank(line[at])) ++at;
        if (at > start) out.push_back(line.substr(start, at - start));
    }
    return out;
}

bool host_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
}

}  // namespace

const dpu_map_entry& dpu_map::router_of(std::string_view host) const {
    for (const dpu_map_entry& e : entries)
        if (e.host == host) return e;
    throw control_error("the dpu map " + file + " has no line for host '" + std::string(host) +
                        "' (add '" + std::string(host) + " ADDRESS:PORT' for its router)");
}

dpu_map parse_dpu_map(std::string_view text, const std::string& file) {
    dpu_map m;
    m.file = file;
    unsigned number = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        ++number;
        const std::string where = file + ":" + std::to_string(number) + ": ";
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        const std::vector<std::string_view> w = words_of(line);
        if (w.empty()) continue;
        if (w.size() != 2)
            throw control_error(where + "expected 'host-name address:port', found " + std::to_string(w.size()) +
                                (w.size() == 1 ? " word" : " words"));
        dpu_map_entry e;
        e.host = std::string(w[0]);
        e.line = number;
        if (e.host.size() > 64 || !std::all_of(e.host.begin(), e.host.end(), host_name_char))
            throw control_error(where + "'" + e.host + "' is not a host name");
        if (std::string why = parse_host_port(w[1], e.router); !why.empty())
            throw control_error(where + "'" + std::string(w[1]) + "' is not address:port: " + why);
        for (const dpu_map_entry& before : m.entries)
            if (before.host == e.host)
                throw control_error(where + "host '" + e.host + "' is listed again (first on line " +
                                    std::to_string(before.line) + ")");
        m.entries.push_back(std::move(e));
    }
    if (m.entries.empty()) throw control_error("the dpu map " + file + " lists no host");
    return m;
}

dpu_map read_dpu_map(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw control_error("cannot read the dpu map " + path + ": " + std::strerror(errno));
    std::ostringstream s;
    s << in.rdbuf();
    return parse_dpu_map(s.str(), path);
}

}  // namespace buddy::control
