// The variable-length message bodies, written and read in one place: the
// job table (a rank to its router), the hello reply and the stats reply (a
// router to a rank).  Both sides of the protocol and the fuzzer (tests/fuzz) use these,
// so what is fuzzed is what runs.
//
// A reader refuses a body with a sentence (empty: accepted) and checks every
// count against the bytes that are left before it allocates anything, so a
// peer cannot make the other side reserve memory its message does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "buddy/control/messages.hpp"

namespace buddy::control {

using address_blob = std::vector<std::byte>;

struct table_router {
    std::uint64_t instance = 0;
    std::vector<address_blob> addresses;  ///< one per router thread, at least one
};

struct table_body {
    std::uint64_t job = 0;
    std::uint32_t route = 0;  ///< buddy::routing; the router checks it names a route it knows
    std::vector<std::uint32_t> rank_to_router;  ///< router index of each rank of the job
    std::vector<table_router> routers;
};

/// The table's head: job, router count, route, then the rank -> router map, padded.
void put_table_head(writer& w, std::uint64_t job, std::uint32_t routers, std::uint32_t route,
                    std::span<const std::uint32_t> rank_to_router);
/// One router's entry: instance, thread count, a zero word, one address blob per thread.
void put_table_router(writer& w, std::uint64_t instance, std::span<const address_blob> addresses);
/// The whole table message.
std::vector<std::byte> table_message(const table_body& t);
/// Reads a table body (the reader just past the header); empty when accepted.
/// Checks its own consistency only (every router index in range, at least one
/// router, no more routers than ranks, nothing after the last router); the
/// router checks it against the job it serves.
std::string read_table(reader& r, table_body& out);

/// Placement dpu: one side's rings over RMA for one router thread (lane).
/// The router sends its own in the hello reply, the rank its own in
/// `attached`; the two sides of a ring are its two copies.
struct rma_thread_rings {
    address_blob worker;    ///< UCX worker address (worker_features::am_and_rma) serving these rings
    address_blob outbound;  ///< transport::rma_ring_side bytes of this side's copy of the outbound ring
    address_blob inbound;   ///< ... of its copy of the inbound ring
};

/// u32 count, u32 0, then per thread three blobs (worker, outbound, inbound).
void put_rma_rings(writer& w, std::span<const rma_thread_rings> threads);
/// Reads what put_rma_rings wrote: exactly `threads` entries, none of their
/// blobs empty, nothing after them.  Empty when accepted.  The sides' own
/// format is checked where they are used (transport::rma_ring_side::from_bytes).
std::string read_rma_rings(reader& r, std::uint32_t threads, std::vector<rma_thread_rings>& out);

struct hello_reply_body {
    hello_reply head{};
    std::vector<address_blob> addresses;  ///< head.threads of them
    std::vector<rma_thread_rings> rma;    ///< head.threads of them with hello_reply_flag_rma, else none
};

/// The whole hello reply message; non-empty `rma` (one per address) sets
/// hello_reply_flag_rma and follows the addresses.
std::vector<std::byte> hello_reply_message(const hello_reply& head, std::span<const std::span<const std::byte>> addresses,
                                           std::span<const rma_thread_rings> rma = {});
/// Reads a hello reply body; empty when accepted (at least one thread, one
/// address per thread, NUL-terminated names, known flags, the rings over RMA
/// when flagged, nothing after them).
std::string read_hello_reply(reader& r, hello_reply_body& out);

struct stats_link {
    std::uint64_t to = 0;  ///< router index in the job
    std::uint64_t batches = 0;
    std::uint64_t bytes = 0;
};

struct stats_thread {
    std::vector<std::uint64_t> counters;  ///< buddy::router_counter_fields, in order
    std::vector<stats_link> links;
    bool hw_available = false;  ///< at least one hardware event counted
    std::string hw_reason;      ///< when not: why (what was tried, the errors)
    std::string hw_counters;    ///< JSON object: the thread's hardware counters while the job ran
};

/// The whole stats reply: every thread has `fields` counters.
std::vector<std::byte> stats_reply_message(std::uint32_t fields, std::span<const stats_thread> threads);
/// Reads a stats reply body; empty when accepted.  `fields` is the counter
/// count this build knows: a router that sends another count is refused with
/// a sentence that says so (the two are different builds).
std::string read_stats_reply(reader& r, std::uint32_t fields, std::vector<stats_thread>& out);

}  // namespace buddy::control
