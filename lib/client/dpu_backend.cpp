// Placement dpu: the rank's side of a buddy-router on a DPU, reached over TCP
// (control) and UCX RMA (the rings).
//
// The router cannot map this process's memory, so each ring has two copies
// (lib/transport/rma_ring.hpp): the rank writes records into its outbound
// staging copy and publishes a chunk by put, fence, atomic add of the tail
// into the router's copy; the router puts inbound batches into this rank's
// inbound ring, which it polls locally.  Credit goes back the same way.  The
// data path is ring_backend's, with the RMA publish and release policies;
// what is here is how the rings are made and reached:
//   hello (hello_flag_rma)  ->  reply: per router thread its RMA worker and sides
//   register our copies, connect, attached (our worker and sides)  ->  the router connects back
// Without RDMA hardware (UCX over tcp) the writes travel as messages that the
// target applies when it progresses (transport::carrier, message_writes.hpp),
// so every poll progresses our worker (progress()).
#include "dpu_router.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "buddy/control/bodies.hpp"
#include "buddy/control/dpu_map.hpp"
#include "buddy/control/node_paths.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/memory_region.hpp"
#include "buddy/transport/message_writes.hpp"
#include "buddy/transport/rma.hpp"
#include "buddy/transport/rma_ring.hpp"
#include "buddy/transport/worker.hpp"
#include "ring_backend.hpp"

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

namespace {

namespace tp = transport;

/// RMA operations in flight per router thread's channel (put, fence and add
/// per chunk, plus credit): enough that a publish rarely waits for a slot.
constexpr std::size_t rma_depth = 1024;

class dpu_rings {
public:
    using producer = tp::rma_producer;
    using consumer = tp::rma_consumer;
    static constexpr const char* placement = "dpu";
    static constexpr const char* carried_by = "rings over UCX RMA, control";

    dpu_rings() = default;
    dpu_rings(const dpu_rings&) = delete;
    dpu_rings& operator=(const dpu_rings&) = delete;

    ~dpu_rings() {
        // The ring objects using the channels are gone (ring_backend's members
        // after this one); keys before endpoints, endpoints before the worker.
        remote_.clear();
        channels_.clear();
        for (auto& ep : endpoints_) ep->close(*worker_, 0.2);
        endpoints_.clear();
        regions_.clear();
        writes_.reset();  // before the unmapping (and the worker)
        if (memory_ != nullptr) ::munmap(memory_, mapped_);
    }

    void attach(runtime& rt, router_client& client, std::size_t capacity, std::vector<producer>& out,
                std::vector<consumer>& in) {
        const router_attachment& router = client.router();
        const std::uint32_t threads = router.threads;
        one_ = ring::ring_bytes(capacity);
        stride_ = (one_ + 4095) & ~std::size_t{4095};
        worker_.emplace("rank " + std::to_string(rt.rank()), 0, tp::worker_features::am_and_rma);
        // Our copies, two per thread, in one anonymous mapping (page-aligned, zeroed).
        mapped_ = 2 * stride_ * threads;
        memory_ = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory_ == MAP_FAILED) {
            memory_ = nullptr;
            throw std::system_error(errno, std::generic_category(), "mmap of the rings over RMA");
        }
        // The router writes credit into our staging heads, chunks and tails
        // into our inbound rings.
        writes_.emplace(*worker_);
        writes_->expose(memory_, mapped_);
        const double stall = rt.settings().timeout_seconds;
        std::vector<control::rma_thread_rings> mine(threads);
        for (std::uint32_t t = 0; t < threads; ++t) {
            void* o = out_ring(t);
            void* i = in_ring(t);
            ring::init_ring(o, capacity);
            ring::init_ring(i, capacity);
            const tp::memory_region& ro = *regions_.emplace_back(std::make_unique<tp::memory_region>(*worker_, o, one_));
            const tp::memory_region& ri = *regions_.emplace_back(std::make_unique<tp::memory_region>(*worker_, i, one_));
            // by_transport: the router is on another machine; a dead one fails
            // our operations instead of leaving them waiting.
            tp::endpoint& ep = *endpoints_.emplace_back(std::make_unique<tp::endpoint>(
                *worker_, router.rma[t].worker, router.name + " thread " + std::to_string(t),
                tp::endpoint::failure_detection::by_transport));
            tp::rma_channel& ch = *channels_.emplace_back(
                std::make_unique<tp::rma_channel>(*worker_, ep, tp::carrier_for(ep), rma_depth, stall));
            // Chunks go into the router's copy of the outbound ring; credit for
            // the inbound ring into its staging copy.
            const tp::remote_ring& their_out = *remote_.emplace_back(
                std::make_unique<tp::remote_ring>(ep, tp::rma_ring_side::from_bytes(router.rma[t].outbound), one_));
            const tp::remote_ring& their_in = *remote_.emplace_back(
                std::make_unique<tp::remote_ring>(ep, tp::rma_ring_side::from_bytes(router.rma[t].inbound), one_));
            out.emplace_back(o, tp::rma_publish(ch, their_out, o));
            in.emplace_back(i, tp::rma_release(ch, their_in, i));
            mine[t] = control::rma_thread_rings{worker_->address(), tp::rma_ring_side::of(ro).to_bytes(),
                                                tp::rma_ring_side::of(ri).to_bytes()};
        }
        control::writer w(control::type::attached);
        control::put_rma_rings(w, mine);
        client.attached(w.done());  // the router connects back before it answers
    }

    void* out_ring(std::uint32_t t) const { return static_cast<std::byte*>(memory_) + 2 * t * stride_; }
    void* in_ring(std::uint32_t t) const { return static_cast<std::byte*>(memory_) + (2 * t + 1) * stride_; }

    /// Lands the router's puts and credit; retires our completed operations.
    bool progress() noexcept {
        bool moved = false;
        for (auto& ch : channels_) moved |= ch->progress();
        return moved;
    }

    /// Our last operations (credit, say) complete before we detach and tear
    /// the worker down; a router that is gone or slow is not waited for long.
    void quiesce() noexcept {
        for (auto& ch : channels_) {
            try {
                ch->flush(1.0);
            } catch (const std::exception&) {  // the job is ending; nothing to save
            }
        }
    }

private:
    std::optional<tp::worker> worker_;
    std::optional<tp::write_target> writes_;  ///< after the worker: gone before it
    void* memory_ = nullptr;
    std::size_t mapped_ = 0, one_ = 0, stride_ = 0;
    std::vector<std::unique_ptr<tp::memory_region>> regions_;
    std::vector<std::unique_ptr<tp::endpoint>> endpoints_;
    std::vector<std::unique_ptr<tp::rma_channel>> channels_;
    std::vector<std::unique_ptr<tp::remote_ring>> remote_;
};

}  // namespace

std::unique_ptr<backend> make_dpu_backend(runtime& rt) {
    // Collective (every rank of the job calls it): before anything can fail
    // on one rank only.
    const unsigned local_index = local_index_on_node(rt);
    router_endpoint where{dpu_router_address(rt.settings(), control::this_host())};
    where.rma = true;
    // Connects (bounded by BUDDY_TIMEOUT; fatal naming the address), says
    // hello, attaches the rings over RMA, exchanges the table.
    return std::make_unique<ring_backend<dpu_rings>>(rt, std::move(where), local_index);
}

}  // namespace buddy::detail
