// Placement dpu: where this node's router is (the dpu map), for the rank side.
#pragma once

#include <string>
#include <string_view>

#include "buddy/config.hpp"

namespace buddy::detail {

/// The tcp:// address of the router serving `host`'s ranks, from the dpu map
/// `cfg.dpu_map` (BUDDY_DPU_MAP).  Throws config_error: no map given, the map
/// unreadable or malformed (naming file:line), or no line for `host`.
std::string dpu_router_address(const config& cfg, std::string_view host);

}  // namespace buddy::detail
