// The rank side of the control protocol's `stats` request: a router's
// per-thread counters for this job, for the end-of-job report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "buddy/stats.hpp"
#include "router_client.hpp"

namespace buddy::detail {

class runtime;

/// Sends `stats` for the runtime's job to the client's router and decodes the
/// reply into one report per router thread (`router_index`: that router's
/// place in the job's router order); a malformed reply is fatal.
std::vector<router_report> ask_router_stats(runtime& rt, router_client& client, std::uint32_t router_index);

}  // namespace buddy::detail
