// Which core each thread of this router runs on.
#pragma once

#include <string>
#include <vector>

namespace buddy::router {

struct core_choice {
    std::vector<int> cpus;  ///< one per router thread
    std::string why;        ///< one sentence for --verbose
};

/// `forced` (--router-cores) round-robin over the threads; otherwise router
/// `index`'s share of the node's plan (core_pinning.hpp: NIC-near spare cores).
core_choice choose_router_cores(unsigned threads, unsigned index, unsigned routers_per_node,
                                const std::vector<int>& forced);

}  // namespace buddy::router
