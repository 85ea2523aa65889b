// The router's data path without processes: rings in heap memory, two
// forwarders in one process talking over UCX, and core pinning.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include <atomic>
#include <thread>

#include "buddy/router/core_pinning.hpp"
#include "buddy/router/forwarder.hpp"
#include "buddy/router/router_thread.hpp"

using namespace buddy;

namespace {

constexpr std::size_t cap = 1 << 16;
constexpr std::uint64_t job_id = 0x1234;

struct heap_ring {
    void* mem = std::aligned_alloc(64, ring::ring_bytes(cap));
    heap_ring() { ring::init_ring(mem, cap); }
    ~heap_ring() { std::free(mem); }
};

struct rank_side {
    heap_ring out, in;
    ring::producer p{out.mem};
    ring::consumer c{in.mem};
};

// Writes `n` records (payload: u64 value) to `dest` into one outbound chunk
// of `producer` (a host or an RMA one); false when the ring has no room.
template <class Producer>
bool try_send(Producer& producer, std::uint32_t dest, std::uint64_t first, std::size_t n) {
    std::size_t granted = 0;
    std::byte* p = producer.try_reserve(n * 16, n * 16, granted);
    if (p == nullptr) return false;
    for (std::size_t i = 0; i < n; ++i) {
        std::byte* body = wire::write_header(p + i * 16, dest, 7, 8);
        const std::uint64_t v = first + i;
        std::memcpy(body, &v, 8);
    }
    producer.commit(n * 16);
    return true;
}

void send(rank_side& r, std::uint32_t dest, std::uint64_t first, std::size_t n) {
    REQUIRE(try_send(r.p, dest, first, n));
}

// The same, sealed as a rank with BUDDY_CHECKSUM=1 seals it: a trailer after the records.
void send_sealed(rank_side& r, std::uint32_t dest, std::uint64_t first, std::size_t n) {
    std::size_t granted = 0;
    std::byte* p = r.p.try_reserve(n * 16 + 8, n * 16 + 8, granted);
    REQUIRE(p != nullptr);
    for (std::size_t i = 0; i < n; ++i) {
        std::byte* body = wire::write_header(p + i * 16, dest, 7, 8);
        const std::uint64_t v = first + i;
        std::memcpy(body, &v, 8);
    }
    wire::write_checksum_trailer(p, n * 16);
    r.p.commit(n * 16 + 8);
}

// Drains a rank's inbound ring (`consumer`, host or RMA): every chunk must be a valid batch for it.
template <class Consumer>
std::vector<std::uint64_t> receive_from(Consumer& consumer, std::uint32_t rank, std::uint32_t ranks,
                                        std::uint64_t job = job_id, bool sealed = false) {
    std::vector<std::uint64_t> got;
    wire::batch_limits lim{job, ranks, 0, wire::max_payload_bytes, rank};
    for (auto c = consumer.front(); c.data() != nullptr; c = consumer.front()) {
        const wire::parse_result res = wire::for_each_checked_record(
            c, lim, [&](const wire::record_header&, const std::byte* payload, std::size_t bytes) {
                REQUIRE(bytes == 8);
                std::uint64_t v;
                std::memcpy(&v, payload, 8);
                got.push_back(v);
            });
        REQUIRE_MESSAGE(res, wire::describe(res));
        CHECK(((res.header.flags & wire::batch_flag_checksum) != 0) == sealed);
        consumer.pop();
    }
    return got;
}

std::vector<std::uint64_t> receive(rank_side& r, std::uint32_t rank, std::uint32_t ranks,
                                   std::uint64_t job = job_id, bool sealed = false) {
    return receive_from(r.c, rank, ranks, job, sealed);
}

std::shared_ptr<router::job_table> table_for(std::vector<std::uint32_t> rank_to_router, std::uint32_t self,
                                              std::vector<const router::forwarder*> routers) {
    auto t = std::make_shared<router::job_table>();
    t->self = self;
    t->rank_to_router = std::move(rank_to_router);
    for (std::size_t i = 0; i < routers.size(); ++i) {
        router::job_table::router_entry e;
        e.instance = i + 1;
        e.name = "router " + std::to_string(i);
        e.addresses.push_back(routers[i]->address());
        t->routers.push_back(e);
    }
    return t;
}

// Steps until `done()` or a generous deadline.  Bounded by time, not by a
// count of passes: on a loaded machine UCX needs wall time to connect two
// workers, however many passes run meanwhile.
template <typename Step, typename Done>
bool step_until(Step step, Done done, double seconds = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        step();
    }
    return true;
}

}  // namespace

TEST_CASE("ring to ring: every record reaches its rank once, in order, as batches") {
    router::forwarder f(0, "test router");
    rank_side r[3];
    auto health = std::make_shared<router::job_health>();
    f.add_job(router::job_settings{job_id, 3, 256, 4, 1024}, table_for({0, 0, 0}, 0, {&f}), health,
              {{0, r[0].out.mem, r[0].in.mem}, {1, r[1].out.mem, r[1].in.mem}, {2, r[2].out.mem, r[2].in.mem}});
    std::map<std::uint32_t, std::vector<std::uint64_t>> got;
    std::uint64_t next[3] = {0, 0, 0};
    for (int round = 0; round < 200; ++round) {
        const auto dest = static_cast<std::uint32_t>(round % 3);
        send(r[round % 2], dest, next[dest] + 1000000 * dest, 10);
        next[dest] += 10;
        f.step();
        for (std::uint32_t d = 0; d < 3; ++d)
            for (auto v : receive(r[d], d, 3)) got[d].push_back(v);
    }
    for (int i = 0; i < 10; ++i) {
        f.step();  // an idle pass flushes partial chunks
        for (std::uint32_t d = 0; d < 3; ++d)
            for (auto v : receive(r[d], d, 3)) got[d].push_back(v);
    }
    for (std::uint32_t d = 0; d < 3; ++d) {
        REQUIRE(got[d].size() == next[d]);
        for (std::size_t i = 0; i < got[d].size(); ++i) CHECK(got[d][i] == i + 1000000 * d);
    }
    CHECK(f.counters().records_local == next[0] + next[1] + next[2]);
    CHECK_FALSE(health->failed.load());
}

// Placement dpu on the router's side: a rank whose rings are over RMA (its
// own worker, staging and inbound copies here in the process, UCX between)
// next to a host rank, in one job: the same pass serves both kinds.
TEST_CASE("a rank over RMA next to a host rank: records both ways, in order, with credit coming back") {
    namespace tp = buddy::transport;
    router::forwarder f(0, "test router");
    rank_side host;  // rank 0
    // Rank 1's side, as dpu_backend makes it.
    tp::worker w("rank 1", 0, tp::worker_features::am_and_rma);
    heap_ring out, in;
    tp::memory_region ro(w, out.mem, ring::ring_bytes(cap)), ri(w, in.mem, ring::ring_bytes(cap));
    tp::write_target writes(w);  // the router's credit and inbound chunks
    writes.expose(out.mem, ring::ring_bytes(cap));
    writes.expose(in.mem, ring::ring_bytes(cap));
    const buddy::control::rma_thread_rings theirs = f.offer_rma_rings(job_id, 1, cap);
    tp::endpoint ep(w, theirs.worker, "test router", tp::endpoint::failure_detection::by_transport);
    // Deep enough never to wait for a slot: over tcp an operation may complete
    // only when its target progresses, and the target (the forwarder) runs on
    // this same thread, between our calls.
    tp::rma_channel ch(w, ep, tp::carrier_for(ep), 4096, 30);
    tp::remote_ring their_out(ep, tp::rma_ring_side::from_bytes(theirs.outbound), ring::ring_bytes(cap));
    tp::remote_ring their_in(ep, tp::rma_ring_side::from_bytes(theirs.inbound), ring::ring_bytes(cap));
    CHECK(f.connect_rma_rings(job_id, 1,
                        {w.address(), tp::rma_ring_side::of(ro).to_bytes(), tp::rma_ring_side::of(ri).to_bytes()},
                        "rank 1", 1024, 30) == tp::carrier::messages);  // no RDMA hardware here
    tp::rma_producer p(out.mem, tp::rma_publish(ch, their_out, out.mem));
    tp::rma_consumer c(in.mem, tp::rma_release(ch, their_in, in.mem));
    auto health = std::make_shared<router::job_health>();
    f.add_job(router::job_settings{job_id, 2, 256, 4, 1024}, table_for({0, 0}, 0, {&f}), health,
              {{0, host.out.mem, host.in.mem}, {1, nullptr, nullptr, true}});

    // More than a ring's worth each way (64 KiB rings, 16-byte records), so
    // both rings wrap and only returned credit lets the senders go on.
    constexpr std::uint64_t per_dest = 12000, chunk = 40;
    std::uint64_t sent_by_1[2] = {0, 0}, sent_by_0 = 0;
    std::vector<std::uint64_t> got0, got1;
    auto pass = [&] {
        f.step();
        ch.progress();
        for (auto v : receive(host, 0, 2)) got0.push_back(v);
        for (auto v : receive_from(c, 1, 2)) got1.push_back(v);
    };
    const bool done = step_until(
        [&] {
            for (std::uint32_t d = 0; d < 2; ++d)
                if (sent_by_1[d] < per_dest && try_send(p, d, 1000000 * (d + 1) + sent_by_1[d], chunk))
                    sent_by_1[d] += chunk;
            if (sent_by_0 < per_dest && try_send(host.p, 1, sent_by_0, chunk)) sent_by_0 += chunk;
            pass();
        },
        [&] { return got0.size() == per_dest && got1.size() == 2 * per_dest; });
    REQUIRE_MESSAGE(done, "rank 0 got " << got0.size() << ", rank 1 got " << got1.size() << " (stalls "
                                        << ch.stalls() << ", channel " << ch.error() << ")");
    CHECK_FALSE(ch.failed());
    // In order per (source, destination): rank 0 gets rank 1's records;
    // rank 1 gets its own and rank 0's, interleaved by chunk.
    for (std::uint64_t i = 0; i < per_dest; ++i) CHECK(got0[i] == 1000000 + i);
    std::uint64_t own = 0, from0 = 0;
    for (std::uint64_t v : got1) {
        if (v >= 2000000) CHECK(v == 2000000 + own++);
        else CHECK(v == from0++);
    }
    CHECK(own == per_dest);
    CHECK(from0 == per_dest);
    CHECK(f.counters().records_local == 3 * per_dest);
    CHECK_FALSE(health->failed.load());
    // Our last operations (credit) complete before our worker goes: over tcp
    // the forwarder must progress for that, so no ch.flush() here.
    REQUIRE(step_until([&] { pass(); }, [&] { return ch.in_flight() == 0; }));
    f.remove_rank(job_id, 1);
    f.drop_rma_rings(job_id, 1);
}

TEST_CASE("router to router over UCX, and a malformed batch is dropped with a counter") {
    router::forwarder a(0, "router A"), b(0, "router B");
    rank_side r0, r1;
    auto ha = std::make_shared<router::job_health>(), hb = std::make_shared<router::job_health>();
    const router::job_settings s{job_id, 2, 128, 2, 1024};
    a.add_job(s, table_for({0, 1}, 0, {&a, &b}), ha, {{0, r0.out.mem, r0.in.mem}});
    b.add_job(s, table_for({0, 1}, 1, {&a, &b}), hb, {{1, r1.out.mem, r1.in.mem}});
    std::vector<std::uint64_t> got;
    std::uint64_t sent = 0;
    for (int round = 0; round < 100; ++round) {
        send(r0, 1, sent, 20);
        sent += 20;
        for (int k = 0; k < 4; ++k) {
            a.step();
            b.step();
        }
        for (auto v : receive(r1, 1, 2)) got.push_back(v);
    }
    step_until(
        [&] {
            a.step();
            b.step();
            for (auto v : receive(r1, 1, 2)) got.push_back(v);
        },
        [&] { return got.size() >= sent; });
    REQUIRE(got.size() == sent);
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == i);
    CHECK(a.counters().batches_sent > 0);
    CHECK(b.counters().bad_batches == 0);

    // A batch whose header claims more records than it holds: refused whole.
    transport::worker rogue("rogue");
    transport::endpoint ep(rogue, std::span<const std::byte>(b.address()), "router B",
                           transport::endpoint::failure_detection::by_caller);
    std::vector<std::byte> bad(wire::batch_header_bytes + 16);
    wire::write_batch_header(bad.data(), job_id, 0, 5, 16);
    std::byte* body = wire::write_header(bad.data() + wire::batch_header_bytes, 1, 7, 8);
    std::memset(body, 0, 8);
    transport::send_ticket ticket{[](void*, ucs_status_t) {}, nullptr};
    transport::send_batch(ep, bad.data(), bad.size(), &ticket);
    step_until(
        [&] {
            rogue.progress();
            b.step();
        },
        [&] { return b.counters().bad_batches != 0; });
    CHECK(b.counters().bad_batches == 1);
    CHECK(hb->failed.load());
    CHECK(receive(r1, 1, 2).empty());  // nothing of it was delivered
    ep.close(rogue, 1.0);
}

TEST_CASE("records in transit: A sends rank 2's records through B, which forwards them to C") {
    // A test scheme: router 0 reaches router 2 through router 1; every other pair is direct.
    const engine::next_hop_scheme via_b = [](std::uint32_t from, std::uint32_t to, std::uint32_t) {
        return from == 0 && to == 2 ? 1u : to;
    };
    router::forwarder a(0, "router A"), b(0, "router B"), c(0, "router C");
    rank_side r0, r1, r2;
    auto ha = std::make_shared<router::job_health>(), hb = std::make_shared<router::job_health>(),
         hc = std::make_shared<router::job_health>();
    const router::job_settings s{job_id, 3, 128, 2, 1024};
    const std::vector<std::uint32_t> rank_to_router = {0, 1, 2};
    a.add_job(s, table_for(rank_to_router, 0, {&a, &b, &c}), ha, {{0, r0.out.mem, r0.in.mem}}, via_b);
    b.add_job(s, table_for(rank_to_router, 1, {&a, &b, &c}), hb, {{1, r1.out.mem, r1.in.mem}}, via_b);
    c.add_job(s, table_for(rank_to_router, 2, {&a, &b, &c}), hc, {{2, r2.out.mem, r2.in.mem}}, via_b);
    std::vector<std::uint64_t> got2, got1;
    std::uint64_t sent2 = 0, sent1 = 0;
    auto pass = [&] {
        a.step();
        b.step();
        c.step();
        for (auto v : receive(r2, 2, 3)) got2.push_back(v);
        for (auto v : receive(r1, 1, 3)) got1.push_back(v);
    };
    for (int round = 0; round < 60; ++round) {
        send(r0, 2, sent2, 20);  // through B
        sent2 += 20;
        send(r0, 1, 1000000 + sent1, 5);  // direct to B, mixed into the same batches
        sent1 += 5;
        for (int k = 0; k < 4; ++k) pass();
    }
    step_until(pass, [&] { return got2.size() >= sent2 && got1.size() >= sent1; });
    // Every record once, none lost: the order is not promised (a batch that
    // waits for credit to its next hop lets later batches go past it, which a
    // slow machine, e.g. this test under qemu, shows).
    std::sort(got2.begin(), got2.end());
    std::sort(got1.begin(), got1.end());
    REQUIRE(got2.size() == sent2);
    for (std::size_t i = 0; i < got2.size(); ++i) CHECK(got2[i] == i);
    REQUIRE(got1.size() == sent1);
    for (std::size_t i = 0; i < got1.size(); ++i) CHECK(got1[i] == 1000000 + i);
    CHECK(b.counters().records_transit == sent2);  // every one of them went through B
    CHECK(b.counters().batches_sent > 0);          // as batches of B's own
    CHECK(a.counters().records_transit == 0);
    CHECK(c.counters().records_transit == 0);
    CHECK(c.counters().records_local == sent2);
    CHECK_FALSE(ha->failed.load());
    CHECK_FALSE(hb->failed.load());
    CHECK_FALSE(hc->failed.load());

    // A record for a rank outside the job is still refused, whole batch.
    transport::worker rogue("rogue");
    transport::endpoint ep(rogue, std::span<const std::byte>(b.address()), "router B",
                           transport::endpoint::failure_detection::by_caller);
    std::vector<std::byte> bad(wire::batch_header_bytes + 32);
    wire::write_batch_header(bad.data(), job_id, 0, 2, 32);
    std::memset(wire::write_header(bad.data() + wire::batch_header_bytes, 2, 7, 8), 0, 8);       // transit, fine
    std::memset(wire::write_header(bad.data() + wire::batch_header_bytes + 16, 3, 7, 8), 0, 8);  // outside the job
    transport::send_ticket ticket{[](void*, ucs_status_t) {}, nullptr};
    transport::send_batch(ep, bad.data(), bad.size(), &ticket);
    step_until(
        [&] {
            rogue.progress();
            pass();
        },
        [&] { return b.counters().bad_batches != 0; });
    CHECK(b.counters().bad_batches == 1);
    CHECK(b.counters().records_transit == sent2);  // its transit record did not move either
    for (int k = 0; k < 50; ++k) pass();
    CHECK(got2.size() == sent2);

    // Well-formed batches with a forged source: a router outside the job, the
    // receiver itself, or a source from which the route never passes through
    // B for that record (C's records for rank 2 go straight to C).  Each is
    // dropped and counted; nothing of them is delivered.
    auto forged = [&](std::uint32_t source, std::uint32_t dest) {
        std::vector<std::byte> f(wire::batch_header_bytes + 16);
        wire::write_batch_header(f.data(), job_id, source, 1, 16);
        std::memset(wire::write_header(f.data() + wire::batch_header_bytes, dest, 7, 8), 0, 8);
        const std::uint64_t before = b.counters().bad_batches;
        transport::send_batch(ep, f.data(), f.size(), &ticket);
        step_until(
            [&] {
                rogue.progress();
                pass();
            },
            [&] { return b.counters().bad_batches != before; });
        CHECK(b.counters().bad_batches == before + 1);
    };
    forged(9, 1);  // no router 9 in the job
    forged(1, 1);  // B itself
    forged(2, 2);  // from C, for C's own rank, through B: not on the route
    forged(2, 0);  // from C to A: direct, never through B
    for (int k = 0; k < 50; ++k) pass();
    CHECK(got2.size() == sent2);
    CHECK(got1.size() == sent1);
    CHECK(b.counters().records_transit == sent2);
    ep.close(rogue, 1.0);
}

TEST_CASE("checksum on: sealed chunks go through, resealed per batch; a damaged payload fails only its job") {
    router::forwarder f(0, "test router");
    rank_side a[2], b[2];
    constexpr std::uint64_t job_b = 0x5678;
    auto ha = std::make_shared<router::job_health>(), hb = std::make_shared<router::job_health>();
    router::job_settings sa{job_id, 2, 256, 4, 1024, true}, sb{job_b, 2, 256, 4, 1024, true};
    f.add_job(sa, table_for({0, 0}, 0, {&f}), ha, {{0, a[0].out.mem, a[0].in.mem}, {1, a[1].out.mem, a[1].in.mem}});
    f.add_job(sb, table_for({0, 0}, 0, {&f}), hb, {{0, b[0].out.mem, b[0].in.mem}, {1, b[1].out.mem, b[1].in.mem}});
    std::vector<std::uint64_t> got_a, got_b;
    auto pass = [&] {
        f.step();
        for (auto v : receive(a[1], 1, 2, job_id, true)) got_a.push_back(v);
        for (auto v : receive(b[1], 1, 2, job_b, true)) got_b.push_back(v);
    };
    for (int round = 0; round < 20; ++round) {
        send_sealed(a[0], 1, round * 10, 10);
        send_sealed(b[0], 1, 1000 + round * 10, 10);
        pass();
    }
    for (int k = 0; k < 5; ++k) pass();
    CHECK(got_a.size() == 200);
    CHECK(got_b.size() == 200);
    CHECK_FALSE(ha->failed.load());

    // One payload byte of job B's next chunk changed after it was sealed (in
    // the ring, as a stray write would): the chunk is dropped whole, counted,
    // the job fails naming the ring; job A goes on.
    std::size_t granted = 0;
    std::byte* p = b[0].p.try_reserve(16 * 4 + 8, 16 * 4 + 8, granted);
    REQUIRE(p != nullptr);
    for (int i = 0; i < 4; ++i) std::memset(wire::write_header(p + i * 16, 1, 7, 8), i, 8);
    wire::write_checksum_trailer(p, 64);
    p[16 + 8] ^= std::byte{1};  // the second record's payload
    b[0].p.commit(72);
    const auto bad_before = f.counters().bad_records;
    send_sealed(a[0], 1, 5000, 10);
    for (int k = 0; k < 5; ++k) pass();
    CHECK(f.counters().bad_records == bad_before + 1);
    CHECK(f.job_counters(job_b).bad_records == 1);
    CHECK(f.job_counters(job_id).bad_records == 0);
    REQUIRE(hb->failed.load());
    CHECK(hb->reason().find("outbound ring of rank 0") != std::string::npos);
    CHECK(hb->reason().find("checksum does not match") != std::string::npos);
    CHECK(got_b.size() == 200);  // none of the damaged chunk's records was delivered
    CHECK_FALSE(ha->failed.load());
    CHECK(got_a.size() == 210);
}

TEST_CASE("two jobs on one router: a rank reaches only its own job's ranks; a batch only its job's") {
    router::forwarder f(0, "test router");
    rank_side a[2], b;
    constexpr std::uint64_t job_b = 0x5678;
    auto ha = std::make_shared<router::job_health>(), hb = std::make_shared<router::job_health>();
    f.add_job(router::job_settings{job_id, 2, 256, 4, 1024}, table_for({0, 0}, 0, {&f}), ha,
              {{0, a[0].out.mem, a[0].in.mem}, {1, a[1].out.mem, a[1].in.mem}});
    f.add_job(router::job_settings{job_b, 1, 256, 4, 1024}, table_for({0}, 0, {&f}), hb, {{0, b.out.mem, b.in.mem}});
    // Job B's only rank writes records for rank 1: job A has a rank 1 on this
    // router, job B has none.  Its ring is bound to job B, so the record is
    // outside its job: refused, and it never reaches job A's rank 1.
    send(b, 1, 77, 3);
    send(a[0], 1, 0, 5);
    for (int k = 0; k < 5; ++k) f.step();
    CHECK(receive(a[1], 1, 2).size() == 5);
    REQUIRE(hb->failed.load());
    CHECK(hb->reason().find("malformed record") != std::string::npos);
    CHECK(f.job_counters(job_b).bad_records == 1);
    CHECK_FALSE(ha->failed.load());

    // A batch from the network is charged to the job its header names and is
    // checked against that job only: job B's id with job A's rank 1 is refused.
    transport::worker rogue("rogue");
    transport::endpoint ep(rogue, std::span<const std::byte>(f.address()), "test router",
                           transport::endpoint::failure_detection::by_caller);
    std::vector<std::byte> forged(wire::batch_header_bytes + 16);
    wire::write_batch_header(forged.data(), job_b, 0, 1, 16);
    std::memset(wire::write_header(forged.data() + wire::batch_header_bytes, 1, 7, 8), 0, 8);
    // And an id no job here has: dropped and counted in the router's totals.
    std::vector<std::byte> stray = forged;
    const std::uint64_t nobody = 0x9999;
    std::memcpy(stray.data() + 8, &nobody, 8);
    transport::send_ticket ticket{[](void*, ucs_status_t) {}, nullptr};
    transport::send_batch(ep, forged.data(), forged.size(), &ticket);
    transport::send_batch(ep, stray.data(), stray.size(), &ticket);
    step_until(
        [&] {
            rogue.progress();
            f.step();
        },
        [&] { return f.counters().bad_batches >= 2; });
    CHECK(f.job_counters(job_b).bad_batches == 1);
    CHECK(f.job_counters(job_id).bad_batches == 0);
    CHECK(f.counters().bad_batches == 2);
    CHECK(receive(a[1], 1, 2).empty());
    CHECK_FALSE(ha->failed.load());
    ep.close(rogue, 1.0);
}

// What the real router runs at once (router/service.cpp, jobs.cpp): several
// router threads, each a forwarder on its own thread serving one job through
// its own rings, sharing the job's table and health; the control thread
// changes what they serve only through call() and reads their counters while
// they run; ranks write outbound rings and read inbound rings from their own
// threads.  Built under ThreadSanitizer by scripts/test (build-tsan).
TEST_CASE("two router threads serve one job at once: shared table and health, control calls, rank threads") {
    constexpr std::uint32_t ranks = 3, threads = 2;
    constexpr std::uint64_t per_producer = 6000;  // records each rank thread sends
    std::vector<std::unique_ptr<router::router_thread>> rt;
    for (std::uint32_t t = 0; t < threads; ++t)
        // yield: the test's threads outnumber this machine's cores.
        rt.push_back(std::make_unique<router::router_thread>(t, "router thread " + std::to_string(t), -1,
                                                             ring::wait_mode::yield));
    // Rings of every rank for every router thread, as a rank's two segments hold them.
    std::vector<std::vector<std::unique_ptr<heap_ring>>> out(ranks), in(ranks);
    for (std::uint32_t r = 0; r < ranks; ++r)
        for (std::uint32_t t = 0; t < threads; ++t) {
            out[r].push_back(std::make_unique<heap_ring>());
            in[r].push_back(std::make_unique<heap_ring>());
        }
    auto table = std::make_shared<router::job_table>();
    table->rank_to_router = {0, 0, 0};
    router::job_table::router_entry self;
    self.instance = 1;
    self.name = "router 0";
    for (auto& t : rt) self.addresses.push_back(t->fwd().address());
    table->routers.push_back(self);
    auto health = std::make_shared<router::job_health>();
    const router::job_settings settings{job_id, ranks, 512, 4, 1024};
    for (std::uint32_t t = 0; t < threads; ++t) {
        std::vector<router::forwarder::rank_rings> rings;
        for (std::uint32_t r = 0; r < ranks; ++r) rings.push_back({r, out[r][t]->mem, in[r][t]->mem});
        rt[t]->call([&](router::forwarder& f) { f.add_job(settings, table, health, rings); });
    }

    // Rank p (0 and 1) sends through router thread p: records to every rank in turn.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::atomic<bool> producer_timed_out{false};
    auto produce = [&](std::uint32_t p) {
        ring::producer prod{out[p][p]->mem};
        for (std::uint64_t i = 0; i < per_producer;) {
            std::size_t granted = 0;
            std::byte* at = prod.try_reserve(16, 16, granted);
            if (at == nullptr) {
                if (std::chrono::steady_clock::now() > deadline) {
                    producer_timed_out.store(true, std::memory_order_relaxed);
                    return;
                }
                std::this_thread::yield();
                continue;
            }
            const std::uint64_t v = (std::uint64_t{p} << 32) | i;
            std::memcpy(wire::write_header(at, static_cast<std::uint32_t>(i % ranks), 7, 8), &v, 8);
            prod.commit(16);
            ++i;
        }
    };
    std::thread producers[2] = {std::thread(produce, 0), std::thread(produce, 1)};

    // This thread: the ranks' receiving side and the control thread.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> next;  // (sender, dest) -> next index
    std::uint64_t received = 0, out_of_order = 0;
    std::vector<std::unique_ptr<ring::consumer>> cons;
    for (std::uint32_t r = 0; r < ranks; ++r)
        for (std::uint32_t t = 0; t < threads; ++t) cons.push_back(std::make_unique<ring::consumer>(in[r][t]->mem));
    std::uint64_t control_calls = 0;
    const bool done = step_until(
        [&] {
            for (std::uint32_t r = 0; r < ranks; ++r)
                for (std::uint32_t t = 0; t < threads; ++t) {
                    ring::consumer& c = *cons[r * threads + t];
                    const wire::batch_limits lim{job_id, ranks, 0, wire::max_payload_bytes, r};
                    for (auto chunk = c.front(); chunk.data() != nullptr; chunk = c.front()) {
                        const auto res = wire::for_each_checked_record(
                            chunk, lim, [&](const wire::record_header&, const std::byte* payload, std::size_t) {
                                std::uint64_t v;
                                std::memcpy(&v, payload, 8);
                                const auto sender = static_cast<std::uint32_t>(v >> 32);
                                std::uint64_t& want = next[{sender, r}];
                                if ((v & 0xFFFFFFFFu) != want * ranks + r) ++out_of_order;
                                ++want;
                                ++received;
                            });
                        REQUIRE_MESSAGE(res, wire::describe(res));
                        c.pop();
                    }
                }
            // The control thread meanwhile: counters of any thread (relaxed
            // loads), and a command run between two passes (as stats does).
            (void)rt[control_calls % threads]->fwd().counters();
            if (++control_calls % 64 == 0) {
                router_counters mine;
                rt[control_calls / 64 % threads]->call([&](router::forwarder& f) { mine = f.job_counters(job_id); });
                CHECK(mine.records_local <= 2 * per_producer);
            }
            std::this_thread::yield();
        },
        [&] { return received == 2 * per_producer || producer_timed_out.load(std::memory_order_relaxed); }, 120);
    for (auto& t : producers) t.join();
    CHECK_FALSE(producer_timed_out.load());
    CHECK(done);
    CHECK(received == 2 * per_producer);
    CHECK(out_of_order == 0);  // one ring, one thread, one inbound ring: order per sender and destination kept
    std::uint64_t local = 0;
    for (auto& t : rt) local += t->fwd().counters().records_local;
    CHECK(local == 2 * per_producer);
    // One thread fails the job; the others see it through the shared health.
    rt[1]->call([&](router::forwarder&) { health->fail("test: a rank died"); });
    CHECK(health->failed.load(std::memory_order_acquire));
    CHECK(health->reason() == "test: a rank died");
    for (auto& t : rt) t->call([](router::forwarder& f) { f.remove_job(job_id); });
    rt.clear();  // joins the threads before the rings go
}

// call() is a wait of the control thread on a router thread: bounded like
// every wait, and what a command throws reaches the caller.
TEST_CASE("router_thread::call: answers, rethrows, and ends the router when the thread is stuck") {
    {
        router::router_thread t(0, "router thread 0", -1, ring::wait_mode::yield);
        int seen = -1;
        t.call([&](router::forwarder& f) { seen = static_cast<int>(f.index()); });
        CHECK(seen == 0);
        CHECK_THROWS_WITH(t.call([](router::forwarder&) { throw std::runtime_error("bad command"); }), "bad command");
    }
    // A command that never finishes within the limit: the process (a child
    // here) exits with status 1 instead of hanging its control thread.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        router::router_thread t(0, "router thread 0", -1, ring::wait_mode::yield, std::chrono::milliseconds(100));
        t.call([](router::forwarder&) { std::this_thread::sleep_for(std::chrono::seconds(5)); });
        std::_Exit(0);  // not reached: call() exits first
    }
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 200 && done == 0; ++i) {  // 10 s at most
        done = ::waitpid(child, &status, WNOHANG);
        if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (done == 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
    }
    REQUIRE(done == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
}

TEST_CASE("cpu lists and core plans") {
    CHECK(router::parse_cpu_list("0-3,8,10-11") == std::vector<int>{0, 1, 2, 3, 8, 10, 11});
    CHECK(router::format_cpu_list({0, 1, 2, 3, 8, 10, 11}) == "0-3,8,10-11");
    CHECK_THROWS_AS(router::parse_cpu_list("3-1"), std::invalid_argument);
    CHECK_THROWS_AS(router::parse_cpu_list("a"), std::invalid_argument);
    router::machine m;
    m.cores = {0, 1, 2, 3, 4, 5, 6, 7};
    m.nic_cores = {0, 1, 2, 3};
    m.nic = "mlx5_0";
    const auto p = router::plan_node(m, 2, 4, {});
    CHECK(p.router_cpus == std::vector<int>{3, 2});  // nearest the NIC, from the end of its set
    CHECK(p.rank_cpus == std::vector<int>{0, 1, 4, 5, 6, 7});
    CHECK(p.disjoint);
    m.nic_cores.clear();
    m.nic.clear();
    CHECK(router::plan_node(m, 2, 4, {}).router_cpus == std::vector<int>{7, 6});
    CHECK_FALSE(router::plan_node(m, 2, 7, {}).disjoint);
}
