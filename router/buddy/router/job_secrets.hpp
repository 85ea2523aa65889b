// Which secret each job id is bound to, on this router (control plane only).
//
// A router that listens on TCP cannot ask the kernel who a peer is, so a
// connection proves it belongs to a job by the job's secret in its hello
// (lib/control/job_secret.hpp).  The first hello accepted for a job id binds
// it; a later hello for that id with another secret is refused and counted,
// and changes nothing for the job or any other.  Bindings outlive the job (a
// job id that ended cannot be taken over either), up to a bound on the
// remembered ended jobs, so a long-lived service does not grow without end.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <unordered_map>

#include "buddy/control/job_secret.hpp"

namespace buddy::router {

class job_secrets {
public:
    enum class verdict {
        accepted,  ///< the job's secret, or the job is not bound yet
        missing,   ///< no secret, from a peer the kernel did not vouch for (TCP)
        wrong,     ///< the job id is bound to another secret
    };
    /// What a hello of `job` presenting `secret` gets; `kernel_checked`: the
    /// channel's peer is this user on this machine (a missing secret is then
    /// bound like any other: the uid check is the proof).
    verdict check(std::uint64_t job, control::secret_view secret, bool kernel_checked) const noexcept;
    /// Binds `job` to `secret` if it is not bound yet (call once a hello is accepted).
    void bind(std::uint64_t job, control::secret_view secret);
    /// The job's last rank left: its binding is kept, among the last `keep_ended`.
    void job_ended(std::uint64_t job);

    std::size_t bound() const noexcept { return bound_.size(); }
    static constexpr std::size_t keep_ended = 65536;  ///< about 3 MiB of bindings at most

private:
    struct binding {
        std::array<std::uint8_t, control::secret_bytes> secret;
        bool ended = false;  ///< listed in ended_
    };
    std::unordered_map<std::uint64_t, binding> bound_;
    std::deque<std::uint64_t> ended_;  ///< oldest first
};

}  // namespace buddy::router
