// lib/control without a router: message codec, per-node names, and the Unix
// channel (a socketpair, and a real listener in a private directory).
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "buddy/control/bodies.hpp"
#include "buddy/control/channel.hpp"
#include "buddy/control/messages.hpp"
#include "buddy/control/node_paths.hpp"
#include "buddy/control/unix_channel.hpp"

using namespace buddy;
namespace ctl = buddy::control;

namespace {

std::vector<std::byte> hello_message() {
    ctl::writer w(ctl::type::hello);
    ctl::hello h{};
    h.job = 42;
    h.rank = 3;
    h.job_size = 8;
    w.put(h);
    const std::vector<std::byte> blob = {std::byte{1}, std::byte{2}, std::byte{3}};
    w.put_blob(blob);
    return w.done();
}

struct channel_pair {
    std::unique_ptr<ctl::unix_channel> a, b;
    int raw_b = -1;  // b's socket, for sending bytes that are not a message
    channel_pair() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
        a = std::make_unique<ctl::unix_channel>(fds[0]);
        b = std::make_unique<ctl::unix_channel>(fds[1]);
        raw_b = fds[1];
    }
};

ctl::clock::time_point in_ms(int ms) { return ctl::clock::now() + std::chrono::milliseconds(ms); }

}  // namespace

TEST_CASE("control messages round-trip and refuse truncation") {
    const std::vector<std::byte> m = hello_message();
    ctl::reader r(m);
    ctl::message_header mh{};
    REQUIRE(r.open(mh));
    CHECK(static_cast<ctl::type>(mh.type) == ctl::type::hello);
    ctl::hello back{};
    REQUIRE(r.get(back));
    CHECK(back.job == 42);
    CHECK(back.rank == 3);
    std::span<const std::byte> b;
    REQUIRE(r.get_blob(b));
    CHECK(b.size() == 3);
    // Cut short: the header's length disagrees, and reads stop at the end.
    ctl::reader cut(std::span<const std::byte>(m.data(), m.size() - 8));
    CHECK_FALSE(cut.open(mh));
    ctl::reader tiny(std::span<const std::byte>(m.data(), 20));
    ctl::hello x{};
    tiny.get(mh);
    CHECK_FALSE(tiny.get(x));
}

TEST_CASE("malformed control messages are refused") {
    std::vector<std::byte> m = hello_message();
    ctl::message_header mh{};
    SUBCASE("bad magic") {
        m[0] ^= std::byte{0xFF};
        CHECK_FALSE(ctl::reader(m).open(mh));
    }
    SUBCASE("other version") {
        m[offsetof(ctl::message_header, version)] ^= std::byte{0x7F};
        CHECK_FALSE(ctl::reader(m).open(mh));
    }
    SUBCASE("shorter than a header") {
        CHECK_FALSE(ctl::reader(std::span<const std::byte>(m.data(), 8)).open(mh));
    }
    SUBCASE("a blob longer than what is left") {
        ctl::writer w(ctl::type::hello_reply);
        w.put(std::uint32_t{1000});  // claims 1000 bytes, none follow
        ctl::reader r(w.done());
        REQUIRE(r.open(mh));
        std::span<const std::byte> blob;
        CHECK_FALSE(r.get_blob(blob));
    }
    SUBCASE("names that do not fit are refused, not truncated") {
        char field[ctl::name_bytes];
        CHECK(ctl::set_name(field, "short"));
        CHECK(ctl::get_name(field) == "short");
        CHECK_FALSE(ctl::set_name(field, std::string(ctl::name_bytes, 'x')));
        CHECK(ctl::get_name(field).empty());
    }
}

TEST_CASE("a message body can be shipped without its header") {
    ctl::writer w(ctl::type::table);
    w.put(std::uint64_t{7});
    CHECK(w.body().size() == 8);
    CHECK(ctl::writer(ctl::type::table).body().empty());
}

namespace {
ctl::reader body_of(const std::vector<std::byte>& m, ctl::message_header& h) {
    ctl::reader r(m);
    REQUIRE(r.open(h));
    return r;
}
}  // namespace

TEST_CASE("the job table and the hello reply round-trip through their writers and readers") {
    ctl::table_body t;
    t.job = 0xABC;
    t.route = 1;  // mesh2d
    t.rank_to_router = {0, 1, 1};
    t.routers = {{11, {{std::byte{1}}}}, {22, {{std::byte{2}, std::byte{3}}, {}}}};
    const auto m = ctl::table_message(t);
    ctl::message_header h{};
    ctl::reader r = body_of(m, h);
    ctl::table_body back;
    REQUIRE(ctl::read_table(r, back).empty());
    CHECK(back.job == t.job);
    CHECK(back.route == t.route);
    CHECK(back.rank_to_router == t.rank_to_router);
    REQUIRE(back.routers.size() == 2);
    CHECK(back.routers[1].instance == 22);
    CHECK(back.routers[1].addresses == t.routers[1].addresses);

    ctl::hello_reply head{};
    head.instance = 5;
    head.pid = 6;
    REQUIRE(ctl::set_name(head.node, "node1"));
    const std::vector<std::byte> a0{std::byte{9}}, a1{std::byte{8}, std::byte{7}};
    const std::vector<std::span<const std::byte>> addresses{a0, a1};
    const auto hm = ctl::hello_reply_message(head, addresses);
    ctl::reader hr = body_of(hm, h);
    ctl::hello_reply_body hb;
    REQUIRE(ctl::read_hello_reply(hr, hb).empty());
    CHECK(hb.head.threads == 2);
    CHECK(hb.addresses[1] == a1);
    CHECK(ctl::get_name(hb.head.node) == "node1");
    CHECK(hb.rma.empty());

    // Placement dpu: the reply carries the router's rings over RMA, one entry
    // per thread; `attached` carries the rank's, read for the router's count.
    const std::vector<ctl::rma_thread_rings> rings{{a0, a1, a0}, {a1, a0, a1}};
    const auto rm = ctl::hello_reply_message(head, addresses, rings);
    ctl::reader rr = body_of(rm, h);
    ctl::hello_reply_body rb;
    REQUIRE(ctl::read_hello_reply(rr, rb).empty());
    CHECK(rb.head.flags == ctl::hello_reply_flag_rma);
    REQUIRE(rb.rma.size() == 2);
    CHECK(rb.rma[1].worker == a1);
    CHECK(rb.rma[1].outbound == a0);
    CHECK(rb.rma[0].inbound == a0);
    ctl::writer aw(ctl::type::attached);
    ctl::put_rma_rings(aw, rings);
    const auto am = aw.done();
    {
        ctl::reader ar = body_of(am, h);
        std::vector<ctl::rma_thread_rings> back_rings;
        CHECK(ctl::read_rma_rings(ar, 2, back_rings).empty());
        CHECK(back_rings.size() == 2);
    }
    {
        ctl::reader ar = body_of(am, h);
        std::vector<ctl::rma_thread_rings> back_rings;
        CHECK(ctl::read_rma_rings(ar, 3, back_rings) == "rings over RMA for 2 threads, expected 3");
    }
    {
        ctl::writer ew(ctl::type::attached);
        const std::vector<ctl::rma_thread_rings> empty_side{{a0, {}, a1}};
        ctl::put_rma_rings(ew, empty_side);
        ctl::reader ar = body_of(ew.done(), h);
        std::vector<ctl::rma_thread_rings> back_rings;
        CHECK_FALSE(ctl::read_rma_rings(ar, 1, back_rings).empty());
    }
}

// A table read to the letter of its counts made the router size vectors by
// them before reading: 2^32 ranks asked for 16 GiB (found while writing the
// control fuzzer; fuzz_control runs with a malloc limit).  Counts are now
// checked against the bytes the message holds, and nothing may follow the table.
TEST_CASE("a job table whose counts its bytes cannot hold is refused before anything is allocated") {
    ctl::message_header h{};
    {
        ctl::writer w(ctl::type::table);
        w.put(ctl::table{1, 0xFFFFFFFFu, 0xFFFFFFFFu});
        const auto m = w.done();
        ctl::reader r = body_of(m, h);
        ctl::table_body t;
        CHECK(ctl::read_table(r, t) == "malformed job table (ranks)");
        CHECK(t.rank_to_router.capacity() == 0);
    }
    {
        ctl::writer w(ctl::type::table);
        const std::uint32_t map[2] = {0, 0};
        ctl::put_table_head(w, 1, 1, 0, map);
        w.put(std::uint64_t{7}).put(std::uint32_t{0xFFFFFFFFu}).put(std::uint32_t{0});  // 2^32 threads, no addresses
        const auto m = w.done();
        ctl::reader r = body_of(m, h);
        ctl::table_body t;
        CHECK(ctl::read_table(r, t) == "malformed job table (routers)");
    }
    {
        ctl::table_body t;
        t.job = 1;
        t.rank_to_router = {0};
        t.routers = {{3, {{std::byte{1}}}}};
        auto m = ctl::table_message(t);
        m.resize(m.size() + 8);  // trailing bytes
        const auto n = static_cast<std::uint32_t>(m.size());
        std::memcpy(m.data() + offsetof(ctl::message_header, bytes), &n, sizeof n);
        ctl::reader r = body_of(m, h);
        ctl::table_body back;
        CHECK(ctl::read_table(r, back).find("after the last router") != std::string::npos);
    }
    {
        ctl::hello_reply head{};
        std::memset(head.node, 'x', sizeof head.node);  // no NUL
        const std::vector<std::byte> a{std::byte{1}};
        const std::vector<std::span<const std::byte>> addresses{a};
        const auto m = ctl::hello_reply_message(head, addresses);
        ctl::reader r = body_of(m, h);
        ctl::hello_reply_body b;
        CHECK_FALSE(ctl::read_hello_reply(r, b).empty());
    }
}

TEST_CASE("per-node paths carry the host name") {
    CHECK(ctl::default_socket_path(1000, "n1", 2) == "/tmp/buddy-1000/router-n1-2.sock");
    CHECK(ctl::socket_path("", 1000, "n1", 2) == "/tmp/buddy-1000/router-n1-2.sock");
    CHECK(ctl::socket_path("", 1000, "n1", 0) != ctl::socket_path("", 1000, "n2", 0));
    // Templates: {i} is the router index, {host} the host.
    CHECK(ctl::socket_path("/x/r-{i}.sock", 1000, "n1", 1) == "/x/r-1.sock");
    CHECK(ctl::socket_path("/x/{host}/r-{i}.sock", 1000, "n1", 3) == "/x/n1/r-3.sock");
    CHECK(ctl::socket_path("/x/r-{host}-{host}.sock", 1000, "n1", 0) == "/x/r-n1-n1.sock");
    CHECK(ctl::socket_path("/x/r-{host}.sock", 1000, "n1", 2) == "/x/r-n1.sock-2");
    // Without {i}, routers after the first get "-<index>".
    CHECK(ctl::socket_path("/x/r.sock", 1000, "n1", 0) == "/x/r.sock");
    CHECK(ctl::socket_path("/x/r.sock", 1000, "n1", 1) == "/x/r.sock-1");
    // A host name cannot split a path.
    CHECK(ctl::host_in_names("a/b c") == "a_b_c");
    CHECK(ctl::default_socket_path(0, "a/b", 0) == "/tmp/buddy-0/router-a_b-0.sock");
    CHECK_FALSE(ctl::this_host().empty());
}

TEST_CASE("segment names carry the host, and only our own are recognised") {
    using ctl::ring_direction;
    const std::string out = ctl::segment_name(1000, "n1", 4321, 0xabc, 7, ring_direction::outbound);
    const std::string in = ctl::segment_name(1000, "n1", 4321, 0xabc, 7, ring_direction::inbound);
    CHECK(out == "/buddy-1000-n1-4321-0000000000000abc-7-out");
    CHECK(in == "/buddy-1000-n1-4321-0000000000000abc-7-in");
    CHECK(out.size() < ctl::name_bytes);
    CHECK(ctl::segment_name(1000, std::string(64, 'h'), 4294967295u, ~0ull, 4294967295u, ring_direction::outbound)
              .size() < ctl::name_bytes);
    // The sweep's parser: entries of /dev/shm have no leading '/'.
    CHECK(ctl::segment_router_pid(out.substr(1), 1000, "n1") == 4321);
    CHECK(ctl::segment_router_pid(in.substr(1), 1000, "n1") == 4321);
    CHECK(ctl::segment_router_pid(out.substr(1), 1000, "n2") == 0);  // another host's
    CHECK(ctl::segment_router_pid(out.substr(1), 1001, "n1") == 0);  // another user's
    // Host "n1-5" makes names that start like host "n1"'s: not ours.
    const std::string other = ctl::segment_name(1000, "n1-5", 4321, 0xabc, 7, ring_direction::outbound);
    CHECK(ctl::segment_router_pid(other.substr(1), 1000, "n1") == 0);
    CHECK(ctl::segment_router_pid(other.substr(1), 1000, "n1-5") == 4321);
    CHECK(ctl::segment_router_pid("buddy-1000-n1-4321-abc-7-out", 1000, "n1") == 0);  // job not 16 digits
    CHECK(ctl::segment_router_pid("buddy-1000-n1-4321-0000000000000abc-7-log", 1000, "n1") == 0);
    CHECK(ctl::segment_router_pid("buddy-1000-n1-0-0000000000000abc-7-out", 1000, "n1") == 0);
    CHECK(ctl::segment_router_pid("unrelated", 1000, "n1") == 0);
}

TEST_CASE("a Unix channel pair exchanges messages within deadlines") {
    channel_pair p;
    const std::vector<std::byte> m = hello_message();
    REQUIRE(p.a->send(m, in_ms(1000)));
    ctl::received r = p.b->receive(in_ms(5000));
    REQUIRE(r.status == ctl::receive_status::message);
    CHECK(static_cast<ctl::type>(r.header.type) == ctl::type::hello);
    CHECK(r.header.bytes == m.size());
    ctl::hello h{};
    REQUIRE(r.body.get(h));
    CHECK(h.job == 42);

    // Both directions, and several messages keep their boundaries and order.
    REQUIRE(p.b->send(ctl::writer(ctl::type::attached_reply).done(), in_ms(1000)));
    REQUIRE(p.b->send(ctl::writer(ctl::type::table_reply).done(), in_ms(1000)));
    CHECK(static_cast<ctl::type>(p.a->receive(in_ms(5000)).header.type) == ctl::type::attached_reply);
    CHECK(static_cast<ctl::type>(p.a->receive(in_ms(5000)).header.type) == ctl::type::table_reply);

    // Nothing pending: a deadline already passed returns at once, and so does a later one.
    CHECK(p.a->receive(ctl::clock::now()).status == ctl::receive_status::timed_out);
    CHECK(p.a->receive(in_ms(20)).status == ctl::receive_status::timed_out);
}

TEST_CASE("a Unix channel drops what is not a message and reports the close") {
    channel_pair p;
    const char junk[] = "not a control message";
    REQUIRE(::send(p.raw_b, junk, sizeof junk, 0) == static_cast<ssize_t>(sizeof junk));
    CHECK(p.a->receive(in_ms(5000)).status == ctl::receive_status::malformed);
    // A message follows the junk and still arrives whole.
    REQUIRE(p.b->send(ctl::writer(ctl::type::detach).done(), in_ms(1000)));
    CHECK(p.a->receive(in_ms(5000)).status == ctl::receive_status::message);
    // A header whose length disagrees with the message is malformed too.
    std::vector<std::byte> m = hello_message();
    m.resize(m.size() + 8);
    REQUIRE(::send(p.raw_b, m.data(), m.size(), 0) == static_cast<ssize_t>(m.size()));
    CHECK(p.a->receive(in_ms(5000)).status == ctl::receive_status::malformed);

    p.b.reset();
    CHECK(p.a->receive(in_ms(5000)).status == ctl::receive_status::closed);
    CHECK_FALSE(p.a->send(hello_message(), in_ms(100)));
}

TEST_CASE("a Unix listener accepts this user and holds its path") {
    char dir_template[] = "/tmp/buddy-test-control.XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    const std::string path = dir + "/sub/router.sock";  // the listener makes "sub" (0700)

    CHECK(ctl::unix_channel::connect(path) == nullptr);  // nobody listens yet
    {
        ctl::unix_listener l(path, true);
        CHECK(l.address() == path);
        CHECK_THROWS_AS(ctl::unix_listener(path, true), ctl::control_error);  // one router per path

        auto client = ctl::unix_channel::connect(path);
        REQUIRE(client != nullptr);
        ctl::listener::accepted a = l.accept();
        REQUIRE(a.peer != nullptr);
        CHECK(a.refused.empty());
        REQUIRE(client->send(hello_message(), in_ms(1000)));
        CHECK(a.peer->receive(in_ms(5000)).status == ctl::receive_status::message);
        REQUIRE(a.peer->send(ctl::writer(ctl::type::hello_reply).done(), in_ms(1000)));
        CHECK(static_cast<ctl::type>(client->receive(in_ms(5000)).header.type) == ctl::type::hello_reply);
    }
    // Gone with the listener: the path is free again.
    CHECK(ctl::unix_channel::connect(path) == nullptr);
    CHECK_NOTHROW(ctl::unix_listener(path, true));

    CHECK_THROWS_AS(ctl::unix_channel::connect("/tmp/" + std::string(200, 'x')), ctl::control_error);
    CHECK_THROWS_AS(ctl::unix_listener("/tmp/" + std::string(200, 'x'), false), ctl::control_error);
    std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("connecting to a Unix listener that does not accept returns at once, saying it is busy") {
    // A listener that never accepts, with the smallest backlog: once its queue
    // is full a blocking connect() would wait for ever.
    char dir_template[] = "/tmp/buddy-test-control.XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string path = std::string(dir_template) + "/router.sock";
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 0) == 0);
    std::vector<std::unique_ptr<ctl::unix_channel>> queued;
    bool busy = false;
    for (int i = 0; i < 16 && !busy; ++i) {  // the kernel queues backlog + 1
        auto c = ctl::unix_channel::connect(path, &busy);
        CHECK((c != nullptr) != busy);
        if (c) queued.push_back(std::move(c));
    }
    CHECK(busy);
    CHECK(!queued.empty());
    ::close(fd);
    std::system(("rm -rf '" + std::string(dir_template) + "'").c_str());
}

TEST_CASE("the stats reply round-trips counters, links and hardware counters, and refuses what does not fit") {
    ctl::message_header h{};
    std::vector<ctl::stats_thread> threads(2);
    threads[0].counters = {1, 2, 3};
    threads[0].links = {{1, 5, 4096}, {2, 6, 8192}};
    threads[0].hw_reason = "no PMU";
    threads[0].hw_counters = R"({"available": false, "reason": "no PMU"})";
    threads[1].counters = {7, 8, 9};
    threads[1].hw_available = true;
    threads[1].hw_counters = R"({"available": true, "reason": "", "values": {}})";
    const auto m = ctl::stats_reply_message(3, threads);
    {
        ctl::reader r = body_of(m, h);
        std::vector<ctl::stats_thread> back;
        REQUIRE(ctl::read_stats_reply(r, 3, back).empty());
        REQUIRE(back.size() == 2);
        CHECK(back[0].counters == threads[0].counters);
        REQUIRE(back[0].links.size() == 2);
        CHECK(back[0].links[1].bytes == 8192);
        CHECK_FALSE(back[0].hw_available);
        CHECK(back[0].hw_reason == "no PMU");
        CHECK(back[0].hw_counters == threads[0].hw_counters);
        CHECK(back[1].hw_available);
        CHECK(back[1].counters == threads[1].counters);
    }
    {
        // Another build's counter list is named as such.
        ctl::reader r = body_of(m, h);
        std::vector<ctl::stats_thread> back;
        CHECK(ctl::read_stats_reply(r, 4, back).find("different builds") != std::string::npos);
    }
    {
        // Counts the message cannot hold are refused before anything is sized by them.
        ctl::writer w(ctl::type::stats_reply);
        w.put(ctl::stats_reply{0xFFFFFFFFu, 3});
        const auto big = w.done();
        ctl::reader r = body_of(big, h);
        std::vector<ctl::stats_thread> back;
        CHECK(ctl::read_stats_reply(r, 3, back) == "malformed stats reply (threads)");
        CHECK(back.capacity() == 0);
    }
    {
        // Hardware counters that are not a JSON object never reach a report.
        std::vector<ctl::stats_thread> bad(1);
        bad[0].counters = {1, 2, 3};
        bad[0].hw_counters = "\"available\": true";
        const auto bm = ctl::stats_reply_message(3, bad);
        ctl::reader r = body_of(bm, h);
        std::vector<ctl::stats_thread> back;
        CHECK(ctl::read_stats_reply(r, 3, back).find("not a JSON object") != std::string::npos);
    }
}
