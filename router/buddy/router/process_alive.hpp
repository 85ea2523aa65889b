// Whether a process of this node still exists (the router's liveness check
// of ranks, and of routers that left segments behind).
#pragma once

#include <signal.h>

#include <cerrno>
#include <cstdint>

namespace buddy::router {

/// EPERM means it exists but belongs to someone else: alive all the same.
inline bool pid_alive(std::uint32_t pid) {
    return pid != 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace buddy::router
