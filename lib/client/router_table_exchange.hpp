// Placement host: the MPI side of setup.  Ranks learn which router serves
// each of them and every router's UCX addresses, and the first rank of each
// router hands that table to it (routers have no MPI).
#pragma once

#include <cstdint>

#include "router_client.hpp"
#include "runtime.hpp"

namespace buddy::detail {

/// This rank's index among the ranks of its node (shared-memory domain).
unsigned local_index_on_node(runtime& rt);

/// Collective over the job.  Returns how many routers serve the job.
std::uint32_t exchange_router_table(runtime& rt, router_client& client);

}  // namespace buddy::detail
