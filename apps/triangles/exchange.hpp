// Plain-MPI all-to-all of per-destination buffers (the mpi baseline's transport,
// and the verification's ghost-row fetch).
#pragma once

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace triangles {

template <typename T>
MPI_Datatype mpi_type() {
    if constexpr (std::is_same_v<T, std::uint32_t>) return MPI_UINT32_T;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
    else static_assert(sizeof(T) == 0, "exchange: unsupported element type");
}

/// Sends out[d] to rank d, for every d; returns what arrived, concatenated in
/// source-rank order, with the per-source element counts in *counts if given.
template <typename T>
std::vector<T> alltoallv(const std::vector<std::vector<T>>& out, MPI_Comm c,
                         std::vector<int>* counts = nullptr) {
    int p = 0;
    MPI_Comm_size(c, &p);
    std::vector<int> send_counts(p), recv_counts(p), send_displs(p), recv_displs(p);
    long long total_out = 0;
    for (int d = 0; d < p; ++d) {
        if (out[d].size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("exchange: buffer over INT_MAX");
        send_counts[d] = static_cast<int>(out[d].size());
        send_displs[d] = static_cast<int>(total_out);
        total_out += send_counts[d];
        if (total_out > INT_MAX) throw std::length_error("exchange: send total over INT_MAX");
    }
    MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, c);
    long long total_in = 0;
    for (int s = 0; s < p; ++s) {
        recv_displs[s] = static_cast<int>(total_in);
        total_in += recv_counts[s];
        if (total_in > INT_MAX) throw std::length_error("exchange: receive total over INT_MAX");
    }
    std::vector<T> send(static_cast<std::size_t>(total_out));
    for (int d = 0; d < p; ++d) std::copy(out[d].begin(), out[d].end(), send.begin() + send_displs[d]);
    std::vector<T> in(static_cast<std::size_t>(total_in));
    MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), mpi_type<T>(), in.data(),
                  recv_counts.data(), recv_displs.data(), mpi_type<T>(), c);
    if (counts) *counts = std::move(recv_counts);
    return in;
}

}  // namespace triangles
