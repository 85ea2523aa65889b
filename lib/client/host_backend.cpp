// Placement host: rings to a buddy-router on this node.
#include "runtime.hpp"

namespace buddy::detail {

std::unique_ptr<backend> make_host_backend(runtime&) {
    throw config_error(
        "buddy: placement 'host' needs the buddy-router service, which this build does not include yet; "
        "use BUDDY_PLACEMENT=inproc");
}

}  // namespace buddy::detail
