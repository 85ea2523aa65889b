// The rank side of the control protocol's `stats` request: a router's
// per-thread counters for this job, for the end-of-job report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "buddy/stats.hpp"
#include "buddy/wire/control.hpp"

namespace buddy::detail {

class runtime;

/// Sends `stats` for the runtime's job through `request` (which returns the
/// reader of the matching reply, or ends the job itself) and decodes the reply
/// into one report per router thread; a malformed reply is fatal.
std::vector<router_report> ask_router_stats(
    runtime& rt, const std::function<wire::control::reader(const std::vector<std::byte>&)>& request,
    std::uint32_t router_index, const std::string& node, const std::string& router_name);

}  // namespace buddy::detail
