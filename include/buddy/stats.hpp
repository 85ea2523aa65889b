// Counters kept by every rank.  Always on: each is a plain per-rank integer
// bumped by the thread that owns it, so the hot path pays one add.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace buddy {

struct counters {
    std::uint64_t messages_sent = 0;      ///< async() calls on this rank
    std::uint64_t messages_handled = 0;   ///< handlers run on this rank
    std::uint64_t bytes_sent = 0;         ///< record bytes (headers + payload) handed to routing
    std::uint64_t batches_sent = 0;       ///< batches this rank's engine sent (inproc)
    std::uint64_t batch_bytes_sent = 0;   ///< bytes in those batches, batch headers included
    std::uint64_t batches_received = 0;   ///< batches delivered to this rank
    std::uint64_t flush_full = 0;         ///< batches sent because they reached the granularity
    std::uint64_t flush_barrier = 0;      ///< partial batches sent by barrier()
    std::uint64_t flush_idle = 0;         ///< partial batches sent by progress() when idle
    std::uint64_t backpressure_waits = 0; ///< times async() had to wait for room (depth or ring full)
    std::uint64_t barriers = 0;           ///< barrier() calls
    std::uint64_t quiescence_rounds = 0;  ///< global counting rounds spent in barrier()
};

/// One rank's counters with who it is, for reports.
struct rank_report {
    int rank = 0;
    std::string host;
    counters c;
};

/// A human table (one row per rank, plus totals) and a JSON document.
std::string format_table(const std::vector<rank_report>& ranks);
std::string format_json(const std::vector<rank_report>& ranks, const std::string& placement_name);

}  // namespace buddy
