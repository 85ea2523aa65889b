#include "buddy/router/core_choice.hpp"

#include "buddy/router/core_pinning.hpp"

namespace buddy::router {

core_choice choose_router_cores(unsigned threads, unsigned index, unsigned routers_per_node,
                                const std::vector<int>& forced) {
    core_choice c;
    if (!forced.empty()) {
        for (unsigned t = 0; t < threads; ++t) c.cpus.push_back(forced[t % forced.size()]);
        c.why = "--router-cores";
        return c;
    }
    const node_plan plan = plan_node(probe_machine(), threads * routers_per_node, 0, {});
    for (unsigned t = 0; t < threads; ++t) c.cpus.push_back(plan.router_cpus[index * threads + t]);
    c.why = plan.why;
    return c;
}

}  // namespace buddy::router
