// Handler identity across the ranks of one binary.
//
// Every (handler, argument types) pair that appears in an async() call gets a
// trampoline, instantiated from that call site.  A static member of the
// trampoline registers it at program start, before main(), in the order the
// linker laid out the initialisers: the same order in every process of the same
// binary, so the registry index is a handler id that means the same thing on
// every rank.  buddy::comm checks this at start by comparing a hash of the
// registry across ranks, so a job that mixes binaries fails at once with a
// clear message instead of running the wrong handler.
//
// Functions passed by pointer share one trampoline per signature; the record
// carries the function's offset inside the main executable's code, which the
// receiver checks lies inside that code before calling it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "buddy/detail/record.hpp"
#include "buddy/detail/serialize.hpp"

namespace buddy {
class comm;
}

namespace buddy::detail {

using trampoline_fn = void (*)(comm&, const std::byte* payload, std::size_t bytes);
/// Runs the record at `first` and every record after it, up to `end`, whose
/// 8-byte header is the same word (same destination, handler and size):
/// one call per run, the handler inlined in the loop, instead of an indirect
/// call per record.  Returns where the run stopped.  The caller has checked
/// the first record; the equal header word and the room left before `end`
/// are what a checked walk would check of the others.
using run_fn = const std::byte* (*)(comm&, const std::byte* first, const std::byte* end);

struct handler_entry {
    trampoline_fn call;
    run_fn run;             ///< fixed-size arguments only; otherwise null
    std::size_t run_payload;  ///< the payload bytes `run` expects
    std::string_view name;  ///< readable signature, for diagnostics
};

/// Adds a trampoline; returns its id.  Called only during static initialisation.
std::uint16_t register_handler(trampoline_fn call, run_fn run, std::size_t run_payload,
                               std::string_view name) noexcept;
/// The registry (index = handler id).
const handler_entry* handler_table() noexcept;
std::size_t handler_count() noexcept;

/// A payload did not have the shape the handler's argument types need: the sender
/// and receiver disagree about the handler, which only a mixed-binary job or a
/// corrupted record can cause.
[[noreturn]] void malformed_payload(std::string_view handler, std::size_t bytes);

/// The main executable's code: function handlers are sent as an offset inside it.
struct code_region {
    std::uintptr_t base = 0;   ///< load address of the main executable
    std::uintptr_t begin = 0;  ///< offset of the first executable byte
    std::uintptr_t end = 0;    ///< offset past the last executable byte
};
code_region find_main_code() noexcept;
inline const code_region& main_code() noexcept {
    static const code_region region = find_main_code();
    return region;
}
[[noreturn]] void function_outside_main_code(const void* fn);
[[noreturn]] void function_offset_outside_code(std::uint64_t offset);

template <typename T>
constexpr std::string_view type_name() noexcept {
    constexpr std::string_view p = __PRETTY_FUNCTION__;
    constexpr std::string_view key = "T = ";
    constexpr auto start = p.find(key) + key.size();
    constexpr auto stop = p.find_first_of(";]", start);
    return p.substr(start, stop - start);
}

/// Reads one fixed-size argument at byte `at` of a record or payload.
template <typename T>
inline T load_fixed_at(const std::byte* bytes, std::size_t at) noexcept {
    T v;
    std::memcpy(&v, bytes + at, sizeof(T));
    return v;
}

/// Reads one fixed-size argument and advances `at`.
template <typename T>
inline T load_fixed(const std::byte* payload, std::size_t& at) noexcept {
    const T v = load_fixed_at<T>(payload, at);
    at += sizeof(T);
    return v;
}

/// Decodes every argument in order (braced initialisation guarantees left-to-right).
template <typename... Sent>
struct decoder {
    using values = std::tuple<decoded_t<Sent>...>;
    static bool run(const std::byte* base, const std::byte* at, const std::byte* end, values& out) {
        return run_each(base, at, end, out, std::index_sequence_for<Sent...>{});
    }

private:
    template <std::size_t... I>
    static bool run_each(const std::byte* base, const std::byte*& at, const std::byte* end,
                         values& out, std::index_sequence<I...>) {
        bool ok = true;
        ((ok = ok && codec_for<Sent>::decode(base, at, end, std::get<I>(out))), ...);
        return ok && at == end;
    }
};

/// How many records ahead of the one it runs a run loop calls a prefetch step,
/// unless with_prefetch<N> says otherwise.  A miss started there must land
/// before its record runs: at 5-10 ns of handler work per record and
/// 100-150 ns to DRAM that is 15-30 records; index_gather (8 MiB of table per
/// rank, 2 ranks) ran at 0.99x of its MPI mode with 8, 1.15-1.27x with 16 to
/// 48 (docs/perf.md).  Far enough ahead costs little: the lines wait in L1.
inline constexpr std::size_t default_prefetch_distance = 32;

/// The distance a handler type asks for (buddy::prefetching has one).
template <typename Handler>
constexpr std::size_t prefetch_distance_of() noexcept {
    if constexpr (requires { Handler::prefetch_distance; }) {
        static_assert(Handler::prefetch_distance >= 1, "a prefetch step looks at least one record ahead");
        return Handler::prefetch_distance;
    } else {
        return default_prefetch_distance;
    }
}

template <typename Handler, typename... Sent>
concept has_prefetch = requires(const Sent&... v) { Handler::prefetch(v...); };

/// Where fixed argument I of a record lies: after the header and the arguments before it.
template <std::size_t I, typename... Sent>
constexpr std::size_t fixed_argument_offset() noexcept {
    constexpr std::size_t sizes[] = {sizeof(Sent)...};
    std::size_t at = wire::short_header_bytes;
    for (std::size_t k = 0; k < I; ++k) at += sizes[k];
    return at;
}

/// Calls the prefetch step with a record's arguments, loaded straight into
/// the call.  Not through a tuple and std::apply: a step does nothing GCC
/// counts as an effect (__builtin_prefetch writes no memory), so GCC 12 took
/// the std::__invoke wrappers around it for pure functions and deleted the
/// calls whenever it had not inlined them first -- with one argument it had
/// not, and the step of a one-word index_gather vanished from the binary
/// (tests/integration/test_prefetch_codegen.sh).
template <typename Handler, typename... Sent, std::size_t... I>
[[gnu::always_inline]] inline void call_prefetch(const std::byte* record, std::index_sequence<I...>) {
    Handler::prefetch(load_fixed_at<Sent>(record, fixed_argument_offset<I, Sent...>())...);
}

/// Calls the prefetch step of the record `ahead` records after the one at
/// `at` if there is one (it ends by `end`) and it is of the same handler (its
/// header is `word`).
template <typename Handler, typename... Sent>
[[gnu::always_inline]] inline void prefetch_record(const std::byte* at, std::size_t ahead, const std::byte* end,
                                                   std::uint64_t word) {
    constexpr std::size_t stride = wire::align_up(wire::short_header_bytes + fixed_payload_size_v<Sent...>);
    if (static_cast<std::size_t>(end - at) < (ahead + 1) * stride) return;
    const std::byte* const record = at + ahead * stride;
    std::uint64_t w;
    std::memcpy(&w, record, sizeof w);
    if (w != word) return;
    call_prefetch<Handler, Sent...>(record, std::index_sequence_for<Sent...>{});
}

/// Trampoline for a captureless lambda (or any empty, default-constructible callable).
template <typename Handler, typename... Sent>
struct lambda_handler {
    static void call(comm& c, const std::byte* payload, std::size_t bytes) {
        if constexpr (all_fixed_v<Sent...>) {
            // Fast path: fixed layout, one size check, then plain loads.
            if (bytes != fixed_payload_size_v<Sent...>) [[unlikely]]
                malformed_payload(type_name<lambda_handler>(), bytes);
            std::size_t at = 0;
            std::tuple<Sent...> values{load_fixed<Sent>(payload, at)...};
            std::apply([&](auto&... v) { Handler{}(c, v...); }, values);
        } else {
            typename decoder<Sent...>::values values;
            if (!decoder<Sent...>::run(payload, payload, payload + bytes, values)) [[unlikely]]
                malformed_payload(type_name<lambda_handler>(), bytes);
            std::apply([&](auto&... v) { Handler{}(c, v...); }, values);
        }
    }
    static const std::byte* run(comm& c, const std::byte* at, const std::byte* end) {
        constexpr std::size_t stride = wire::align_up(wire::short_header_bytes + fixed_payload_size_v<Sent...>);
        std::uint64_t word, next;
        std::memcpy(&word, at, sizeof word);
        // At most a quarter of what is left of the batch ahead: with small
        // batches (a few dozen records) the full distance would reach past
        // the end and prefetch nothing.
        [[maybe_unused]] std::size_t distance = 0;
        if constexpr (has_prefetch<Handler, Sent...>) {
            const std::size_t quarter = static_cast<std::size_t>(end - at) / stride / 4;
            distance = std::clamp<std::size_t>(quarter, 1, prefetch_distance_of<Handler>());
        }
        do {
            if constexpr (has_prefetch<Handler, Sent...>) {
                // The record `distance` ahead, if it is one of this handler's
                // (records of other handlers may lie between: in a
                // request/reply pattern requests and replies interleave).
                prefetch_record<Handler, Sent...>(at, distance, end, word);
            }
            std::size_t off = wire::short_header_bytes;
            std::tuple<Sent...> values{load_fixed<Sent>(at, off)...};
            std::apply([&](auto&... v) { Handler{}(c, v...); }, values);
            at += stride;
            if (static_cast<std::size_t>(end - at) < stride) break;
            std::memcpy(&next, at, sizeof next);
        } while (next == word);
        return at;
    }
    static constexpr run_fn run_entry() noexcept {
        if constexpr (all_fixed_v<Sent...> && fixed_payload_size_v<Sent...> < wire::long_size_escape) return &run;
        else return nullptr;
    }
    static inline const std::uint16_t id =
        register_handler(&call, run_entry(), fixed_payload_size_v<Sent...>, type_name<lambda_handler>());
};

/// Trampoline for a plain function, one per (function type, argument types).
template <typename Fn, typename... Sent>
struct function_handler {
    static void call(comm& c, const std::byte* payload, std::size_t bytes) {
        std::uint64_t offset;
        if (bytes < sizeof offset) [[unlikely]] malformed_payload(type_name<function_handler>(), bytes);
        std::memcpy(&offset, payload, sizeof offset);
        const code_region& code = main_code();
        if (offset < code.begin || offset >= code.end) [[unlikely]] function_offset_outside_code(offset);
        const Fn fn = reinterpret_cast<Fn>(code.base + offset);
        if constexpr (all_fixed_v<Sent...>) {
            if (bytes != sizeof offset + fixed_payload_size_v<Sent...>) [[unlikely]]
                malformed_payload(type_name<function_handler>(), bytes);
            std::size_t at = sizeof offset;
            std::tuple<Sent...> values{load_fixed<Sent>(payload, at)...};
            std::apply([&](auto&... v) { fn(c, v...); }, values);
            return;
        }
        typename decoder<Sent...>::values values;
        if (!decoder<Sent...>::run(payload, payload + sizeof offset, payload + bytes, values)) [[unlikely]]
            malformed_payload(type_name<function_handler>(), bytes);
        std::apply([&](auto&... v) { fn(c, v...); }, values);
    }
    static inline const std::uint16_t id = register_handler(&call, nullptr, 0, type_name<function_handler>());
};

/// Offset of a function inside the main executable's code, checked.
inline std::uint64_t function_offset(const void* fn) {
    const code_region& code = main_code();
    const auto address = reinterpret_cast<std::uintptr_t>(fn);
    const std::uintptr_t offset = address - code.base;
    if (address < code.base || offset < code.begin || offset >= code.end) [[unlikely]]
        function_outside_main_code(fn);
    return offset;
}

template <typename T>
inline constexpr bool is_function_pointer_v =
    std::is_pointer_v<T> && std::is_function_v<std::remove_pointer_t<T>>;

}  // namespace buddy::detail
