// Aggregation per next hop.
//
// Each hop has at most one open batch; its free space is exposed as a
// wire::window that producers (the public async(), or a router thread copying
// records off a ring) write records into directly.  When a record does not fit,
// make_room() closes the batch, hands it to the link, and opens a fresh one.
// At most `depth` batches per hop are in flight; past that, flush() asks the
// link to wait for credit, which (in a rank) runs incoming handlers meanwhile.
//
// Re-entrancy: a wait may run handlers that write to the very hop being
// flushed.  flush() therefore detaches the batch before it waits, and
// make_room() re-examines the window after every step, so a nested producer
// simply opens (and maybe sends) a newer batch of its own.
//
// The Link is a template parameter: its calls are per batch, never per record,
// and are inlined.  Link must provide:
//   void send(batch_buffer* b);            // take b; call completed(b) when done
//   void wait_for_credit(std::uint32_t hop, std::chrono::steady_clock::time_point since);
//       // make progress once; fail if the hop has given no credit since
//       // `since` (when this flush began to wait) for longer than allowed
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "buddy/engine/batch_pool.hpp"
#include "buddy/wire/batch.hpp"
#include "buddy/detail/record.hpp"

namespace buddy::engine {

enum class flush_reason { full, barrier, idle };

struct aggregator_settings {
    std::size_t granularity = 32 * 1024;  ///< record bytes per batch before it is sent
    std::uint32_t depth = 4;              ///< batches in flight per hop
    std::uint64_t job = 0;
    std::uint32_t source = 0;             ///< written into batch headers
    bool checksum = false;                ///< seal every batch with a CRC-32C trailer (BUDDY_CHECKSUM)
};

struct aggregator_counters {
    std::uint64_t records_sent = 0;       ///< records in batches handed to the link
    std::uint64_t record_bytes_sent = 0;  ///< their bytes, batch headers excluded
    std::uint64_t batches_sent = 0;
    std::uint64_t batch_bytes_sent = 0;
    std::uint64_t flush_full = 0;
    std::uint64_t flush_barrier = 0;
    std::uint64_t flush_idle = 0;
    std::uint64_t credit_waits = 0;
    std::uint64_t in_flight_max = 0;      ///< most batches in flight to one hop at once
};

/// What one hop (link) was sent: per batch, never per record.
struct hop_counters {
    std::uint64_t batches = 0;
    std::uint64_t bytes = 0;
};

class aggregator {
public:
    aggregator(const aggregator_settings& s, std::uint32_t hops)
        : settings_(s),
          pool_(wire::batch_header_bytes + s.granularity + wire::trailer_bytes(s.checksum)),
          windows_(hops),
          open_(hops, nullptr),
          in_flight_(hops, 0),
          hop_counters_(hops) {}

    ~aggregator() {
        for (batch_buffer* b : open_)
            if (b) pool_.release(b);
    }
    aggregator(const aggregator&) = delete;
    aggregator& operator=(const aggregator&) = delete;

    wire::window* windows() noexcept { return windows_.data(); }
    const wire::window* windows() const noexcept { return windows_.data(); }
    std::uint32_t hops() const noexcept { return static_cast<std::uint32_t>(windows_.size()); }
    const aggregator_settings& settings() const noexcept { return settings_; }
    const aggregator_counters& counters() const noexcept { return counters_; }
    const std::vector<engine::hop_counters>& hops_sent() const noexcept { return hop_counters_; }
    batch_pool& pool() noexcept { return pool_; }

    std::uint32_t in_flight(std::uint32_t hop) const noexcept { return in_flight_[hop]; }
    std::uint64_t total_in_flight() const noexcept { return total_in_flight_; }

    /// True if the hop's open batch holds records not yet sent.
    bool has_records(std::uint32_t hop) const noexcept {
        return open_[hop] && windows_[hop].cursor != records_begin(open_[hop]);
    }
    bool any_records() const noexcept {
        for (std::uint32_t h = 0; h < hops(); ++h)
            if (has_records(h)) return true;
        return false;
    }

    /// Records producers have written so far: sent in batches, or still open.
    std::uint64_t records_written() const noexcept {
        std::uint64_t n = counters_.records_sent;
        for (const wire::window& w : windows_) n += w.records;
        return n;
    }
    /// Their bytes, likewise.
    std::uint64_t record_bytes_written() const noexcept {
        std::uint64_t n = counters_.record_bytes_sent;
        for (std::uint32_t h = 0; h < hops(); ++h)
            if (open_[h]) n += static_cast<std::uint64_t>(windows_[h].cursor - records_begin(open_[h]));
        return n;
    }

    /// Makes the hop's window hold at least `record_bytes` bytes.
    template <typename Link>
    void make_room(std::uint32_t hop, std::size_t record_bytes, Link& link) {
        for (;;) {
            wire::window& w = windows_[hop];
            if (static_cast<std::size_t>(w.limit - w.cursor) >= record_bytes) return;
            if (has_records(hop)) {
                flush(hop, flush_reason::full, link);
                continue;  // the wait inside flush may have opened a newer batch
            }
            if (open_[hop]) {  // open but empty and too small: only for an oversized record
                pool_.release(open_[hop]);
                open_[hop] = nullptr;
            }
            open(hop, record_bytes);
        }
    }

    /// Sends the hop's open batch if it holds records; returns whether it did.
    template <typename Link>
    bool flush(std::uint32_t hop, flush_reason why, Link& link) {
        if (!has_records(hop)) return false;
        batch_buffer* b = open_[hop];
        const std::size_t used = static_cast<std::size_t>(windows_[hop].cursor - records_begin(b));
        const auto records = static_cast<std::uint32_t>(windows_[hop].records);
        open_[hop] = nullptr;
        windows_[hop] = wire::window{};
        counters_.records_sent += records;
        counters_.record_bytes_sent += used;

        // The window stopped short of the trailer's room (open()): one branch
        // per batch when the checksum is off.
        b->bytes = wire::finish_batch(b->data(), settings_.job, settings_.source, records, used, settings_.checksum);
        b->hop = hop;
        b->records = records;

        if (in_flight_[hop] >= settings_.depth) {
            // One start for the whole wait: each wait_for_credit() returns as
            // soon as anything moves (other hops' traffic too), so a limit
            // counted per call would never expire while a dead hop's peers
            // keep sending.
            const auto since = std::chrono::steady_clock::now();
            do {
                ++counters_.credit_waits;
                link.wait_for_credit(hop, since);
            } while (in_flight_[hop] >= settings_.depth);
        }
        ++in_flight_[hop];
        ++total_in_flight_;
        counters_.in_flight_max = std::max<std::uint64_t>(counters_.in_flight_max, in_flight_[hop]);
        ++counters_.batches_sent;
        counters_.batch_bytes_sent += b->bytes;
        ++hop_counters_[hop].batches;
        hop_counters_[hop].bytes += b->bytes;
        switch (why) {
            case flush_reason::full: ++counters_.flush_full; break;
            case flush_reason::barrier: ++counters_.flush_barrier; break;
            case flush_reason::idle: ++counters_.flush_idle; break;
        }
        link.send(b);
        return true;
    }

    /// Gives up the hop's window for a link that points it elsewhere (inproc's
    /// node rings): sends the open batch if it holds records, drops it if
    /// empty.  Returns true if it had a batch (the caller looks again: a wait
    /// for credit may have run handlers that wrote to this hop).
    template <typename Link>
    bool release_window(std::uint32_t hop, Link& link) {
        if (open_[hop] == nullptr) return false;
        if (!flush(hop, flush_reason::full, link)) {
            pool_.release(open_[hop]);
            open_[hop] = nullptr;
            windows_[hop] = wire::window{};
        }
        return true;
    }

    /// Flushes every hop with records; returns how many batches were sent.
    template <typename Link>
    std::size_t flush_all(flush_reason why, Link& link) {
        std::size_t sent = 0;
        for (std::uint32_t h = 0; h < hops(); ++h) sent += flush(h, why, link) ? 1 : 0;
        return sent;
    }

    /// The link reports that a batch no longer needs its buffer: returns credit.
    void completed(batch_buffer* b) noexcept {
        --in_flight_[b->hop];
        --total_in_flight_;
        pool_.release(b);
    }

    /// Returns credit for a batch whose buffer the link keeps a while longer
    /// (a batch to this rank itself, credited when its delivery starts).
    void credit(std::uint32_t hop) noexcept {
        --in_flight_[hop];
        --total_in_flight_;
    }

private:
    static std::byte* records_begin(batch_buffer* b) noexcept { return b->data() + wire::batch_header_bytes; }

    void open(std::uint32_t hop, std::size_t record_bytes) {
        const std::size_t body = std::max(settings_.granularity, record_bytes);
        batch_buffer* b = pool_.acquire(wire::batch_header_bytes + body + wire::trailer_bytes(settings_.checksum));
        open_[hop] = b;
        windows_[hop] = wire::window{records_begin(b), records_begin(b) + body, 0};
    }

    aggregator_settings settings_;
    batch_pool pool_;
    std::vector<wire::window> windows_;
    std::vector<batch_buffer*> open_;
    std::vector<std::uint32_t> in_flight_;
    std::uint64_t total_in_flight_ = 0;
    std::vector<engine::hop_counters> hop_counters_;  ///< per hop
    aggregator_counters counters_;
};

}  // namespace buddy::engine
