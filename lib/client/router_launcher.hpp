// Placement host: starting a buddy-router on this node when none listens.
#pragma once

#include <string>

#include "runtime.hpp"

namespace buddy::detail {

/// Starts a buddy-router (router `index` of `routers` on this node) that
/// serves `socket_path`, detached from this rank: it outlives the rank and is
/// nobody's zombie; its output goes to `socket_path`.log.  Returns the binary
/// it started.  Fatal when there is none to start or it cannot fork.
std::string start_router(runtime& rt, const std::string& socket_path, unsigned index, unsigned routers);

}  // namespace buddy::detail
