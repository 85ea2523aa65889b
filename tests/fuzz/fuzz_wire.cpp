// Fuzzes the record cursor and the batch parser (lib/wire): the code that
// reads every record a rank or router receives, from a ring or the network.
//
// Input: 8 bytes of limits, then the buffer.
//   [0]    mode: bit 0 set: take the job from the buffer's batch header (so
//          batches get past the job check), clear: job 7
//   [1..2] ranks (u16), [3] handlers (0: not checked), [4] only_dest (>= 0x80: any)
//   [5..7] max_payload (u24; 0xFFFFFF: the format's maximum)
//
// Contract checked (abort on violation, so the fuzzer reports it):
//  * no read outside the buffer (ASan), no UB (UBSan), no exception;
//  * every record a checked cursor yields lies inside the buffer, right after
//    the previous one, is within the limits, and is the one encoding a writer
//    produces (re-encoding it with write_header gives the same header bytes);
//  * a walk that ends without error ends exactly at the end of the buffer; one
//    that stops has an error and stays at the bad record, and yields nothing more;
//  * the router's cursor (fewer checks) accepts at least what the checked one
//    does, and the trusted cursor walks an accepted prefix identically;
//  * a batch: parse_batch() and for_each_checked_record() agree; an accepted
//    batch counts its records right, for_each_record() visits the same ones,
//    and re-encoding it gives a batch that parses to the same records;
//    a refused one has a message (describe()) naming the offset.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "buddy/wire/batch.hpp"

namespace w = buddy::wire;

namespace {

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "fuzz_wire: contract violated: %s\n", what);
    std::abort();
}
#define EXPECT(cond) \
    do {             \
        if (!(cond)) violated(#cond); \
    } while (0)

struct seen {
    std::size_t offset;
    std::uint32_t dest;
    std::uint16_t handler;
    std::size_t payload_bytes;
};

// Walks `buf` with cursor type C and checks what it yields; returns the records.
template <typename C>
std::vector<seen> walk(std::span<const std::byte> buf, const w::record_limits& lim, std::size_t start,
                       bool checked, w::record_error& err, std::size_t& end) {
    C c = [&] {
        if constexpr (std::is_same_v<C, w::trusted_record_cursor>) return C(buf, start);
        else return C(buf, lim, start);
    }();
    std::vector<seen> out;
    std::size_t expect_at = start;
    const std::byte* const base = buf.data();
    for (w::record_view v; c.next(v);) {
        EXPECT(v.record == base + expect_at);
        EXPECT(v.record_bytes % w::record_alignment == 0 && v.record_bytes >= w::short_header_bytes);
        EXPECT(v.payload == v.record + w::header_bytes_for(v.payload_bytes));
        EXPECT(v.record_bytes == w::record_bytes_for(v.payload_bytes));
        if (checked) {
            EXPECT(expect_at + v.record_bytes <= buf.size());
            EXPECT(v.header.dest < lim.ranks);
            // The one encoding: a writer's header for this record is byte for byte the one read.
            std::byte again[w::long_header_bytes];
            const std::size_t h = static_cast<std::size_t>(
                w::write_header(again, v.header.dest, v.header.handler, v.payload_bytes) - again);
            EXPECT(h == w::header_bytes_for(v.payload_bytes));
            EXPECT(std::memcmp(again, v.record, h) == 0);
        }
        out.push_back({expect_at, v.header.dest, v.header.handler, v.payload_bytes});
        expect_at += v.record_bytes;
        EXPECT(c.offset() == expect_at);
    }
    err = c.error();
    end = c.offset();
    w::record_view more;
    EXPECT(!c.next(more));  // a finished or stopped walk stays finished
    if (checked) {
        if (err.error == w::parse_errc::ok) EXPECT(end == buf.size() || start >= buf.size());
        else EXPECT(end == expect_at && err.offset >= end && err.offset < buf.size());
    }
    return out;
}

bool same(const std::vector<seen>& a, const std::vector<seen>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].offset != b[i].offset || a[i].dest != b[i].dest || a[i].handler != b[i].handler ||
            a[i].payload_bytes != b[i].payload_bytes)
            return false;
    return true;
}

void fuzz_records(std::span<const std::byte> buf, const w::record_limits& lim) {
    w::record_error err, rerr, terr;
    std::size_t end = 0, rend = 0, tend = 0;
    const auto checked = walk<w::record_cursor>(buf, lim, 0, true, err, end);
    for (const seen& s : checked) {
        EXPECT(lim.handlers == 0 || s.handler < lim.handlers);
        EXPECT(lim.only_dest == w::record_limits::any_dest || s.dest == lim.only_dest);
        EXPECT(s.payload_bytes <= lim.max_payload);
    }
    // The router's walk checks less: it gets at least as far, over the same records.
    const auto routed = walk<w::router_record_cursor>(buf, lim, 0, true, rerr, rend);
    EXPECT(routed.size() >= checked.size());
    EXPECT(std::equal(checked.begin(), checked.end(), routed.begin(), [](const seen& a, const seen& b) {
        return a.offset == b.offset && a.dest == b.dest && a.handler == b.handler && a.payload_bytes == b.payload_bytes;
    }));
    // What the checked cursor accepted, the trusted one walks the same way.
    const auto trusted = walk<w::trusted_record_cursor>(buf.first(end), lim, 0, false, terr, tend);
    EXPECT(same(checked, trusted));
    EXPECT(tend == end);
    // A paused walk resumed from where it stopped sees the rest: resume after the first record.
    if (!checked.empty()) {
        w::record_error perr;
        std::size_t pend = 0;
        const std::size_t second = checked.size() > 1 ? checked[1].offset : end;
        const auto rest = walk<w::record_cursor>(buf, lim, second, true, perr, pend);
        EXPECT(rest.size() == checked.size() - 1 && pend == end && perr.error == err.error);
    }
}

void fuzz_batch(std::span<const std::byte> buf, const w::batch_limits& lim) {
    std::vector<seen> visited;
    const w::parse_result r =
        w::for_each_checked_record(buf, lim, [&](const w::record_header& h, const std::byte* p, std::size_t n) {
            EXPECT(p >= buf.data() && p + n <= buf.data() + buf.size());
            visited.push_back({static_cast<std::size_t>(p - buf.data()), h.dest, h.handler, n});
        });
    const w::parse_result again = w::parse_batch(buf, lim);
    EXPECT(again.error == r.error && again.offset == r.offset && again.value == r.value);
    const std::string text = w::describe(r);
    EXPECT(!text.empty());
    if (!r) {
        EXPECT(text.find("offset " + std::to_string(r.offset)) != std::string::npos);
        EXPECT(r.offset <= buf.size() || r.error == w::parse_errc::count_mismatch);
        return;
    }
    EXPECT(r.header.records == visited.size());
    EXPECT(r.records.data() == buf.data() + w::batch_header_bytes && r.records.size() == buf.size() - w::batch_header_bytes);
    EXPECT(r.header.job == lim.job && r.header.bytes == r.records.size());
    std::size_t i = 0;
    std::vector<std::byte> rebuilt(buf.size());
    std::byte* at = rebuilt.data() + w::batch_header_bytes;
    w::for_each_record(r.records, [&](const w::record_header& h, const std::byte* p, std::size_t n, const std::byte* rec,
                                      std::size_t rec_bytes) {
        EXPECT(i < visited.size());
        EXPECT(visited[i].dest == h.dest && visited[i].handler == h.handler && visited[i].payload_bytes == n);
        EXPECT(p == buf.data() + visited[i].offset && rec + rec_bytes <= buf.data() + buf.size());
        ++i;
        // Re-encoded as a writer would: header, payload, zero padding.
        std::byte* payload = w::write_header(at, h.dest, h.handler, n);
        std::memcpy(payload, p, n);
        w::write_padding(payload + n, w::header_bytes_for(n) + n);
        at += w::record_bytes_for(n);
    });
    EXPECT(i == visited.size());
    EXPECT(at == rebuilt.data() + rebuilt.size());
    w::write_batch_header(rebuilt.data(), r.header.job, r.header.source, r.header.records, r.header.bytes);
    std::vector<seen> revisited;
    const w::parse_result r2 =
        w::for_each_checked_record(rebuilt, lim, [&](const w::record_header& h, const std::byte* p, std::size_t n) {
            revisited.push_back({static_cast<std::size_t>(p - rebuilt.data()), h.dest, h.handler, n});
        });
    EXPECT(r2 && r2.header.source == r.header.source && same(visited, revisited));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 8) return 0;
    const std::uint8_t mode = data[0];
    w::batch_limits lim;
    lim.ranks = static_cast<std::uint32_t>(data[1] | data[2] << 8);
    lim.handlers = data[3];
    lim.only_dest = data[4] >= 0x80 ? w::batch_limits::any_dest : data[4];
    const std::uint32_t mp = static_cast<std::uint32_t>(data[5] | data[6] << 8 | data[7] << 16);
    lim.max_payload = mp == 0xFFFFFF ? w::max_payload_bytes : mp;
    const std::span<const std::byte> buf(reinterpret_cast<const std::byte*>(data + 8), size - 8);
    lim.job = 7;
    if ((mode & 1) && buf.size() >= 16) std::memcpy(&lim.job, buf.data() + 8, sizeof lim.job);

    fuzz_records(buf, lim.records());
    fuzz_batch(buf, lim);
    return 0;
}
