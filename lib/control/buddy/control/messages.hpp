// Control-plane messages between a rank and its buddy-router.
//
// They travel over a `control::channel` (channel.hpp), which delivers whole
// messages and authenticates the peer; this file only says what the bytes
// mean.  Every message is
//
//   [message_header (16 bytes)][body]
//
// and bodies are built and read with `writer` / `reader`, which never read or
// write outside the buffer.  Requests get exactly one reply of the matching
// *_reply type; `status != 0` in a reply means refusal and the body is then a
// UTF-8 sentence saying why.  The router may also send `job_failed` at any
// time; a rank treats it as fatal.
//
//   rank                                router
//   hello {job, rank, size, ..., secret} ---> checks the secret against the job's
//                                        (bound by the job's first hello here),
//                                        creates the rank's two ring segments
//                                 <---  hello_reply {pid, threads, segment names,
//                                                    one UCX worker address per thread}
//   (opens and checks both segments)
//   attached                      --->  unlinks the names (the mappings stay)
//
// Placement dpu (hello_flag_rma, over TCP) replaces the segments by rings over
// RMA: the reply carries, per router thread, the worker address serving them
// and the router's sides (its copy of the outbound ring, its staging copy of
// the inbound ring); the rank registers its own (outbound staging, inbound
// ring), connects, and its `attached` carries its worker address and sides;
// the router connects back before attached_reply.
//                                 <---  attached_reply
//   (ranks allgather router addresses with MPI; the first rank of each router:)
//   table {job, rank->router, routers' addresses} ---> starts routing the job
//                                 <---  table_reply
//   ... data through the rings ...
//   detach                        --->  drops the rank's rings
//                                 <---  detach_reply
//
// A connection that closes without `detach` means the rank died: the router
// reclaims its rings and sends job_failed to the other ranks of that job.
// Header-only, no dependencies beyond the standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "buddy/control/job_secret.hpp"

namespace buddy::control {

inline constexpr std::uint32_t magic = 0x4C544442;  // "BDTL" read little-endian
inline constexpr std::uint16_t version = 7;  // 2: names of 128 bytes (they carry the host name); 3: hello flags; 4: table carries the route; 5: hello carries the job secret; 6: stats reply carries hardware counters per thread; 7: rings over RMA (hello flag, reply flags and sides, attached carries the rank's sides)
/// Largest message either side accepts (tables of big jobs fit comfortably).
inline constexpr std::size_t max_message_bytes = 1u << 20;
/// Fixed size of segment and node names in messages (NUL-padded): a host name
/// (at most 64 bytes on Linux) plus the rest of a segment name fits.
inline constexpr std::size_t name_bytes = 128;

enum class type : std::uint16_t {
    hello = 1,
    hello_reply = 2,
    attached = 3,
    attached_reply = 4,
    table = 5,
    table_reply = 6,
    detach = 7,
    detach_reply = 8,
    job_failed = 9,
    stats = 10,        // see "Counters of a job" below
    stats_reply = 11,
};

const char* name_of(type t) noexcept;

struct message_header {
    std::uint32_t magic;
    std::uint16_t version;
    std::uint16_t type;
    std::uint32_t bytes;   ///< whole message, header included
    std::uint32_t status;  ///< 0: ok; otherwise the body is an error sentence
};
static_assert(sizeof(message_header) == 16);

struct hello {
    std::uint64_t job;
    std::uint32_t rank;
    std::uint32_t job_size;
    std::uint32_t local_index;  ///< index among the ranks of this node
    std::uint32_t pid;
    std::uint64_t ring_bytes;   ///< capacity of each ring
    std::uint64_t granularity;  ///< the job's batch size (router-to-router batches, inbound chunks)
    std::uint64_t max_message;  ///< the job's largest payload
    std::uint32_t depth;        ///< batches in flight per next hop
    std::int32_t numa_node;     ///< the rank's NUMA node (its inbound rings go there), -1: unknown
    std::uint32_t flags;        ///< hello_flag_*; other bits must be 0
    std::uint32_t reserved;     ///< 0
    /// The job's secret (job_secret.hpp), the same in every hello of the job:
    /// the router binds the job id to the first one it accepts.  All zeros:
    /// none, which only a Unix socket (peer uid checked) accepts.
    std::uint8_t secret[secret_bytes];
};
static_assert(sizeof(hello) == 64 + secret_bytes);
/// The job seals batches and ring chunks with a CRC-32C (BUDDY_CHECKSUM).
inline constexpr std::uint32_t hello_flag_checksum = 1;
/// Placement dpu: the rank cannot map the router's memory; its rings travel
/// over UCX RMA.  The reply then carries the router's ring sides
/// (hello_reply_flag_rma) and the rank's `attached` carries its own
/// (bodies.hpp, rma_thread_rings).
inline constexpr std::uint32_t hello_flag_rma = 2;

struct hello_reply {
    std::uint64_t instance;  ///< random id of this router process (tells routers apart)
    std::uint32_t pid;
    std::uint32_t threads;   ///< one outbound and one inbound ring per thread
    char out_segment[name_bytes];  ///< the rank's outbound rings, `threads` of them
    char in_segment[name_bytes];   ///< the rank's inbound rings, `threads` of them
    char node[name_bytes];         ///< host name of the router
    std::uint32_t flags;           ///< hello_reply_flag_*; other bits must be 0
    std::uint32_t reserved;        ///< 0
    // followed by `threads` blobs (u32 length + bytes, padded to 8): UCX worker
    // addresses; with hello_reply_flag_rma, then the router's rings over RMA
    // (bodies.hpp: put_rma_rings), one entry per thread.
};
/// Rings over RMA follow the addresses (the answer to hello_flag_rma); the
/// segment names are then empty.
inline constexpr std::uint32_t hello_reply_flag_rma = 1;

struct table {
    std::uint64_t job;
    std::uint32_t routers;
    std::uint32_t ranks;
    std::uint32_t route;  ///< buddy::routing of the job: how routers pick next hops
    std::uint32_t zero;
    // followed by ranks x u32 (router index of each rank), padded to 8, then
    // per router: u64 instance, u32 threads, u32 0, `threads` address blobs
};

struct job_failed {
    std::uint32_t rank;  ///< the rank whose death failed the job (~0u: not a rank)
    std::uint32_t pad;
    // followed by the reason (rest of the message)
};

inline constexpr std::uint32_t no_rank = 0xFFFFFFFFu;

// ---- Counters of a job (the end-of-job report) ----
//
//   stats {job}                   --->  (any attached rank, for its own job)
//                                 <---  stats_reply {threads, fields},
//                                       then per thread: fields u64 counters,
//                                       u64 links, links x (u64 to, batches, bytes),
//                                       u64 hardware counters available (0/1), blob
//                                       reason, blob: the counters (a JSON object)
//
// The counters are the router's per-thread counters for that job, in the order
// of buddy::router_counter_fields; `fields` lets the rank refuse a router built
// with another list instead of misreading it.
struct stats_request {
    std::uint64_t job;
};
struct stats_reply {
    std::uint32_t threads;
    std::uint32_t fields;  ///< counters per thread
    // followed per thread by fields u64, then its links (see above)
};

/// Copies `s` into a fixed NUL-padded name field.  False (field left empty)
/// when it does not fit: a truncated segment name would name another segment.
[[nodiscard]] inline bool set_name(char (&field)[name_bytes], std::string_view s) noexcept {
    std::memset(field, 0, name_bytes);
    if (s.size() >= name_bytes) return false;
    std::memcpy(field, s.data(), s.size());
    return true;
}
inline std::string get_name(const char (&field)[name_bytes]) {
    std::size_t n = 0;
    while (n < name_bytes && field[n] != '\0') ++n;
    return std::string(field, n);
}

/// Builds one message.
class writer {
public:
    explicit writer(type t, std::uint32_t status = 0) {
        const message_header h{magic, version, static_cast<std::uint16_t>(t), 0, status};
        put(h);
    }
    template <typename T>
    writer& put(const T& v) {
        static_assert(std::is_trivially_copyable_v<T>);
        // resize + memcpy rather than insert(): GCC 12 misreads the latter on an
        // empty vector as an overflow (-Wstringop-overflow).
        const std::size_t at = buf_.size();
        buf_.resize(at + sizeof v);
        std::memcpy(buf_.data() + at, &v, sizeof v);
        return *this;
    }
    writer& put_bytes(std::span<const std::byte> b) {
        buf_.insert(buf_.end(), b.begin(), b.end());
        return *this;
    }
    /// u32 length, the bytes, zero padding to a multiple of 8.
    writer& put_blob(std::span<const std::byte> b) {
        put(static_cast<std::uint32_t>(b.size()));
        put_bytes(b);
        pad();
        return *this;
    }
    writer& put_text(std::string_view s) {
        put_bytes(std::as_bytes(std::span<const char>(s.data(), s.size())));
        return *this;
    }
    writer& pad() {
        while (buf_.size() % 8 != 0) buf_.push_back(std::byte{0});
        return *this;
    }
    /// What follows the header so far: lets a part of a message be built on
    /// one rank and shipped (with MPI) to the rank that sends the message.
    std::span<const std::byte> body() const noexcept {
        return std::span<const std::byte>(buf_).subspan(sizeof(message_header));
    }
    /// The finished message (fills in the length).
    const std::vector<std::byte>& done() {
        const auto n = static_cast<std::uint32_t>(buf_.size());
        std::memcpy(buf_.data() + offsetof(message_header, bytes), &n, sizeof n);
        return buf_;
    }

private:
    std::vector<std::byte> buf_;
};

/// Reads one message; every get fails (returns false) rather than read past the end.
class reader {
public:
    reader() = default;
    explicit reader(std::span<const std::byte> m) : m_(m) {}

    /// Checks magic, version and length; fills `header`.
    bool open(message_header& header) {
        at_ = 0;
        if (!get(header)) return false;
        if (header.magic != magic || header.version != version || header.bytes != m_.size()) return false;
        return true;
    }
    template <typename T>
    bool get(T& v) {
        static_assert(std::is_trivially_copyable_v<T>);
        if (m_.size() - at_ < sizeof v) return false;
        std::memcpy(&v, m_.data() + at_, sizeof v);
        at_ += sizeof v;
        return true;
    }
    bool get_blob(std::span<const std::byte>& out) {
        std::uint32_t n = 0;
        if (!get(n) || m_.size() - at_ < n) return false;
        out = m_.subspan(at_, n);
        at_ += n;
        skip_pad();
        return at_ <= m_.size();
    }
    bool skip_pad() {
        while (at_ % 8 != 0 && at_ < m_.size()) ++at_;
        return true;
    }
    /// Bytes not read yet: what a count in the message may claim at most.
    std::size_t left() const noexcept { return m_.size() - at_; }
    std::string rest_text() {
        std::string s(reinterpret_cast<const char*>(m_.data() + at_), m_.size() - at_);
        at_ = m_.size();
        return s;
    }

private:
    std::span<const std::byte> m_;
    std::size_t at_ = 0;
};

inline const char* name_of(type t) noexcept {
    switch (t) {
        case type::hello: return "hello";
        case type::hello_reply: return "hello_reply";
        case type::attached: return "attached";
        case type::attached_reply: return "attached_reply";
        case type::table: return "table";
        case type::table_reply: return "table_reply";
        case type::detach: return "detach";
        case type::detach_reply: return "detach_reply";
        case type::job_failed: return "job_failed";
        case type::stats: return "stats";
        case type::stats_reply: return "stats_reply";
    }
    return "unknown";
}

}  // namespace buddy::control
