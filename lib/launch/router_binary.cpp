// The search for buddy-router; see router_binary.hpp for the order and why.
#include "buddy/launch/router_binary.hpp"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#ifndef BUDDY_INSTALL_BINDIR
#error "BUDDY_INSTALL_BINDIR must name the install bindir (set by lib/launch/meson.build)"
#endif

namespace buddy::launch {

namespace {

constexpr std::string_view router_name = "buddy-router";

bool is_executable_file(const std::string& path) {
    return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string router_in(std::string_view directory) {
    std::string path(directory);
    path += '/';
    path += router_name;
    return path;
}

}  // namespace

std::string running_executable() {
    char buffer[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

std::string_view install_bindir() noexcept { return BUDDY_INSTALL_BINDIR; }

std::string find_router_binary(std::string_view chosen) {
    const char* path = std::getenv("PATH");
    return find_router_binary(chosen, running_executable(), path ? path : "");
}

std::string find_router_binary(std::string_view chosen, std::string_view running, std::string_view path_variable) {
    if (!chosen.empty()) return std::string(chosen);
    if (!running.empty()) {
        const std::string here = directory_of(std::string(running));
        for (const std::string& candidate : {router_in(here), router_in(here + "/../router"),
                                             router_in(here + "/../../router")})
            if (is_executable_file(candidate)) return candidate;
    }
    std::size_t at = 0;
    while (at < path_variable.size()) {
        const std::size_t colon = std::min(path_variable.find(':', at), path_variable.size());
        // An empty entry would mean the current directory: never start a
        // router from wherever the job happens to run.
        if (colon > at)
            if (const std::string candidate = router_in(path_variable.substr(at, colon - at));
                is_executable_file(candidate))
                return candidate;
        at = colon + 1;
    }
    if (const std::string candidate = router_in(install_bindir()); is_executable_file(candidate)) return candidate;
    return {};
}

}  // namespace buddy::launch
