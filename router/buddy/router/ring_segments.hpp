// One rank's ring segments, as the router makes and keeps them, and the sweep
// of segments that dead routers left behind.
//
// Two POSIX shared-memory segments per rank (names: control::segment_name):
// `out` holds the rank's outbound ring of every router thread, `in` its
// inbound rings.  The router creates them; once the rank has mapped both the
// names are unlinked, so nothing outlives whoever dies later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "buddy/ring/shm_segment.hpp"

namespace buddy::router {

class rank_segments {
public:
    rank_segments() noexcept = default;
    rank_segments(rank_segments&& other) noexcept;
    rank_segments& operator=(rank_segments&& other) noexcept;
    /// Unlinks names still there, then unmaps.
    ~rank_segments();

    /// `threads` rings of `capacity` bytes in each segment: outbound ones on
    /// `router_numa` (the router consumes them), inbound ones on `rank_numa`.
    /// Throws (nothing is left behind) when a segment cannot be made.
    static rank_segments create(const std::string& host, std::uint64_t job, std::uint32_t rank,
                                std::size_t capacity, std::size_t threads, int router_numa, int rank_numa);

    const std::string& out_name() const noexcept { return out_name_; }
    const std::string& in_name() const noexcept { return in_name_; }
    std::byte* outbound_ring(std::size_t thread) const noexcept;
    std::byte* inbound_ring(std::size_t thread) const noexcept;

    /// Both sides have mapped the rings: the names can go (idempotent).
    void unlink_names() noexcept;

private:
    ring::shm_segment out_, in_;
    std::string out_name_, in_name_;  ///< non-empty while the names exist
    std::size_t capacity_ = 0;
};

/// Removes the segments of this user on `host` whose router is gone: it died
/// between creating them and the rank's `attached`.
void sweep_orphaned_segments(const std::string& host, bool verbose);

}  // namespace buddy::router
