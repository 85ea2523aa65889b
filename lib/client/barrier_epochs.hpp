// Which barrier each rank is in, readable by every other rank without that
// rank's cooperation: one 8-byte slot per rank in an MPI RMA window, written
// locally on entry to a barrier, read with MPI_Rget only when a barrier has to
// explain why it cannot finish (a rank that never arrives, or ranks in
// different barriers).  The window stays in one passive-target epoch
// (MPI_Win_lock_all) for the job's lifetime, so a read never needs the target
// to call MPI.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buddy::detail {

/// A barrier's identity: its epoch (how many barriers this rank has entered,
/// this one included) and its kind.  0 means "no barrier yet".
enum class barrier_kind : std::uint64_t { explicit_call = 0, final = 1 };
inline constexpr std::uint64_t barrier_tag(std::uint64_t epoch, barrier_kind kind) noexcept {
    return epoch << 1 | static_cast<std::uint64_t>(kind);
}
/// "barrier #5", "the final barrier (#5, at comm destruction)", "no barrier yet".
std::string describe_barrier(std::uint64_t tag);

class barrier_epochs {
public:
    /// Collective over `comm`: creates the window.
    explicit barrier_epochs(MPI_Comm comm);
    /// Leaves the window to the process's end if close() was not called
    /// (freeing it is collective, and a failing job cannot promise that).
    ~barrier_epochs() = default;
    barrier_epochs(const barrier_epochs&) = delete;
    barrier_epochs& operator=(const barrier_epochs&) = delete;

    /// This rank enters the barrier `tag`.
    void enter(std::uint64_t tag) noexcept;
    /// Every rank's current tag, or nothing if they could not all be read
    /// within `limit_seconds` (error path only).
    std::optional<std::vector<std::uint64_t>> read_all(double limit_seconds) const;
    /// False where this MPI could make no RMA window: read_all() never succeeds.
    bool readable() const noexcept { return win_ != MPI_WIN_NULL; }
    /// Collective: ends the epoch and frees the window.
    void close();

private:
    MPI_Win win_ = MPI_WIN_NULL;
    std::uint64_t* slot_ = nullptr;  ///< this rank's slot, inside the window (or local_slot_ without one)
    std::uint64_t local_slot_ = 0;
    int size_ = 0;
};

}  // namespace buddy::detail
