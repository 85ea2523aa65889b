#include "barrier_epochs.hpp"

#include <time.h>

#include <atomic>
#include <chrono>

namespace buddy::detail {

std::string describe_barrier(std::uint64_t tag) {
    const std::uint64_t epoch = tag >> 1;
    if (epoch == 0) return "no barrier yet";
    if ((tag & 1) == static_cast<std::uint64_t>(barrier_kind::final))
        return "the final barrier (#" + std::to_string(epoch) + ", at comm destruction)";
    return "barrier #" + std::to_string(epoch);
}

barrier_epochs::barrier_epochs(MPI_Comm comm) {
    MPI_Comm_size(comm, &size_);
    // Some MPI setups have no one-sided support (OpenMPI 4.1 with the ob1 pml
    // over TCP has no osc component for it).  The window only improves an
    // error message, so its absence must not end the job: try, agree, and
    // without it keep the slot locally (read_all then says it cannot read).
    MPI_Errhandler previous;
    MPI_Comm_get_errhandler(comm, &previous);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    void* base = nullptr;
    int ok = MPI_Win_allocate(sizeof(std::uint64_t), sizeof(std::uint64_t), MPI_INFO_NULL, comm, &base, &win_) ==
             MPI_SUCCESS;
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, comm);
    MPI_Comm_set_errhandler(comm, previous);
    MPI_Errhandler_free(&previous);
    if (!all_ok) {
        // A window only some ranks made is left unused: freeing it is
        // collective over all of them.
        win_ = MPI_WIN_NULL;
        slot_ = &local_slot_;
        return;
    }
    slot_ = static_cast<std::uint64_t*>(base);
    *slot_ = 0;
    // Reads happen only on error paths, where a failed read must become a
    // sentence rather than end the process inside MPI.
    MPI_Win_set_errhandler(win_, MPI_ERRORS_RETURN);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win_);
}

void barrier_epochs::enter(std::uint64_t tag) noexcept {
    // Relaxed suffices: a reader looks only after BUDDY_TIMEOUT seconds without
    // progress, long after this store became visible, and needs no ordering
    // with other memory; atomic_ref only keeps the 8-byte store untorn for a
    // concurrent MPI_Rget (shared memory windows read it with a plain copy).
    std::atomic_ref<std::uint64_t>(*slot_).store(tag, std::memory_order_relaxed);
}

std::optional<std::vector<std::uint64_t>> barrier_epochs::read_all(double limit_seconds) const {
    if (win_ == MPI_WIN_NULL) return std::nullopt;  // this MPI gave no window
    std::vector<std::uint64_t> tags(static_cast<std::size_t>(size_), 0);
    std::vector<MPI_Request> requests(static_cast<std::size_t>(size_), MPI_REQUEST_NULL);
    for (int r = 0; r < size_; ++r) {
        const auto i = static_cast<std::size_t>(r);
        if (MPI_Rget(&tags[i], 1, MPI_UINT64_T, r, 0, 1, MPI_UINT64_T, win_, &requests[i]) != MPI_SUCCESS)
            return std::nullopt;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit_seconds);
    for (;;) {
        int done = 0;
        if (MPI_Testall(size_, requests.data(), &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS) return std::nullopt;
        if (done) return tags;
        // The job is about to end with an error: requests still open are left
        // to it rather than waited for without bound.
        if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
        const timespec nap{0, 1'000'000};
        nanosleep(&nap, nullptr);
    }
}

void barrier_epochs::close() {
    if (win_ == MPI_WIN_NULL) return;
    MPI_Win_unlock_all(win_);
    MPI_Win_free(&win_);
    slot_ = nullptr;
}

}  // namespace buddy::detail
