// A UCX context and one worker: the unit of progress.  Each thread that moves
// batches (a rank's engine, or one router thread) owns exactly one worker and
// is the only thread that touches it, so UCX runs in single-thread mode.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace buddy::transport {

/// A UCX call failed; what() names the call, the peer if any, and UCX's reason.
class transport_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_ucs(const char* call, ucs_status_t status, const std::string& context = {});

/// What a worker's context is asked to support.  Asking for RMA and atomics
/// can change which transports UCX picks for every endpoint of the worker, so
/// only the workers that carry rings over RMA (placement dpu) ask for them.
enum class worker_features {
    am,          ///< active messages only (batches between routers, host rings)
    am_and_rma,  ///< also put/get and 64-bit atomics (rings over RMA, rma_ring.hpp)
};

class worker {
public:
    /// `name` appears in UCX's diagnostics and in our error messages.
    /// Messages up to `eager_bytes` are sent eagerly (the sender's buffer is
    /// free as soon as the data is handed over), unless UCX_RNDV_THRESH is set.
    explicit worker(const std::string& name, std::size_t eager_bytes = 0,
                    worker_features features = worker_features::am);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    ucp_worker_h handle() const noexcept { return worker_; }
    ucp_context_h context() const noexcept { return context_; }
    const std::string& name() const noexcept { return name_; }

    /// This worker's address, to be handed to peers out of band.
    const std::vector<std::byte>& address() const noexcept { return address_; }

    /// Polls the network once; returns true if anything happened.
    bool progress() noexcept { return ucp_worker_progress(worker_) != 0; }

private:
    std::string name_;
    ucp_context_h context_ = nullptr;
    ucp_worker_h worker_ = nullptr;
    std::vector<std::byte> address_;
};

}  // namespace buddy::transport
