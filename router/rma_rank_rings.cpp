#include "buddy/router/rma_rank_rings.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <system_error>

#include "buddy/ring/spsc_ring.hpp"

namespace buddy::router {

rma_rank_rings::rma_rank_rings(transport::worker& w, transport::write_target& writes, std::size_t capacity)
    : w_(w), writes_(writes), ring_bytes_(ring::ring_bytes(capacity)) {
    // One anonymous mapping for both copies: page-aligned (init_ring needs 64
    // bytes), zeroed, and placed on first touch, which is this router thread
    // (the transport's writes land from its progress calls).
    const std::size_t offset = (ring_bytes_ + 4095) & ~std::size_t{4095};
    memory_ = ::mmap(nullptr, 2 * offset, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory_ == MAP_FAILED) {
        memory_ = nullptr;
        throw std::system_error(errno, std::generic_category(),
                                "mmap of " + std::to_string(2 * offset) + " bytes for a rank's rings over RMA");
    }
    out_ = memory_;
    in_ = static_cast<std::byte*>(memory_) + offset;
    ring::init_ring(out_, capacity);
    ring::init_ring(in_, capacity);
    try {
        out_region_ = transport::memory_region(w, out_, ring_bytes_);
        in_region_ = transport::memory_region(w, in_, ring_bytes_);
        // The rank writes chunks and tail into out_, credit into in_'s head.
        writes_.expose(memory_, 2 * offset);
    } catch (...) {
        ::munmap(memory_, 2 * offset);
        throw;
    }
}

rma_rank_rings::~rma_rank_rings() {
    // The channel first (it may hold requests), then the endpoint: a rank that
    // detached answers the close at once; a dead one is forced, briefly.
    rank_out_.reset();
    rank_in_.reset();
    channel_.reset();
    ep_.close(w_, 0.2);
    // Before the unmapping: a late write from the rank is refused, not applied.
    if (memory_ != nullptr) writes_.withdraw(memory_);
    out_region_ = transport::memory_region();
    in_region_ = transport::memory_region();
    if (memory_ != nullptr) ::munmap(memory_, 2 * ((ring_bytes_ + 4095) & ~std::size_t{4095}));
}

control::rma_thread_rings rma_rank_rings::offer() const {
    control::rma_thread_rings t;
    t.worker = w_.address();
    t.outbound = transport::rma_ring_side::of(out_region_).to_bytes();
    t.inbound = transport::rma_ring_side::of(in_region_).to_bytes();
    return t;
}

void rma_rank_rings::connect(const control::rma_thread_rings& rank, const std::string& rank_name, std::size_t depth,
                             double stall_timeout_s) {
    // by_transport: the rank is on another machine (or namespace); UCX then
    // reports a dead rank and its operations fail instead of waiting.
    ep_ = transport::endpoint(w_, rank.worker, rank_name, transport::endpoint::failure_detection::by_transport);
    channel_ = std::make_unique<transport::rma_channel>(w_, ep_, transport::carrier_for(ep_), depth, stall_timeout_s);
    rank_out_.emplace(ep_, transport::rma_ring_side::from_bytes(rank.outbound), ring_bytes_);
    rank_in_.emplace(ep_, transport::rma_ring_side::from_bytes(rank.inbound), ring_bytes_);
}

std::string rma_rank_rings::take_failure() {
    if (failure_taken_ || !failed()) return {};
    failure_taken_ = true;
    const std::string why = channel_->failed() ? channel_->error()
                                               : std::string("the endpoint failed: ") + ucs_status_string(ep_.status());
    return "the rings over RMA to " + ep_.peer_name() + " failed (" + why + "): records to and from it are lost";
}

}  // namespace buddy::router
