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

/// Where this rank's router stands among the job's routers.
struct job_routers {
    std::uint32_t count = 0;  ///< routers serving the job
    std::uint32_t index = 0;  ///< this rank's router, in the job's router order
    bool leader = false;      ///< this rank is its router's first rank: it hands over the table, asks for counters
};

/// Collective over the job.
job_routers exchange_router_table(runtime& rt, router_client& client);

}  // namespace buddy::detail
