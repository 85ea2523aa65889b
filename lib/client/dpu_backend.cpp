// Placement dpu: the rank's side of a buddy-router on a DPU, reached over TCP.
//
// What is here is the control plane: find this node's router in the dpu map,
// connect within BUDDY_TIMEOUT, say hello with the job's secret (router_client,
// the same session as placement host's).  The data path is not in this build:
// a rank stops right after the hello, saying so.  That is where it goes (see
// "the seam" below): register the outbound staging and inbound rings with
// UCX, send their remote keys through `client` (a message after the hello),
// and publish chunks with put, fence, put (lib/ring's dpu publish policy).
#include "dpu_router.hpp"

#include <optional>

#include "buddy/control/dpu_map.hpp"
#include "buddy/control/node_paths.hpp"
#include "router_client.hpp"
#include "router_table_exchange.hpp"
#include "runtime.hpp"

namespace buddy::detail {

std::string dpu_router_address(const config& cfg, std::string_view host) {
    if (cfg.dpu_map.empty())
        throw config_error(
            "buddy: placement dpu needs a dpu map: set BUDDY_DPU_MAP (buddyrun --dpu-map FILE) to a file of lines "
            "'host-name address:port' naming each host's buddy-router (docs/dpu.md)");
    try {
        return control::read_dpu_map(cfg.dpu_map).router_of(host).router.text();
    } catch (const control::control_error& e) {
        throw config_error(std::string("buddy: placement dpu: ") + e.what());
    }
}

std::unique_ptr<backend> make_dpu_backend(runtime& rt) {
    // Collective (every rank of the job calls it): before anything can fail
    // on one rank only.
    const unsigned local_index = local_index_on_node(rt);
    const std::string address = dpu_router_address(rt.settings(), control::this_host());
    // Connects (bounded by BUDDY_TIMEOUT; fatal naming the address) and says
    // hello; a refusal (another job's secret, bad settings) is fatal with the
    // router's sentence.
    std::optional<router_client> client;
    client.emplace(rt, router_endpoint{address}, local_index);

    // ---- the seam: the dpu data path (issue 11, item 1) attaches here ----
    // The hello reply names the router (client->router()) and its UCX worker
    // addresses; the rank's rings are registered and their keys exchanged
    // next, then the table (router_table_exchange) as under placement host.

    // Until then: refused after the control plane has done its part, so the
    // errors above are real.  The client's destructor detaches in order.
    throw config_error("buddy: placement dpu: " + client->router().name +
                       " accepted this rank's hello, but the dpu data path (rings over RDMA) is not in this "
                       "build; use placement host");
}

}  // namespace buddy::detail
