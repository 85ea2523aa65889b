// Fuzzes the control-plane messages (lib/control): one input is one message
// as a channel delivers it, decoded the way its receiver decodes it.
//
//   hello        -> reader::get + the router's hello_settings_refusal()
//   hello_reply  -> read_hello_reply() (the rank), rings over RMA included
//   attached     -> read_rma_rings() (the router, for a dpu rank)
//   table        -> read_table() (the router)
//   job_failed   -> the job_failed head and its reason (the rank)
//   stats        -> the stats request (the router)
//   stats_reply  -> read_stats_reply() (the rank), and its re-encoding
//   the rest     -> header only; a refusal (status != 0) is a sentence
//
// Contract checked (abort on violation):
//  * no read outside the message, no UB, no exception other than what a
//    reader never throws (none), no allocation a message does not pay for
//    (libFuzzer's -malloc_limit_mb);
//  * reader::open accepts exactly the messages whose magic, version and
//    length are right;
//  * an accepted table or hello reply re-encodes (table_message(),
//    hello_reply_message()) into a message that decodes to the same value,
//    and a refused one says why (a non-empty sentence);
//  * a hello the router accepts has every setting in the knob ranges, a ring
//    that holds the largest message, and a rank inside the job;
//  * the TCP channel's framing (detail::framed_length(), which finds where a
//    message ends in a stream) agrees with reader::open: it frames a message
//    as exactly the length open() accepts, and any length it gives is between
//    a header and max_message_bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "buddy/config.hpp"
#include "buddy/stats.hpp"
#include "buddy/control/bodies.hpp"
#include "buddy/control/detail/framing.hpp"
#include "buddy/router/hello_validation.hpp"

namespace ctl = buddy::control;

namespace {

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "fuzz_control: contract violated: %s\n", what);
    std::abort();
}
#define EXPECT(cond) \
    do {             \
        if (!(cond)) violated(#cond); \
    } while (0)

// Counters per router thread that this build's ranks expect.
constexpr auto fields_known = static_cast<std::uint32_t>(std::size(buddy::router_counter_fields));

ctl::reader opened(std::span<const std::byte> m, ctl::message_header& h) {
    ctl::reader r(m);
    EXPECT(r.open(h));
    return r;
}

bool same(const ctl::table_body& a, const ctl::table_body& b) {
    if (a.job != b.job || a.route != b.route || a.rank_to_router != b.rank_to_router || a.routers.size() != b.routers.size()) return false;
    for (std::size_t i = 0; i < a.routers.size(); ++i)
        if (a.routers[i].instance != b.routers[i].instance || a.routers[i].addresses != b.routers[i].addresses)
            return false;
    return true;
}

void check_table(ctl::reader& r) {
    ctl::table_body t;
    const std::string bad = ctl::read_table(r, t);
    if (!bad.empty()) return;
    EXPECT(!t.routers.empty() && t.routers.size() <= t.rank_to_router.size());
    for (std::uint32_t v : t.rank_to_router) EXPECT(v < t.routers.size());
    for (const auto& e : t.routers) EXPECT(!e.addresses.empty());
    const std::vector<std::byte> again = ctl::table_message(t);
    ctl::message_header h{};
    ctl::reader r2 = opened(again, h);
    EXPECT(h.type == static_cast<std::uint16_t>(ctl::type::table));
    ctl::table_body t2;
    EXPECT(ctl::read_table(r2, t2).empty());
    EXPECT(same(t, t2));
}

void check_hello_reply(ctl::reader& r) {
    ctl::hello_reply_body b;
    const std::string bad = ctl::read_hello_reply(r, b);
    if (!bad.empty()) return;
    EXPECT(b.head.threads == b.addresses.size() && b.head.threads != 0);
    // Names read back shorter than their field (NUL-terminated).
    EXPECT(ctl::get_name(b.head.node).size() < ctl::name_bytes);
    std::vector<std::span<const std::byte>> spans(b.addresses.begin(), b.addresses.end());
    EXPECT(b.rma.size() == ((b.head.flags & ctl::hello_reply_flag_rma) ? b.head.threads : 0u));
    const std::vector<std::byte> again = ctl::hello_reply_message(b.head, spans, b.rma);
    ctl::message_header h{};
    ctl::reader r2 = opened(again, h);
    ctl::hello_reply_body b2;
    EXPECT(ctl::read_hello_reply(r2, b2).empty());
    EXPECT(std::memcmp(&b.head, &b2.head, sizeof b.head) == 0 && b.addresses == b2.addresses);
    EXPECT(b.rma.size() == b2.rma.size());
    for (std::size_t i = 0; i < b.rma.size(); ++i)
        EXPECT(b.rma[i].worker == b2.rma[i].worker && b.rma[i].outbound == b2.rma[i].outbound &&
               b.rma[i].inbound == b2.rma[i].inbound);
}

// attached with a body: a dpu rank's rings over RMA (the router reads them
// for the thread count it has; here, for the count the body claims).
void check_attached(ctl::reader& r) {
    if (r.left() < 4) return;
    std::uint32_t claimed = 0;
    ctl::reader peek = r;
    (void)peek.get(claimed);
    std::vector<ctl::rma_thread_rings> rings;
    const std::string bad = ctl::read_rma_rings(r, claimed, rings);
    if (!bad.empty()) return;
    EXPECT(rings.size() == claimed);
    for (const auto& t : rings) EXPECT(!t.worker.empty() && !t.outbound.empty() && !t.inbound.empty());
}

void check_hello(ctl::reader& r) {
    ctl::hello h{};
    if (!r.get(h)) return;
    const std::string bad = buddy::router::hello_settings_refusal(h);
    if (!bad.empty()) return;
    using kr = buddy::knob_range;
    EXPECT(h.job != 0 && h.rank < h.job_size);
    EXPECT(h.ring_bytes >= kr::ring_bytes_min && h.ring_bytes <= kr::ring_bytes_max);
    EXPECT((h.ring_bytes & (h.ring_bytes - 1)) == 0);
    EXPECT(h.granularity >= kr::granularity_min && h.granularity <= kr::granularity_max);
    EXPECT(h.depth >= kr::depth_min && h.depth <= kr::depth_max);
    EXPECT(h.max_message >= kr::max_message_min && h.max_message <= kr::max_message_max);
    EXPECT(h.ring_bytes >= 2 * h.max_message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > ctl::max_message_bytes) return 0;  // a channel drops those before any decoding
    const std::span<const std::byte> m(reinterpret_cast<const std::byte*>(data), size);
    ctl::reader r(m);
    ctl::message_header h{};
    const bool ok = r.open(h);
    bool expect_ok = size >= sizeof h;
    if (expect_ok) {
        ctl::message_header raw;
        std::memcpy(&raw, data, sizeof raw);
        expect_ok = raw.magic == ctl::magic && raw.version == ctl::version && raw.bytes == size;
    }
    EXPECT(ok == expect_ok);
    const std::size_t framed = ctl::detail::framed_length(m);
    EXPECT(framed == 0 || (framed >= sizeof h && framed <= ctl::max_message_bytes));
    EXPECT(ok == (framed != 0 && framed == size));  // framed 0: not a message (an empty input included)
    if (!ok) return 0;
    EXPECT(r.left() == size - sizeof h);
    if (h.status != 0) {  // a refusal: the body is the reason
        const std::string why = r.rest_text();
        EXPECT(why.size() == size - sizeof h && r.left() == 0);
        return 0;
    }
    switch (static_cast<ctl::type>(h.type)) {
        case ctl::type::hello: check_hello(r); break;
        case ctl::type::hello_reply: check_hello_reply(r); break;
        case ctl::type::attached: check_attached(r); break;
        case ctl::type::table: check_table(r); break;
        case ctl::type::job_failed: {
            ctl::job_failed f{};
            if (r.get(f)) (void)r.rest_text();
            break;
        }
        case ctl::type::stats: {
            ctl::stats_request q{};
            (void)r.get(q);
            break;
        }
        case ctl::type::stats_reply: {
            // The rank's decoding (read_stats_reply) with the counter count of
            // this build; what it accepts re-encodes to the same value.
            std::vector<ctl::stats_thread> threads;
            const std::string bad = ctl::read_stats_reply(r, fields_known, threads);
            if (!bad.empty()) break;
            const std::vector<std::byte> again = ctl::stats_reply_message(fields_known, threads);
            ctl::message_header h2{};
            ctl::reader r2 = opened(again, h2);
            std::vector<ctl::stats_thread> threads2;
            EXPECT(ctl::read_stats_reply(r2, fields_known, threads2).empty());
            EXPECT(threads2.size() == threads.size());
            for (std::size_t i = 0; i < threads.size(); ++i) {
                EXPECT(threads2[i].counters == threads[i].counters);
                EXPECT(threads2[i].links.size() == threads[i].links.size());
                EXPECT(threads2[i].hw_available == threads[i].hw_available);
                EXPECT(threads2[i].hw_reason == threads[i].hw_reason);
                EXPECT(threads2[i].hw_counters == threads[i].hw_counters);
            }
            break;
        }
        default: {
            std::span<const std::byte> blob;
            while (r.get_blob(blob)) EXPECT(blob.data() >= m.data() && blob.data() + blob.size() <= m.data() + m.size());
            EXPECT(r.left() <= size);
            break;
        }
    }
    return 0;
}
