#include "buddy/router/log.hpp"

#include <unistd.h>

#include <cstdio>

namespace buddy::router {

void log(const char* fmt, const std::string& a, const std::string& b) {
    std::fprintf(stderr, "buddy-router[%d]: ", static_cast<int>(getpid()));
    std::fprintf(stderr, fmt, a.c_str(), b.c_str());
    std::fputc('\n', stderr);
}

std::string hex_id(std::uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}

}  // namespace buddy::router
