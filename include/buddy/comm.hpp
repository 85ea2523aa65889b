// buddy::comm — fire-and-forget messages between the ranks of an MPI job.
//
//   buddy::comm world(&argc, &argv);
//   world.async(dest, [](buddy::comm& c, std::uint64_t key) { ... }, key);
//   world.barrier();   // every message, and every message those handlers sent, has run
//
// async() never waits for the message: it writes a record into this rank's
// current batch for `dest` (or into the router's ring, with an offloaded
// placement) and returns.  Only when that space is full does it hand the batch
// on, and only if the pipeline is full too does it wait — running incoming
// handlers meanwhile, which is what keeps two ranks that flood each other from
// deadlocking.
//
// Several comms (a world and its splits) may be used in any order: every wait
// in one comm — async() waiting for room, barrier(), progress() — also polls
// every other comm of the process (delivering what arrived there returns its
// senders' credit), so the party one comm waits for is never stuck because
// nobody drains another; barriers go in the same order on every rank of a
// comm, as MPI collectives do (docs/reliability.md).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <type_traits>
#include <vector>

#include "buddy/config.hpp"
#include "buddy/detail/handlers.hpp"
#include "buddy/detail/serialize.hpp"
#include "buddy/stats.hpp"
#include "buddy/detail/record.hpp"

namespace buddy {

namespace detail {
class runtime;
/// The open window of the batch (or ring chunk) a destination's records go to.
using lane = wire::window;
}  // namespace detail

/// A handler with a prefetch step, for handlers that touch memory at random
/// (a table lookup): `with_prefetch(handler, prefetch)`, both captureless
/// lambdas, `prefetch` taking the handler's arguments without the comm.
/// When a batch brings a run of these records, the run loop calls
/// prefetch(args...) of the record `Distance` records ahead of the one it
/// runs (at most a quarter of the rest of the batch ahead) when that record
/// is one of this handler's, which can issue
/// __builtin_prefetch for what that record's handler will read.
/// `with_prefetch<N>(handler, prefetch)` sets the distance.
/// Prefetching changes no result: it may be called for some records and not
/// others, or twice.  It looks ahead by a fixed stride, so where records of
/// other sizes lie between it can be handed bytes of another record that
/// happen to look like one of its own: it must accept any values (check an
/// index before forming an address from it) and only prefetch, never read
/// or write memory itself (__builtin_prefetch does not fault).
template <typename Handler, typename Prefetch, std::size_t Distance = detail::default_prefetch_distance>
struct prefetching {
    static_assert(Distance >= 1, "buddy::with_prefetch: the distance is at least one record");
    static constexpr std::size_t prefetch_distance = Distance;
    template <typename... A>
    void operator()(comm& c, A&... args) const {
        Handler{}(c, args...);
    }
    // Flattened: the user's step inlined here, never a call.  A call to it
    // would be a call GCC may delete, the step having no effect it counts
    // (see detail::call_prefetch).
    template <typename... A>
    [[gnu::always_inline, gnu::flatten]] static inline void prefetch(const A&... args) {
        Prefetch{}(args...);
    }
};
template <std::size_t Distance = detail::default_prefetch_distance, typename Handler, typename Prefetch>
constexpr prefetching<Handler, Prefetch, Distance> with_prefetch(Handler, Prefetch) noexcept {
    static_assert(std::is_empty_v<Handler> && std::is_empty_v<Prefetch>,
                  "buddy::with_prefetch: both must be captureless lambdas");
    return {};
}

class comm {
public:
    /// Initialises MPI if nobody has yet (and then finalises it at destruction),
    /// applies BUDDY_* variables and removes --buddy-* flags from argv.
    comm(int* argc, char*** argv);
    /// `settings` is the base; BUDDY_* variables that are set override it, and
    /// --buddy-* flags override both.
    comm(int* argc, char*** argv, config settings);
    /// Uses an existing communicator (duplicated); MPI must be initialised and
    /// is left initialised.
    explicit comm(MPI_Comm world);
    comm(MPI_Comm world, config settings);
    ~comm();

    comm(const comm&) = delete;
    comm& operator=(const comm&) = delete;
    comm(comm&&) = delete;
    comm& operator=(comm&&) = delete;

    int rank() const noexcept { return rank_; }
    int size() const noexcept { return size_; }

    /// Runs handler(comm&, args...) on rank `dest`, some time before the next
    /// barrier() there returns.  `handler` is a captureless lambda or a function
    /// of the main executable; args are trivially copyable values, or std::vector,
    /// std::string, std::string_view or std::span of trivially copyable elements
    /// (a span arrives as std::span<const T>, a string_view as std::string_view,
    /// both valid during the call).  Never waits for the message.  When its batch
    /// is full it may run incoming handlers before it returns: memory that a span
    /// or string_view argument points at must stay valid during the call.
    /// Fixed-size arguments of up to 4 KiB in all are sent as they were when
    /// async() was called; containers and larger fixed arguments are encoded
    /// after such handlers ran, as they left them.
    /// A handler that throws ends the job (its batch cannot be half-delivered).
    template <typename Handler, typename... Args>
    void async(int dest, Handler handler, const Args&... args);

    /// Returns when every message sent by any rank before or during this barrier,
    /// including messages sent by handlers, has been handled.  Collective.
    void barrier();

    /// Runs handlers of messages that have arrived and sends partial batches if
    /// the rank is otherwise idle.  Never waits for messages to arrive; sending a
    /// partial batch may wait for pipeline credit (running handlers meanwhile),
    /// like async() does when a batch is full.
    void progress();

    /// This rank's counters.
    counters stats() const noexcept;
    /// Every rank's counters, on every rank (collective).
    std::vector<rank_report> gather_stats();
    /// Collective: rank 0 writes the counter table to `out`.
    void print_stats(std::ostream& out);

    const config& settings() const noexcept;
    MPI_Comm mpi_comm() const noexcept;
    /// Name of the placement in force ("inproc", "host", "dpu").
    const char* placement_name() const noexcept;

private:
    /// Fixed arguments up to this many bytes are copied at the call (by value
    /// into the wait for room, on its stack); larger ones take append(), so
    /// that a multi-megabyte std::array is never copied onto a stack.
    static constexpr std::size_t copied_at_call_max = 4096;
    /// Writes one record of fixed-size arguments (Payload bytes in all, at
    /// most copied_at_call_max) into dest's lane: the body of async() for
    /// them.  When the lane is full, the
    /// whole record goes to an out-of-line call that takes the arguments by
    /// value: the fast path and the slow one share nothing after the call, so
    /// no value of the caller's has to live across it (that spared two stack
    /// spills per message, a store and a reload each), and the arguments are
    /// copied before the wait runs any handler that could change them.
    template <std::size_t Payload, typename... Args>
    void append_fixed(int dest, std::uint16_t id, const Args&... args);
    template <std::size_t Payload, typename... Args>
    [[gnu::noinline]] void append_fixed_after_room(int dest, std::uint16_t id, Args... args);
    template <std::size_t Payload, typename... Args>
    static void write_fixed(std::byte* record, int dest, std::uint16_t id, const Args&... args) noexcept;
    /// The same for arguments whose size is known only at the call (containers,
    /// and a function handler's record) and for larger fixed ones:
    /// `size_of()` gives the payload bytes,
    /// `encode(body)` writes the payload and returns its end.  A wait for room
    /// may run handlers that change a container passed here, so the record is
    /// sized again after it and encoded as the arguments are then.
    template <typename SizeOf, typename Encode>
    void append(int dest, std::uint16_t id, SizeOf size_of, Encode encode);

    // Slow paths, out of line.
    void make_room(std::uint32_t lane_index, std::size_t record_bytes);
    [[noreturn]] void bad_destination(int dest) const;
    [[noreturn]] void oversized(std::size_t payload) const;
    void start(MPI_Comm world, config settings, bool own_mpi);

    // Hot-path state, read by the inline async().
    detail::lane* lanes_ = nullptr;               ///< one per lane
    /// Destination rank -> its lane: one load from the rank to the window
    /// (an index into lanes_ cost a multiply, an add and a spill per message).
    detail::lane* const* lane_for_ = nullptr;
    std::size_t max_payload_ = 0;
    int rank_ = 0;
    int size_ = 0;
    counters counters_;

    std::unique_ptr<detail::runtime> runtime_;
    friend class detail::runtime;
};

template <typename Handler, typename... Args>
inline void comm::async(int dest, Handler handler, const Args&... args) {
    using H = std::remove_cvref_t<Handler>;
    if constexpr (detail::is_function_pointer_v<H>) {
        static_assert(std::is_invocable_v<H, comm&, detail::decoded_t<Args>&...>,
                      "buddy::comm::async: the function cannot be called as fn(comm&, args...) with "
                      "these arguments (a std::span arrives as std::span<const T>)");
        // The record carries the function's code offset, then the arguments.
        const std::uint64_t offset = detail::function_offset(reinterpret_cast<const void*>(handler));
        append(
            dest, detail::function_handler<H, std::remove_cvref_t<Args>...>::id,
            [&] { return detail::payload_size(sizeof offset, args...); },
            [&](std::byte* body) {
                std::memcpy(body, &offset, sizeof offset);
                return detail::encode_all(body, body + sizeof offset, args...);
            });
    } else {
        static_assert(std::is_empty_v<H> && std::is_default_constructible_v<H>,
                      "buddy::comm::async: the handler must be a captureless lambda or a function; "
                      "pass what it needs as arguments");
        static_assert(std::is_invocable_v<H, comm&, detail::decoded_t<Args>&...>,
                      "buddy::comm::async: the handler cannot be called as handler(comm&, args...) "
                      "with these arguments (a std::span arrives as std::span<const T>)");
        (void)handler;
        constexpr bool fixed = detail::all_fixed_v<Args...>;
        if constexpr (fixed && detail::fixed_payload_size_v<Args...> <= copied_at_call_max) {
            append_fixed<detail::fixed_payload_size_v<Args...>>(
                dest, detail::lambda_handler<H, std::remove_cvref_t<Args>...>::id, args...);
        } else {
            append(dest, detail::lambda_handler<H, std::remove_cvref_t<Args>...>::id,
                   [&] {
                       if constexpr (fixed) return detail::fixed_payload_size_v<Args...>;
                       else return detail::payload_size(0, args...);
                   },
                   [&](std::byte* body) { return detail::encode_all(body, body, args...); });
        }
    }
}

template <typename SizeOf, typename Encode>
inline void comm::append(int dest, std::uint16_t id, SizeOf size_of, Encode encode) {
    std::size_t payload = size_of();
    if (static_cast<unsigned>(dest) >= static_cast<unsigned>(size_)) [[unlikely]] bad_destination(dest);
    if (payload > max_payload_) [[unlikely]] oversized(payload);
    std::size_t header = wire::header_bytes_for(payload);
    std::size_t bytes = wire::align_up(header + payload);
    detail::lane* const l = lane_for_[dest];  // lanes never move: make_room leaves this valid
    while (static_cast<std::size_t>(l->limit - l->cursor) < bytes) [[unlikely]] {
        // make_room may run handlers; if one of them changed a container
        // passed here, size it again so the encoding fits what was reserved.
        make_room(static_cast<std::uint32_t>(l - lanes_), bytes);
        payload = size_of();
        if (payload > max_payload_) oversized(payload);
        header = wire::header_bytes_for(payload);
        bytes = wire::align_up(header + payload);
    }
    std::byte* const record = l->cursor;
    std::byte* const body = wire::write_header(record, static_cast<std::uint32_t>(dest), id, payload);
    std::byte* const end = encode(body);
    wire::write_padding(end, header + payload);
    l->commit(record + bytes);
}

template <std::size_t Payload, typename... Args>
inline void comm::write_fixed(std::byte* record, int dest, std::uint16_t id, const Args&... args) noexcept {
    std::byte* const body = wire::write_header(record, static_cast<std::uint32_t>(dest), id, Payload);
    std::byte* const end = detail::encode_all(body, body, args...);
    if constexpr (Payload % 8 != 0) wire::write_padding(end, wire::header_bytes_for(Payload) + Payload);
}

template <std::size_t Payload, typename... Args>
inline void comm::append_fixed(int dest, std::uint16_t id, const Args&... args) {
    constexpr std::size_t bytes = wire::record_bytes_for(Payload);
    if (static_cast<unsigned>(dest) >= static_cast<unsigned>(size_)) [[unlikely]] bad_destination(dest);
    // Up to the least max-message any comm accepts, a record cannot be oversized.
    if constexpr (Payload > knob_range::max_message_min) {
        if (Payload > max_payload_) [[unlikely]] oversized(Payload);
    }
    detail::lane* const l = lane_for_[dest];
    std::byte* const record = l->cursor;
    if (static_cast<std::size_t>(l->limit - record) < bytes) [[unlikely]] {
        append_fixed_after_room<Payload, Args...>(dest, id, args...);
        return;
    }
    write_fixed<Payload>(record, dest, id, args...);
    l->commit(record + bytes);
}

template <std::size_t Payload, typename... Args>
void comm::append_fixed_after_room(int dest, std::uint16_t id, Args... args) {
    constexpr std::size_t bytes = wire::record_bytes_for(Payload);
    detail::lane* const l = lane_for_[dest];  // lanes never move: make_room leaves this valid
    do make_room(static_cast<std::uint32_t>(l - lanes_), bytes);
    while (static_cast<std::size_t>(l->limit - l->cursor) < bytes);
    std::byte* const record = l->cursor;
    write_fixed<Payload>(record, dest, id, args...);
    l->commit(record + bytes);
}

}  // namespace buddy
