// How handler arguments are laid out in a record's payload.
//
// Trivially copyable values are copied as raw bytes with no padding between
// them (they are read back with memcpy, so alignment does not matter).
// std::vector, std::string and std::span are a 64-bit element count, then the
// elements starting at the next 8-byte boundary of the payload, so that a
// std::span handed to the receiving handler points at properly aligned elements
// inside the received batch, with no copy.  The payload itself always starts
// 8-aligned (see buddy/detail/record.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace buddy::detail {

constexpr std::size_t align8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

template <typename T>
inline constexpr bool is_plain_v = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                                   !std::is_array_v<T> && !std::is_member_pointer_v<T>;

/// The codec for one argument type; specialised for containers below.
template <typename T, typename = void>
struct codec {
    static_assert(!std::is_pointer_v<T>,
                  "buddy::comm::async: a pointer means nothing on another rank; send the value, "
                  "or a std::vector / std::span of the elements");
    static_assert(!std::is_array_v<T>,
                  "buddy::comm::async: send a C array as std::span, or text as std::string");
    static_assert(std::is_trivially_copyable_v<T>,
                  "buddy::comm::async: arguments must be trivially copyable, or std::vector / "
                  "std::string / std::span of trivially copyable elements");
    using decoded = T;
    static constexpr bool fixed = true;
    static constexpr std::size_t advance(std::size_t at, const T&) noexcept { return at + sizeof(T); }
    static std::byte* encode(std::byte* base, std::byte* at, const T& v) noexcept {
        (void)base;
        std::memcpy(at, &v, sizeof(T));
        return at + sizeof(T);
    }
    /// Decodes at `at`, checking it stays within `end`; returns false if the payload is short.
    static bool decode(const std::byte* base, const std::byte*& at, const std::byte* end,
                       decoded& out) noexcept {
        (void)base;
        if (static_cast<std::size_t>(end - at) < sizeof(T)) return false;
        std::memcpy(&out, at, sizeof(T));
        at += sizeof(T);
        return true;
    }
};

/// Shared layout of the sequence types: count (8 bytes, at an 8-aligned offset), elements
/// at the next 8-aligned offset.
template <typename E>
struct sequence_layout {
    static_assert(std::is_trivially_copyable_v<E> && !std::is_pointer_v<E>,
                  "buddy::comm::async: sequence elements must be trivially copyable values");
    static_assert(alignof(E) <= 8, "buddy::comm::async: element alignment above 8 is not supported");
    static constexpr std::size_t advance(std::size_t at, std::size_t count) noexcept {
        return align8(at) + 8 + count * sizeof(E);
    }
    static std::byte* encode(std::byte* base, std::byte* at, const E* data, std::size_t count) noexcept {
        std::byte* count_at = base + align8(static_cast<std::size_t>(at - base));
        // Zero the alignment gap so no uninitialised bytes go on the wire.
        std::memset(at, 0, static_cast<std::size_t>(count_at - at));
        const std::uint64_t n = count;
        std::memcpy(count_at, &n, sizeof n);
        if (count != 0) std::memcpy(count_at + 8, data, count * sizeof(E));
        return count_at + 8 + count * sizeof(E);
    }
    /// Finds the elements; checks every bound against `end`.
    static bool locate(const std::byte* base, const std::byte*& at, const std::byte* end,
                       const E*& data, std::size_t& count) noexcept {
        const std::size_t offset = align8(static_cast<std::size_t>(at - base));
        const std::size_t limit = static_cast<std::size_t>(end - base);
        if (offset > limit || limit - offset < 8) return false;
        std::uint64_t n;
        std::memcpy(&n, base + offset, sizeof n);
        const std::size_t room = limit - offset - 8;
        if (n > room / (sizeof(E) == 0 ? 1 : sizeof(E))) return false;
        data = reinterpret_cast<const E*>(base + offset + 8);
        count = static_cast<std::size_t>(n);
        at = base + offset + 8 + count * sizeof(E);
        return true;
    }
};

template <typename E, typename A>
struct codec<std::vector<E, A>> {
    using layout = sequence_layout<E>;
    using decoded = std::vector<E>;
    static constexpr bool fixed = false;
    static constexpr std::size_t advance(std::size_t at, const std::vector<E, A>& v) noexcept {
        return layout::advance(at, v.size());
    }
    static std::byte* encode(std::byte* base, std::byte* at, const std::vector<E, A>& v) noexcept {
        return layout::encode(base, at, v.data(), v.size());
    }
    static bool decode(const std::byte* base, const std::byte*& at, const std::byte* end, decoded& out) {
        const E* data;
        std::size_t n;
        if (!layout::locate(base, at, end, data, n)) return false;
        out.assign(data, data + n);
        return true;
    }
};

/// Text: std::string arrives as a std::string (a copy); std::string_view as a
/// std::string_view into the received batch (valid during the handler call).
/// Without its own codec a string_view would be copied as a trivially
/// copyable (pointer, length) pair: a pointer into the sender's memory.
template <typename Text>
struct text_codec {
    using layout = sequence_layout<char>;
    using decoded = Text;
    static constexpr bool fixed = false;
    static constexpr std::size_t advance(std::size_t at, const Text& s) noexcept {
        return layout::advance(at, s.size());
    }
    static std::byte* encode(std::byte* base, std::byte* at, const Text& s) noexcept {
        return layout::encode(base, at, s.data(), s.size());
    }
    static bool decode(const std::byte* base, const std::byte*& at, const std::byte* end, decoded& out) {
        const char* data;
        std::size_t n;
        if (!layout::locate(base, at, end, data, n)) return false;
        out = decoded(data, n);
        return true;
    }
};

template <>
struct codec<std::string> : text_codec<std::string> {};
template <>
struct codec<std::string_view> : text_codec<std::string_view> {};

/// A span is sent like a vector and received as std::span<const E> pointing into
/// the received batch: valid for the duration of the handler call, no copy.
template <typename E, std::size_t Extent>
struct codec<std::span<E, Extent>> {
    using element = std::remove_cv_t<E>;
    using layout = sequence_layout<element>;
    using decoded = std::span<const element>;
    static constexpr bool fixed = false;
    static constexpr std::size_t advance(std::size_t at, const std::span<E, Extent>& s) noexcept {
        return layout::advance(at, s.size());
    }
    static std::byte* encode(std::byte* base, std::byte* at, const std::span<E, Extent>& s) noexcept {
        return layout::encode(base, at, s.data(), s.size());
    }
    static bool decode(const std::byte* base, const std::byte*& at, const std::byte* end, decoded& out) noexcept {
        const element* data;
        std::size_t n;
        if (!layout::locate(base, at, end, data, n)) return false;
        out = decoded(data, n);
        return true;
    }
};

template <typename T>
using codec_for = codec<std::remove_cvref_t<T>>;

template <typename T>
using decoded_t = typename codec_for<T>::decoded;

template <typename... Args>
inline constexpr bool all_fixed_v = (codec_for<Args>::fixed && ...);

/// Payload bytes of a record carrying `args`, starting at payload offset `start`.
template <typename... Args>
constexpr std::size_t payload_size(std::size_t start, const Args&... args) noexcept {
    std::size_t at = start;
    ((at = codec_for<Args>::advance(at, args)), ...);
    return at;
}

/// Payload bytes when every argument is fixed-size: a compile-time constant.
template <typename... Args>
inline constexpr std::size_t fixed_payload_size_v = (std::size_t{0} + ... + sizeof(std::remove_cvref_t<Args>));

template <typename... Args>
inline std::byte* encode_all(std::byte* base, std::byte* at, const Args&... args) noexcept {
    ((at = codec_for<Args>::encode(base, at, args)), ...);
    return at;
}

}  // namespace buddy::detail
