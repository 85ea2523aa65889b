// Memory the caller owns, registered with a worker's UCX context so that peers
// can write into it (and read it) with RMA.  The caller keeps the memory alive
// and in place for the region's lifetime; the region never frees it.  What a
// peer needs to reach the memory is the address, the length and the packed
// remote key (packed_rkey()), sent out of band (the control plane).
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "buddy/transport/worker.hpp"

namespace buddy::transport {

class memory_region {
public:
    memory_region() = default;
    /// ucp_mem_map of [address, address + bytes) on `w`'s context (the worker
    /// must have worker_features::am_and_rma).  Throws transport_error naming
    /// the worker and the range.
    memory_region(worker& w, void* address, std::size_t bytes);
    ~memory_region();
    memory_region(memory_region&& other) noexcept;
    memory_region& operator=(memory_region&& other) noexcept;
    memory_region(const memory_region&) = delete;
    memory_region& operator=(const memory_region&) = delete;

    void* address() const noexcept { return address_; }
    std::size_t bytes() const noexcept { return bytes_; }
    ucp_mem_h handle() const noexcept { return memh_; }
    bool registered() const noexcept { return memh_ != nullptr; }

    /// The remote key a peer unpacks (remote_key) to access this region.
    const std::vector<std::byte>& packed_rkey() const noexcept { return rkey_; }

private:
    void release() noexcept;
    ucp_context_h context_ = nullptr;
    ucp_mem_h memh_ = nullptr;
    void* address_ = nullptr;
    std::size_t bytes_ = 0;
    std::vector<std::byte> rkey_;
};

}  // namespace buddy::transport
