// Placement host: rings to a buddy-router on this node, in two shared memory
// segments the router made (one ring per router thread in each).  The data
// path is ring_backend's; what is here is how the rings are reached.
#include <unistd.h>

#include <memory>
#include <vector>

#include "buddy/control/node_paths.hpp"
#include "buddy/ring/shm_segment.hpp"
#include "ring_backend.hpp"

namespace buddy::detail {

namespace {

struct host_rings {
    using producer = ring::producer;
    using consumer = ring::consumer;
    static constexpr const char* placement = "host";
    static constexpr const char* carried_by = "socket";

    void attach(runtime&, router_client& client, std::size_t capacity, std::vector<producer>& out,
                std::vector<consumer>& in) {
        const router_attachment& router = client.router();
        one_ = ring::ring_bytes(capacity);
        out_seg_ = ring::shm_segment::open(router.out_segment);
        in_seg_ = ring::shm_segment::open(router.in_segment);
        if (out_seg_.size() < one_ * router.threads || in_seg_.size() < one_ * router.threads)
            throw std::runtime_error("the ring segments are too small");
        for (std::uint32_t t = 0; t < router.threads; ++t) {
            ring::check_ring(out_ring(t), one_);
            ring::check_ring(static_cast<std::byte*>(in_seg_.data()) + t * one_, one_);
            out.emplace_back(out_ring(t));
            in.emplace_back(static_cast<std::byte*>(in_seg_.data()) + t * one_);
        }
        // Both mapped: the router may unlink the names.
        client.attached();
    }

    void* out_ring(std::uint32_t t) const { return static_cast<std::byte*>(out_seg_.data()) + t * one_; }
    /// Shared memory: nothing to progress; compiles away in poll().
    bool progress() noexcept { return false; }
    void quiesce() noexcept {}

    std::size_t one_ = 0;
    ring::shm_segment out_seg_, in_seg_;
};

}  // namespace

std::unique_ptr<backend> make_host_backend(runtime& rt) {
    const config& cfg = rt.settings();
    const unsigned local_index = local_index_on_node(rt);
    const unsigned routers = cfg.routers_per_node;
    const unsigned index = local_index % routers;
    router_endpoint where{control::socket_path(cfg.router_socket, static_cast<unsigned>(getuid()), control::this_host(),
                                               index),
                          local_index < routers, index, routers};
    return std::make_unique<ring_backend<host_rings>>(rt, std::move(where), local_index);
}

}  // namespace buddy::detail
