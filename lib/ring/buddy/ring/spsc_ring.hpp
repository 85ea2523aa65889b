// Single-producer single-consumer ring of variable-size chunks, laid out in a
// block of memory that two processes may map (at different addresses).
//
// Layout of the block (see docs/ring.md):
//
//   offset   0  ring_header metadata (magic, version, capacity, pids)
//   offset 128  head: bytes consumed, written by the consumer only
//   offset 256  tail: bytes published, written by the producer only
//   offset 384  data area, `capacity` bytes (a power of two)
//
// head and tail are 64-bit byte counts that only grow; the position of an
// index in the data area is index & (capacity - 1).  The unit stored in the
// data area is a chunk: an 8-byte chunk_header followed by the payload padded
// to 8 bytes.  A chunk never wraps: when it does not fit before the end of the
// data area the producer writes a skip marker covering the rest of the area and
// places the chunk at the start.  Everything is 8-aligned, so the remainder is
// always at least one chunk header long.
//
// Hot path (try_reserve / commit / front / pop): no locks, no allocation, no
// system calls, no virtual calls.  Each side keeps its own index in a local
// variable and a cached copy of the other side's index, which it re-reads from
// shared memory only when the cached value makes the ring look full (producer)
// or empty (consumer).
//
// Only lock-free atomics and plain integers live in the shared block: no
// pointers, no std::atomic objects that would need construction.
#pragma once

#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "buddy/ring/publish.hpp"
#include "buddy/ring/release.hpp"

namespace buddy::ring {

using index_t = std::uint64_t;

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "the ring needs lock-free 64-bit atomics (they must work across processes)");
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free,
              "the ring needs lock-free 32-bit atomics (they must work across processes)");

inline constexpr std::uint64_t ring_magic = 0x31474E4952594442ull;  // "BDYRING1" read little-endian
inline constexpr std::uint32_t ring_version = 1;
inline constexpr std::size_t min_capacity = 4096;
inline constexpr std::size_t max_capacity = std::size_t{1} << 32;  // chunk lengths are 32-bit
inline constexpr std::size_t ring_alignment = 64;                   // required alignment of the block

/// Metadata at the start of the ring's memory.  head and tail are 128 bytes
/// apart (not just 64) so that the adjacent-line prefetcher of x86 cores does
/// not make the two sides' lines share fate, and so that they stay on separate
/// lines on Arm cores with 128-byte lines (BlueField-3's Cortex-A78 has 64).
/// A fixed constant, not std::hardware_destructive_interference_size: the
/// layout is shared between processes that may be built for different CPUs.
struct alignas(64) ring_header {
    std::uint64_t magic;         ///< ring_magic; stored last by init_ring (release)
    std::uint32_t version;       ///< ring_version
    std::uint32_t header_bytes;  ///< sizeof(ring_header) = offset of the data area
    std::uint64_t capacity;      ///< data bytes, power of two >= min_capacity
    std::uint32_t producer_pid;  ///< pid of the last process that attached a producer (0: none)
    std::uint32_t consumer_pid;  ///< pid of the last process that attached a consumer (0: none)
    std::byte pad0_[128 - 32];
    std::uint64_t head;          ///< consumer index: bytes consumed; written only by the consumer
    std::byte pad1_[128 - 8];
    std::uint64_t tail;          ///< producer index: bytes published; written only by the producer
    std::byte pad2_[128 - 8];
};
static_assert(sizeof(ring_header) == 384);
static_assert(offsetof(ring_header, head) == 128);
static_assert(offsetof(ring_header, tail) == 256);
static_assert(alignof(std::uint64_t) >= std::atomic_ref<std::uint64_t>::required_alignment);

/// Header of one chunk in the data area.
struct chunk_header {
    std::uint32_t length;  ///< payload bytes (for a skip marker: bytes up to the end of the area - 8)
    std::uint32_t flags;   ///< 0 for a data chunk, chunk_skip for a wrap marker
};
static_assert(sizeof(chunk_header) == 8);
inline constexpr std::uint32_t chunk_skip = 1;
inline constexpr std::size_t chunk_header_bytes = sizeof(chunk_header);
inline constexpr std::size_t chunk_alignment = 8;

constexpr std::size_t round_up8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

/// Bytes a chunk with `payload` bytes occupies in the data area.
constexpr std::size_t chunk_bytes(std::size_t payload) noexcept {
    return chunk_header_bytes + round_up8(payload);
}

/// Size of the memory block for a ring with `capacity` data bytes (header + data).
constexpr std::size_t ring_bytes(std::size_t capacity) { return sizeof(ring_header) + capacity; }

/// Largest payload of one chunk in a ring of `capacity` bytes.  Half the ring:
/// whatever the position of an empty ring, one of the two contiguous stretches
/// (to the end, or from the start after a skip) is at least capacity/2 long,
/// so a chunk of this size always fits once the consumer has drained the ring.
constexpr std::size_t max_chunk_payload_for(std::size_t capacity) noexcept {
    return capacity / 2 - chunk_header_bytes;
}

namespace detail {

inline std::byte* data_area(void* memory) noexcept {
    return static_cast<std::byte*>(memory) + sizeof(ring_header);
}

inline std::string hex(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s = "0x";
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
        const auto d = static_cast<unsigned>((v >> shift) & 0xF);
        if (d != 0 || started || shift == 0) {
            s += digits[d];
            started = true;
        }
    }
    return s;
}

inline bool capacity_ok(std::uint64_t capacity) noexcept {
    return capacity >= min_capacity && capacity <= max_capacity && std::has_single_bit(capacity);
}

}  // namespace detail

/// Initialise a ring in caller-provided memory of at least ring_bytes(capacity)
/// bytes, aligned to 64.  Not safe while a producer or consumer is attached.
inline void init_ring(void* memory, std::size_t capacity) {
    if (memory == nullptr) throw std::invalid_argument("buddy::ring::init_ring: memory is null");
    if (reinterpret_cast<std::uintptr_t>(memory) % ring_alignment != 0)
        throw std::invalid_argument("buddy::ring::init_ring: memory is not 64-byte aligned");
    if (!detail::capacity_ok(capacity))
        throw std::invalid_argument(
            "buddy::ring::init_ring: capacity " + std::to_string(capacity) +
            " is invalid (must be a power of two between " + std::to_string(min_capacity) +
            " and " + std::to_string(max_capacity) + ")");
    auto* h = static_cast<ring_header*>(memory);
    // A previous ring may have left its magic: clear it first so that a
    // concurrent check_ring never accepts a half-initialised header.
    // relaxed is enough here: the release store of the magic below orders everything.
    std::atomic_ref<std::uint64_t>(h->magic).store(0, std::memory_order_relaxed);
    h->version = ring_version;
    h->header_bytes = sizeof(ring_header);
    h->capacity = capacity;
    h->producer_pid = 0;
    h->consumer_pid = 0;
    std::memset(h->pad0_, 0, sizeof h->pad0_);
    std::memset(h->pad1_, 0, sizeof h->pad1_);
    std::memset(h->pad2_, 0, sizeof h->pad2_);
    // relaxed: published by the release store of the magic.
    std::atomic_ref<std::uint64_t>(h->head).store(0, std::memory_order_relaxed);
    std::atomic_ref<std::uint64_t>(h->tail).store(0, std::memory_order_relaxed);
    // release: a process that reads the magic with acquire (check_ring) sees
    // every field above initialised.  The data area needs no initialisation.
    std::atomic_ref<std::uint64_t>(h->magic).store(ring_magic, std::memory_order_release);
}

/// Validate a ring someone else initialised, mapped as `mapped_bytes` bytes.
/// Throws std::runtime_error naming what is wrong.  A ring whose creator has
/// not finished init_ring yet fails with "bad magic": callers may retry.
inline void check_ring(const void* memory, std::size_t mapped_bytes) {
    using namespace std::string_literals;
    if (memory == nullptr) throw std::runtime_error("buddy::ring::check_ring: memory is null");
    if (reinterpret_cast<std::uintptr_t>(memory) % ring_alignment != 0)
        throw std::runtime_error("buddy::ring::check_ring: memory is not 64-byte aligned");
    if (mapped_bytes < sizeof(ring_header))
        throw std::runtime_error("buddy::ring::check_ring: mapping of " + std::to_string(mapped_bytes) +
                                 " bytes is smaller than the ring header (" +
                                 std::to_string(sizeof(ring_header)) + " bytes)");
    auto* h = const_cast<ring_header*>(static_cast<const ring_header*>(memory));
    // acquire: pairs with the release store in init_ring, so the fields read
    // below are the initialised ones.
    const std::uint64_t magic = std::atomic_ref<std::uint64_t>(h->magic).load(std::memory_order_acquire);
    if (magic != ring_magic)
        throw std::runtime_error("buddy::ring::check_ring: bad magic " + detail::hex(magic) +
                                 " (expected " + detail::hex(ring_magic) +
                                 "): not a ring, or not initialised yet");
    if (h->version != ring_version)
        throw std::runtime_error("buddy::ring::check_ring: ring version " + std::to_string(h->version) +
                                 ", this build understands version " + std::to_string(ring_version));
    if (h->header_bytes != sizeof(ring_header))
        throw std::runtime_error("buddy::ring::check_ring: header size " + std::to_string(h->header_bytes) +
                                 ", expected " + std::to_string(sizeof(ring_header)));
    if (!detail::capacity_ok(h->capacity))
        throw std::runtime_error("buddy::ring::check_ring: capacity " + std::to_string(h->capacity) +
                                 " is not a power of two between " + std::to_string(min_capacity) +
                                 " and " + std::to_string(max_capacity));
    if (ring_bytes(h->capacity) > mapped_bytes)
        throw std::runtime_error("buddy::ring::check_ring: capacity " + std::to_string(h->capacity) +
                                 " needs " + std::to_string(ring_bytes(h->capacity)) +
                                 " bytes but only " + std::to_string(mapped_bytes) + " are mapped");
    // acquire on both: we only compare them; a live ring may move on meanwhile,
    // but consumed can never exceed published nor lag it by more than capacity.
    const index_t head = std::atomic_ref<std::uint64_t>(h->head).load(std::memory_order_acquire);
    const index_t tail = std::atomic_ref<std::uint64_t>(h->tail).load(std::memory_order_acquire);
    if (tail - head > h->capacity)
        throw std::runtime_error("buddy::ring::check_ring: indices inconsistent (head " + std::to_string(head) +
                                 ", tail " + std::to_string(tail) + ", capacity " +
                                 std::to_string(h->capacity) + ")");
}

/// Writing side.  Exactly one producer object may be attached to a ring at a
/// time; it is used by one thread.  Movable, not copyable.  `Publish` is how a
/// committed chunk becomes visible (publish.hpp); `producer` is the host one.
template <typename Publish>
class basic_producer {
public:
    basic_producer() = default;

    /// Attach to an initialised ring (init_ring or check_ring done by the caller).
    explicit basic_producer(void* ring_memory, Publish publish = Publish{}) noexcept
        : publish_(std::move(publish)),
          hdr_(static_cast<ring_header*>(ring_memory)),
          data_(detail::data_area(ring_memory)),
          cap_(hdr_->capacity),
          mask_(hdr_->capacity - 1),
          max_payload_(max_chunk_payload_for(hdr_->capacity)) {
        // acquire on both at attach: a previous producer (maybe in a process
        // that exited) published up to tail; we continue from there.
        tail_ = tail_ref().load(std::memory_order_acquire);
        head_cache_ = head_ref().load(std::memory_order_acquire);
        if (tail_ - head_cache_ > cap_) head_cache_ = tail_ - cap_;  // corrupt: look full, not overfull
        // relaxed: informational only.
        std::atomic_ref<std::uint32_t>(hdr_->producer_pid)
            .store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    }

    basic_producer(const basic_producer&) = delete;
    basic_producer& operator=(const basic_producer&) = delete;
    basic_producer(basic_producer&& o) noexcept { swap(o); }
    basic_producer& operator=(basic_producer&& o) noexcept {
        basic_producer tmp(std::move(o));
        swap(tmp);
        return *this;
    }

    /// The publish policy (a stateful one, e.g. dpu, holds its endpoint here).
    Publish& publish_policy() noexcept { return publish_; }

    /// Reserve a contiguous chunk with room for at least min_bytes and up to
    /// max_bytes (clamped to max_chunk_payload()) of payload.  Returns the
    /// payload pointer (8-aligned) and sets `granted` (min_bytes <= granted <=
    /// max_bytes; either max_bytes or a multiple of 8), or returns nullptr with
    /// granted = 0 when the ring lacks space now or min_bytes > max_bytes or
    /// min_bytes > max_chunk_payload().  Never blocks.  A new reservation
    /// replaces an uncommitted one.
    std::byte* try_reserve(std::size_t min_bytes, std::size_t max_bytes, std::size_t& granted) noexcept {
        granted = 0;
        if (min_bytes > max_bytes || min_bytes > max_payload_) [[unlikely]]
            return nullptr;
        if (max_bytes > max_payload_) max_bytes = max_payload_;
        const index_t need = chunk_bytes(min_bytes);
        const index_t pos = tail_ & mask_;
        const index_t to_end = cap_ - pos;
        // Not enough contiguous room before the end: skip to the start.
        const index_t skip = to_end < need ? to_end : 0;
        index_t free = cap_ - (tail_ - head_cache_);
        if (free < skip + need) {
            // Looks full with the cached head: re-read the consumer's index.
            refresh_head();
            free = cap_ - (tail_ - head_cache_);
            if (free < skip + need) return nullptr;
        }
        // Contiguous bytes for header + payload at the chosen place.  After a
        // skip the free space starts at offset 0 and cannot reach past the old
        // position, so it is contiguous.
        const index_t space = skip != 0 ? free - skip : (free < to_end ? free : to_end);
        const index_t avail = space - chunk_header_bytes;  // multiple of 8, >= round_up8(min_bytes)
        granted = max_bytes < avail ? max_bytes : static_cast<std::size_t>(avail);
        res_skip_ = skip;
        res_granted_ = granted;
        res_valid_ = true;
        return data_ + ((tail_ + skip) & mask_) + chunk_header_bytes;
    }

    /// Publish the reserved chunk with `used` payload bytes (used <= granted;
    /// larger values are clamped).  used == 0 drops the reservation and
    /// publishes nothing.  Without a reservation this does nothing.
    void commit(std::size_t used) noexcept {
        if (!res_valid_) [[unlikely]]
            return;
        if (used == 0) {
            res_valid_ = false;
            return;
        }
        publish(used <= res_granted_ ? used : res_granted_);
    }

    /// Copy one record in as one chunk (bytes may be 0: an empty record).
    /// false if the ring lacks space now or bytes > max_chunk_payload().
    bool try_push(const void* data, std::size_t bytes) noexcept {
        std::size_t granted;
        std::byte* p = try_reserve(bytes, bytes, granted);
        if (p == nullptr) return false;
        if (bytes != 0) std::memcpy(p, data, bytes);
        publish(bytes);
        return true;
    }

    /// True once the consumer has taken every chunk published so far (off
    /// the hot path: a sender's shutdown check).  The re-read of head is an
    /// acquire, so "drained" also means the consumer is done reading them.
    bool drained() noexcept {
        refresh_head();
        return head_cache_ == tail_;
    }

    std::size_t capacity() const noexcept { return cap_; }
    std::size_t max_chunk_payload() const noexcept { return max_payload_; }
    bool attached() const noexcept { return hdr_ != nullptr; }

private:
    std::atomic_ref<std::uint64_t> head_ref() const noexcept { return std::atomic_ref<std::uint64_t>(hdr_->head); }
    std::atomic_ref<std::uint64_t> tail_ref() const noexcept { return std::atomic_ref<std::uint64_t>(hdr_->tail); }

    void refresh_head() noexcept {
        // acquire: pairs with the consumer's release store in pop().  The
        // consumer finished reading the chunks below `h` before it published
        // h, so overwriting them now cannot race with its reads.
        const index_t h = head_ref().load(std::memory_order_acquire);
        // A head beyond our tail, or more than a ring behind, means the shared
        // block was corrupted: keep the old value (the ring looks full rather
        // than letting us write outside the free space).
        if (tail_ - h <= cap_) head_cache_ = h;
    }

    void publish(std::size_t used) noexcept {
        std::byte* const skip_at = data_ + (tail_ & mask_);
        if (res_skip_ != 0) {
            const chunk_header skip{static_cast<std::uint32_t>(res_skip_ - chunk_header_bytes), chunk_skip};
            std::memcpy(skip_at, &skip, sizeof skip);
        }
        const index_t at = tail_ + res_skip_;
        std::byte* const chunk_at = data_ + (at & mask_);
        const chunk_header ch{static_cast<std::uint32_t>(used), 0};
        std::memcpy(chunk_at, &ch, sizeof ch);
        tail_ = at + chunk_bytes(used);
        res_valid_ = false;
        // The policy makes the bytes written above visible no later than the
        // new tail (shared_memory_publish: a release store; see publish.hpp).
        // We are the only writer of tail, so our own copy (tail_) is the value.
        publish_(publication{reinterpret_cast<std::byte*>(hdr_),
                             std::span<const std::byte>(skip_at, res_skip_ != 0 ? chunk_header_bytes : 0),
                             std::span<const std::byte>(chunk_at, chunk_bytes(used)), &hdr_->tail, tail_});
    }

    void swap(basic_producer& o) noexcept {
        std::swap(publish_, o.publish_);
        std::swap(hdr_, o.hdr_);
        std::swap(data_, o.data_);
        std::swap(cap_, o.cap_);
        std::swap(mask_, o.mask_);
        std::swap(max_payload_, o.max_payload_);
        std::swap(tail_, o.tail_);
        std::swap(head_cache_, o.head_cache_);
        std::swap(res_skip_, o.res_skip_);
        std::swap(res_granted_, o.res_granted_);
        std::swap(res_valid_, o.res_valid_);
    }

    [[no_unique_address]] Publish publish_{};
    ring_header* hdr_ = nullptr;
    std::byte* data_ = nullptr;
    index_t cap_ = 0;
    index_t mask_ = 0;
    std::size_t max_payload_ = 0;
    index_t tail_ = 0;        ///< our index (authoritative copy; shared tail mirrors it)
    index_t head_cache_ = 0;  ///< last consumer index we read
    index_t res_skip_ = 0;    ///< skip-marker bytes before the reserved chunk (0: none)
    std::size_t res_granted_ = 0;
    bool res_valid_ = false;
};

/// The host placement's producer: consumer and producer share the ring's memory.
using producer = basic_producer<shared_memory_publish>;

/// Reading side.  Exactly one consumer object may be attached to a ring at a
/// time; it is used by one thread.  Movable, not copyable.  `Release` returns
/// credit (head) to the producer: see release.hpp.
template <class Release>
class basic_consumer {
public:
    basic_consumer() = default;

    /// Attach to an initialised ring (init_ring or check_ring done by the caller).
    explicit basic_consumer(void* ring_memory, Release release = Release{}) noexcept
        : release_(std::move(release)),
          hdr_(static_cast<ring_header*>(ring_memory)),
          data_(detail::data_area(ring_memory)),
          cap_(hdr_->capacity),
          mask_(hdr_->capacity - 1) {
        // acquire on both at attach: a previous consumer may have released
        // chunks up to head; the producer may have published up to tail.
        head_ = head_ref().load(std::memory_order_acquire);
        const index_t t = tail_ref().load(std::memory_order_acquire);
        tail_cache_ = t - head_ <= cap_ ? t : head_;
        // relaxed: informational only.
        std::atomic_ref<std::uint32_t>(hdr_->consumer_pid)
            .store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    }

    basic_consumer(const basic_consumer&) = delete;
    basic_consumer& operator=(const basic_consumer&) = delete;
    basic_consumer(basic_consumer&& o) noexcept { swap(o); }
    basic_consumer& operator=(basic_consumer&& o) noexcept {
        basic_consumer tmp(std::move(o));
        swap(tmp);
        return *this;
    }

    /// The next published chunk's payload, or an empty span with data() ==
    /// nullptr if none.  (A zero-length record pushed with try_push gives an
    /// empty span with a non-null data(); use data() == nullptr, or empty(),
    /// to tell "nothing" apart if zero-length records are in use.)  Skip
    /// markers are consumed transparently.  Calling front() again without
    /// pop() returns the same chunk.
    std::span<const std::byte> front() noexcept {
        for (;;) {
            if (head_ == tail_cache_) {
                // Looks empty with the cached tail: re-read the producer's index.
                if (!refresh_tail()) {
                    // Nothing to read: the policy returns any credit it still
                    // owes before we report "empty" (host: nothing to do).
                    release_.idle(credit_now());
                    return {};
                }
            }
            const index_t pos = head_ & mask_;
            const index_t to_end = cap_ - pos;
            const index_t published = tail_cache_ - head_;
            chunk_header ch;
            std::memcpy(&ch, data_ + pos, sizeof ch);
            if (ch.flags == chunk_skip) {
                // The marker must cover exactly the rest of the area, and a
                // data chunk always follows it in the same publication.
                if (ch.length + chunk_header_bytes != to_end || to_end >= published) [[unlikely]]
                    return fail();
                head_ += to_end;  // published to the producer with the next pop()
                continue;
            }
            const index_t bytes = chunk_bytes(ch.length);
            if (ch.flags != 0 || bytes > to_end || bytes > published) [[unlikely]]
                return fail();
            pending_ = bytes;
            return {data_ + pos + chunk_header_bytes, ch.length};
        }
    }

    /// Release the chunk returned by the last front() (its space becomes
    /// reusable by the producer).  Does nothing if front() returned nothing.
    void pop() noexcept {
        if (pending_ == 0) [[unlikely]]
            return;
        head_ += pending_;
        pending_ = 0;
        // The policy makes our reads of the chunk (and of any skipped marker)
        // happen before the producer may overwrite that space
        // (shared_memory_release: a release store of head; see release.hpp).
        // We are the only writer of head.
        release_(credit_now());
    }

    /// Copy the next chunk out.  Returns its length, -1 if the ring is empty,
    /// or -2 (leaving the chunk in place) if it is longer than `cap`.
    std::ptrdiff_t try_pop(void* out, std::size_t cap) noexcept {
        const auto s = front();
        if (s.data() == nullptr) return -1;
        if (s.size() > cap) return -2;
        if (!s.empty()) std::memcpy(out, s.data(), s.size());
        pop();
        return static_cast<std::ptrdiff_t>(s.size());
    }

    /// True if no published record is waiting (a record returned by front()
    /// but not popped yet counts as waiting).
    bool empty() const noexcept {
        if (head_ != tail_cache_) return false;
        // acquire: see refresh_tail().  Not cached (const), so this costs a load.
        const index_t t = tail_ref().load(std::memory_order_acquire);
        return t == head_ || t - head_ > cap_;
    }

    /// True once front() met a malformed chunk or index (the shared block was
    /// overwritten by someone else); front() then keeps returning nothing.
    bool corrupted() const noexcept { return corrupted_; }

    std::size_t capacity() const noexcept { return cap_; }
    bool attached() const noexcept { return hdr_ != nullptr; }

private:
    std::atomic_ref<std::uint64_t> head_ref() const noexcept { return std::atomic_ref<std::uint64_t>(hdr_->head); }
    std::atomic_ref<std::uint64_t> tail_ref() const noexcept { return std::atomic_ref<std::uint64_t>(hdr_->tail); }

    bool refresh_tail() noexcept {
        if (corrupted_) [[unlikely]]
            return false;
        // acquire: pairs with the producer's release store in publish(), so
        // the chunk headers and payloads below `t` are visible to our reads.
        const index_t t = tail_ref().load(std::memory_order_acquire);
        if (t == head_) return false;
        if (t - head_ > cap_) [[unlikely]] {
            corrupted_ = true;  // tail behind head, or more than a ring ahead
            return false;
        }
        tail_cache_ = t;
        return true;
    }

    std::span<const std::byte> fail() noexcept {
        corrupted_ = true;
        tail_cache_ = head_;  // forces refresh_tail(), which now refuses
        pending_ = 0;
        return {};
    }

    credit credit_now() const noexcept { return credit{reinterpret_cast<std::byte*>(hdr_), &hdr_->head, head_}; }

    void swap(basic_consumer& o) noexcept {
        std::swap(release_, o.release_);
        std::swap(hdr_, o.hdr_);
        std::swap(data_, o.data_);
        std::swap(cap_, o.cap_);
        std::swap(mask_, o.mask_);
        std::swap(head_, o.head_);
        std::swap(tail_cache_, o.tail_cache_);
        std::swap(pending_, o.pending_);
        std::swap(corrupted_, o.corrupted_);
    }

    [[no_unique_address]] Release release_{};
    ring_header* hdr_ = nullptr;
    const std::byte* data_ = nullptr;
    index_t cap_ = 0;
    index_t mask_ = 0;
    index_t head_ = 0;        ///< our index (authoritative copy; shared head mirrors it after pop)
    index_t tail_cache_ = 0;  ///< last producer index we read
    index_t pending_ = 0;     ///< bytes of the chunk front() returned (0: none)
    bool corrupted_ = false;
};

/// The host placement's consumer: consumer and producer share the ring's memory.
using consumer = basic_consumer<shared_memory_release>;

}  // namespace buddy::ring
