#include "buddy/transport/memory_region.hpp"

#include <cstring>
#include <string>
#include <utility>

namespace buddy::transport {

namespace {
std::string describe(const worker& w, const void* address, std::size_t bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%p", address);
    return w.name() + ", " + std::to_string(bytes) + " bytes at " + buf;
}
}  // namespace

memory_region::memory_region(worker& w, void* address, std::size_t bytes)
    : context_(w.context()), address_(address), bytes_(bytes) {
    if (address == nullptr || bytes == 0)
        throw transport_error("cannot register memory (" + describe(w, address, bytes) + "): empty range");
    ucp_mem_map_params_t params{};
    params.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
    params.address = address;
    params.length = bytes;
    // No UCP_MEM_MAP_ALLOCATE: the ring lives in memory the caller chose
    // (its staging block, a NUMA-placed segment); UCX only registers it.
    ucs_status_t st = ucp_mem_map(context_, &params, &memh_);
    if (st != UCS_OK) {
        memh_ = nullptr;
        throw_ucs("ucp_mem_map", st, describe(w, address, bytes));
    }
    void* packed = nullptr;
    std::size_t packed_bytes = 0;
    st = ucp_rkey_pack(context_, memh_, &packed, &packed_bytes);
    if (st != UCS_OK) {
        release();
        throw_ucs("ucp_rkey_pack", st, describe(w, address, bytes));
    }
    rkey_.resize(packed_bytes);
    std::memcpy(rkey_.data(), packed, packed_bytes);
    ucp_rkey_buffer_release(packed);
}

void memory_region::release() noexcept {
    if (memh_ != nullptr) ucp_mem_unmap(context_, memh_);
    memh_ = nullptr;
}

memory_region::~memory_region() { release(); }

memory_region::memory_region(memory_region&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)),
      memh_(std::exchange(other.memh_, nullptr)),
      address_(std::exchange(other.address_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      rkey_(std::move(other.rkey_)) {}

memory_region& memory_region::operator=(memory_region&& other) noexcept {
    if (this != &other) {
        release();
        context_ = std::exchange(other.context_, nullptr);
        memh_ = std::exchange(other.memh_, nullptr);
        address_ = std::exchange(other.address_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
        rkey_ = std::move(other.rkey_);
    }
    return *this;
}

}  // namespace buddy::transport
