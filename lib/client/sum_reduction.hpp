// The barrier's counting round: a non-blocking sum of a few 64-bit words over
// every rank of a communicator, by recursive doubling over point-to-point
// messages on a communicator of its own.
//
// Why not MPI_Iallreduce: in OpenMPI 4.1 (libnbc) a 4-word MPI_Iallreduce at
// 2 ranks takes about 1.8 us where the same exchange by hand takes 0.7 us and
// MPI_Barrier 0.55 us (perf/barrier_cost prints all three); an empty
// barrier() is one such round, so it decides what a barrier costs.  It must
// stay non-blocking: a rank in barrier() keeps delivering while it waits, or
// a rank that still has messages for it could wait on it for ever.
//
// Rounds: with p ranks and q the largest power of two <= p, the first
// 2(p-q) ranks pair up (even into odd) so that q ranks remain; those exchange
// with the partner at distance 1, 2, 4, ... and add; the odd rank of each pair
// hands the sum back to its even partner.  log2(q) exchanges, plus two
// one-way steps where p is not a power of two.  Sums of unsigned words wrap
// alike on every rank whatever the order, so every rank gets the same result.
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>

namespace buddy::detail {

class sum_reduction {
public:
    static constexpr int words = 4;
    using vector = std::array<std::uint64_t, words>;

    /// Collective over `comm`: duplicates it, so that these messages never
    /// match the application's own on the comm it was given.
    explicit sum_reduction(MPI_Comm comm);
    /// Frees the duplicate only through close(): freeing is collective, and a
    /// failing job cannot promise that.
    ~sum_reduction() = default;
    sum_reduction(const sum_reduction&) = delete;
    sum_reduction& operator=(const sum_reduction&) = delete;

    /// Starts a sum of `local` over every rank.  The previous one must be done.
    void start(const vector& local);
    /// Progresses the sum without waiting; true once result() holds it.
    bool test();
    const vector& result() const noexcept { return sum_; }

    /// Collective: frees the communicator.  No sum may be in progress.
    void close();

private:
    /// Posts the messages of step `step_` (or finishes), until a step has
    /// something outstanding.
    void post();

    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 1;
    int pow2_ = 1;        ///< the largest power of two <= size_
    int extra_ = 0;       ///< size_ - pow2_: ranks folded into a partner first
    int virtual_ = -1;    ///< this rank's index among the pow2_ that exchange (-1: folded away)

    // The steps of one sum: 0 = fold (one-way), 1..log2(pow2_) = exchanges,
    // then unfold (one-way), then done.
    int step_ = 0;
    int last_exchange_ = 0;
    bool done_ = true;
    MPI_Request requests_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    bool receiving_ = false;  ///< the step's receive adds into sum_ when it completes
    vector sum_{};
    vector outgoing_{};       ///< what the step's send reads (sum_ changes before it completes)
    vector incoming_{};
};

}  // namespace buddy::detail
