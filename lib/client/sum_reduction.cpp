#include "sum_reduction.hpp"

#include <stdexcept>

namespace buddy::detail {

namespace {
// One tag per kind of step: a pair of ranks that folds, exchanges and
// unfolds in one sum never confuses the messages (MPI keeps one sender's
// messages of one tag in order, which is what separates consecutive sums).
constexpr int fold_tag = 1;
constexpr int exchange_tag = 2;
constexpr int unfold_tag = 3;
}  // namespace

sum_reduction::sum_reduction(MPI_Comm comm) {
    MPI_Comm_dup(comm, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    while (pow2_ * 2 <= size_) {
        pow2_ *= 2;
        ++last_exchange_;
    }
    extra_ = size_ - pow2_;
    if (rank_ < 2 * extra_) virtual_ = rank_ % 2 == 1 ? rank_ / 2 : -1;
    else virtual_ = rank_ - extra_;
}

void sum_reduction::start(const vector& local) {
    if (!done_) throw std::logic_error("sum_reduction: a sum is already in progress");
    sum_ = local;
    step_ = 0;
    done_ = false;
    post();
}

void sum_reduction::post() {
    const bool paired = rank_ < 2 * extra_;  // one of the ranks that fold
    for (;;) {
        if (step_ == 0) {
            step_ = 1;
            if (!paired) continue;
            if (rank_ % 2 == 0) {
                // Hand this rank's words to the odd partner, and take the
                // job's sum back from it at the end: nothing else to do.
                outgoing_ = sum_;
                MPI_Isend(outgoing_.data(), words, MPI_UINT64_T, rank_ + 1, fold_tag, comm_, &requests_[0]);
                MPI_Irecv(sum_.data(), words, MPI_UINT64_T, rank_ + 1, unfold_tag, comm_, &requests_[1]);
                receiving_ = false;
                step_ = last_exchange_ + 2;
                return;
            }
            MPI_Irecv(incoming_.data(), words, MPI_UINT64_T, rank_ - 1, fold_tag, comm_, &requests_[1]);
            receiving_ = true;
            return;
        }
        if (step_ <= last_exchange_) {
            const int partner_virtual = virtual_ ^ (1 << (step_ - 1));
            const int partner = partner_virtual < extra_ ? 2 * partner_virtual + 1 : partner_virtual + extra_;
            ++step_;
            outgoing_ = sum_;
            MPI_Irecv(incoming_.data(), words, MPI_UINT64_T, partner, exchange_tag, comm_, &requests_[1]);
            MPI_Isend(outgoing_.data(), words, MPI_UINT64_T, partner, exchange_tag, comm_, &requests_[0]);
            receiving_ = true;
            return;
        }
        if (step_ == last_exchange_ + 1) {
            ++step_;
            if (!paired) continue;
            outgoing_ = sum_;  // an odd rank of a pair: its partner waits for the sum
            MPI_Isend(outgoing_.data(), words, MPI_UINT64_T, rank_ - 1, unfold_tag, comm_, &requests_[0]);
            receiving_ = false;
            return;
        }
        done_ = true;
        return;
    }
}

bool sum_reduction::test() {
    while (!done_) {
        int complete = 0;
        MPI_Testall(2, requests_, &complete, MPI_STATUSES_IGNORE);
        if (!complete) return false;
        if (receiving_) {
            for (int i = 0; i < words; ++i) sum_[i] += incoming_[i];
            receiving_ = false;
        }
        post();
    }
    return true;
}

void sum_reduction::close() {
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

}  // namespace buddy::detail
