// The engine driven with no processes and no network: a fake link records the
// batches the aggregator hands it and returns credit when the test says so.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "buddy/engine/aggregator.hpp"
#include "buddy/wire/batch.hpp"

using namespace buddy;

namespace {

struct fake_link {
    engine::aggregator* agg = nullptr;
    bool complete_immediately = true;
    std::vector<std::vector<std::byte>> sent;   // copies of every batch sent
    std::deque<engine::batch_buffer*> pending;  // batches whose completion is held back
    int credit_waits = 0;
    // Producer running while waiting, like handlers that send (re-entrancy).
    std::function<void()> while_waiting;
    // Waits that return with no credit, as a wait does when only other hops'
    // traffic moved, before the one that returns credit; and the start of the
    // wait each call was given.
    int waits_without_credit = 0;
    int skipped = 0;
    std::vector<std::chrono::steady_clock::time_point> since_seen;

    void send(engine::batch_buffer* b) {
        sent.emplace_back(b->data(), b->data() + b->bytes);
        if (complete_immediately) {
            agg->completed(b);
        } else {
            pending.push_back(b);
        }
    }
    void wait_for_credit(std::uint32_t, std::chrono::steady_clock::time_point since) {
        ++credit_waits;
        since_seen.push_back(since);
        if (skipped < waits_without_credit) {
            ++skipped;
            return;
        }
        skipped = 0;
        if (while_waiting) {
            auto f = std::move(while_waiting);
            while_waiting = nullptr;
            f();
        }
        REQUIRE_FALSE(pending.empty());  // otherwise the aggregator would wait forever
        agg->completed(pending.front());
        pending.pop_front();
    }
};

// Writes one record with a payload of `payload` bytes, as async() does.
void produce(engine::aggregator& agg, fake_link& link, std::uint32_t hop, std::uint32_t dest,
             std::size_t payload, std::uint8_t fill) {
    const std::size_t bytes = wire::record_bytes_for(payload);
    wire::window* w = &agg.windows()[hop];
    if (static_cast<std::size_t>(w->limit - w->cursor) < bytes) agg.make_room(hop, bytes, link);
    w = &agg.windows()[hop];
    std::byte* p = wire::write_header(w->cursor, dest, 0, payload);
    std::memset(p, fill, payload);
    wire::write_padding(p + payload, wire::header_bytes_for(payload) + payload);
    w->cursor += bytes;
    ++w->records;
}

wire::batch_limits limits(std::uint32_t ranks) {
    wire::batch_limits l;
    l.job = 42;
    l.ranks = ranks;
    return l;
}

std::uint64_t records_in(const std::vector<std::vector<std::byte>>& batches, std::uint32_t ranks) {
    std::uint64_t n = 0;
    for (const auto& b : batches) {
        const auto r = wire::parse_batch(b, limits(ranks));
        REQUIRE(r);
        n += r.header.records;
    }
    return n;
}

}  // namespace

TEST_CASE("batches are sent when they reach the granularity, and flush sends the rest") {
    engine::aggregator agg({1024, 4, 42, 3}, 2);
    fake_link link{&agg};
    for (int i = 0; i < 1000; ++i) produce(agg, link, static_cast<std::uint32_t>(i % 2), i % 2, 8, 1);
    // 16-byte records, 1024-byte batches: 64 per batch, 500 per hop -> 7 full each.
    CHECK(link.sent.size() == 14);
    for (const auto& b : link.sent) CHECK(b.size() == wire::batch_header_bytes + 1024);
    CHECK(agg.counters().flush_full == 14);
    CHECK(agg.any_records());
    CHECK(agg.records_written() == 1000);
    CHECK(agg.flush_all(engine::flush_reason::barrier, link) == 2);
    CHECK_FALSE(agg.any_records());
    CHECK(agg.counters().flush_barrier == 2);
    CHECK(records_in(link.sent, 2) == 1000);
    CHECK(agg.counters().records_sent == 1000);
    CHECK(agg.total_in_flight() == 0);
    CHECK(agg.pool().outstanding() == 0);
}

TEST_CASE("batch headers carry job, source and exact counts; records arrive intact and in order") {
    engine::aggregator agg({4096, 2, 42, 5}, 1);
    fake_link link{&agg};
    std::vector<std::size_t> sizes;
    for (int i = 0; i < 300; ++i) sizes.push_back(static_cast<std::size_t>((i * 37) % 500));
    for (std::size_t i = 0; i < sizes.size(); ++i) produce(agg, link, 0, 0, sizes[i], static_cast<std::uint8_t>(i));
    agg.flush_all(engine::flush_reason::barrier, link);
    std::size_t i = 0;
    for (const auto& b : link.sent) {
        const auto r = wire::parse_batch(b, limits(1));
        REQUIRE(r);
        CHECK(r.header.source == 5);
        CHECK(r.header.job == 42);
        wire::for_each_record(r.records, [&](const wire::record_header&, const std::byte* p, std::size_t n,
                                             const std::byte*, std::size_t) {
            REQUIRE(i < sizes.size());
            CHECK(n == sizes[i]);
            for (std::size_t k = 0; k < n; ++k) REQUIRE(p[k] == std::byte(static_cast<std::uint8_t>(i)));
            ++i;
        });
    }
    CHECK(i == sizes.size());
}

TEST_CASE("no more than `depth` batches are in flight per hop") {
    engine::aggregator agg({256, 3, 42, 0}, 1);
    fake_link link{&agg};
    link.complete_immediately = false;
    for (int i = 0; i < 16 * 20; ++i) {
        produce(agg, link, 0, 0, 8, 1);
        CHECK(agg.in_flight(0) <= 3);
    }
    CHECK(link.credit_waits > 0);
    CHECK(agg.counters().credit_waits == static_cast<std::uint64_t>(link.credit_waits));
    while (!link.pending.empty()) {
        agg.completed(link.pending.front());
        link.pending.pop_front();
    }
    agg.flush_all(engine::flush_reason::barrier, link);
    while (!link.pending.empty()) {
        agg.completed(link.pending.front());
        link.pending.pop_front();
    }
    CHECK(records_in(link.sent, 1) == 320);
    CHECK(agg.pool().outstanding() == 0);
}

TEST_CASE("a wait for credit keeps its start across calls that return without credit") {
    // The link's limit on a wait counts from `since`: a wait that returns
    // because other traffic moved must not restart it, or a dead hop would
    // never time out while other ranks keep sending.
    engine::aggregator agg({256, 1, 42, 0}, 1);
    fake_link link{&agg};
    link.complete_immediately = false;
    link.waits_without_credit = 3;
    for (int i = 0; i < 16 * 5; ++i) produce(agg, link, 0, 0, 8, 1);  // 5+ batches, depth 1
    REQUIRE(link.since_seen.size() >= 8);
    // Each flush's wait: 3 calls without credit, then one with; one start for all four.
    for (std::size_t i = 0; i + 4 <= link.since_seen.size(); i += 4) {
        CAPTURE(i);
        CHECK(link.since_seen[i + 1] == link.since_seen[i]);
        CHECK(link.since_seen[i + 2] == link.since_seen[i]);
        CHECK(link.since_seen[i + 3] == link.since_seen[i]);
    }
    CHECK(link.since_seen[4] > link.since_seen[0]);  // the next flush's wait starts anew
    CHECK(agg.counters().credit_waits == static_cast<std::uint64_t>(link.credit_waits));
    // Everything sent completes and returns to the pool.
    link.waits_without_credit = 0;
    agg.flush_all(engine::flush_reason::barrier, link);
    while (!link.pending.empty()) {
        agg.completed(link.pending.front());
        link.pending.pop_front();
    }
    CHECK(records_in(link.sent, 1) == 16 * 5);
    CHECK(agg.pool().outstanding() == 0);
}

TEST_CASE("a producer that writes to the same hop while the engine waits loses nothing") {
    engine::aggregator agg({256, 1, 42, 0}, 1);
    fake_link link{&agg};
    link.complete_immediately = false;
    int nested = 0;
    // First record batch goes out; the next flush must wait; while it waits a
    // "handler" produces 40 more records to the same hop.
    link.while_waiting = [&] {
        for (int i = 0; i < 40; ++i) produce(agg, link, 0, 0, 8, 2);
        nested = 40;
    };
    for (int i = 0; i < 100; ++i) produce(agg, link, 0, 0, 8, 1);
    while (!link.pending.empty()) {
        agg.completed(link.pending.front());
        link.pending.pop_front();
    }
    link.complete_immediately = true;
    agg.flush_all(engine::flush_reason::barrier, link);
    CHECK(nested == 40);
    CHECK(records_in(link.sent, 1) == 140);
    CHECK(agg.records_written() == 140);
    CHECK(agg.pool().outstanding() == 0);
}

TEST_CASE("a record larger than the granularity travels in a batch of its own") {
    engine::aggregator agg({128, 4, 42, 0}, 1);
    fake_link link{&agg};
    produce(agg, link, 0, 0, 8, 1);
    produce(agg, link, 0, 0, 5000, 2);  // does not fit: the open batch goes, a big one opens
    produce(agg, link, 0, 0, 8, 3);
    agg.flush_all(engine::flush_reason::barrier, link);
    REQUIRE(link.sent.size() == 3);
    CHECK(link.sent[1].size() == wire::batch_header_bytes + wire::record_bytes_for(5000));
    CHECK(records_in(link.sent, 1) == 3);
    CHECK(agg.pool().outstanding() == 0);
}

TEST_CASE("idle flush of an empty engine sends nothing") {
    engine::aggregator agg({1024, 4, 42, 0}, 3);
    fake_link link{&agg};
    CHECK(agg.flush_all(engine::flush_reason::idle, link) == 0);
    CHECK(link.sent.empty());
}
