// lib/control's pieces for placement dpu, without a router: the TCP channel
// and listener over loopback, TCP addresses, the dpu map parser, and the job
// secret.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "buddy/control/dpu_map.hpp"
#include "buddy/control/job_secret.hpp"
#include "buddy/control/messages.hpp"
#include "buddy/control/tcp_channel.hpp"

namespace ctl = buddy::control;
using namespace std::chrono_literals;

namespace {

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const ctl::control_error& e) {
        return e.what();
    }
    return {};
}

ctl::clock::time_point in(std::chrono::milliseconds ms) { return ctl::clock::now() + ms; }

std::vector<std::byte> message_with(std::uint64_t v) {
    ctl::writer w(ctl::type::stats);
    w.put(ctl::stats_request{v});
    return w.done();
}

std::uint64_t value_of(ctl::received& r) {
    ctl::stats_request q{};
    REQUIRE(r.body.get(q));
    return q.job;
}

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

// A listener on loopback, a channel connected to it, and the accepted end.
struct tcp_pair {
    ctl::tcp_listener l{ctl::parse_tcp_address("tcp://127.0.0.1:0", true)};
    std::unique_ptr<ctl::tcp_channel> client;
    std::unique_ptr<ctl::channel> server;
    tcp_pair() {
        std::string why;
        client = ctl::tcp_channel::connect(ctl::tcp_address{"127.0.0.1", l.port()}, in(2000ms), why);
        REQUIRE_MESSAGE(client, why);
        for (int i = 0; i < 200 && !server; ++i) {
            server = std::move(l.accept().peer);
            if (!server) ::usleep(5000);
        }
        REQUIRE(server);
    }
};

// A plain socket connected to `l`, for bytes that are not messages; the
// listener's end of it in `server`.
struct raw_pair {
    ctl::tcp_listener l{ctl::parse_tcp_address("tcp://127.0.0.1:0", true)};
    int fd = -1;
    std::unique_ptr<ctl::channel> server;
    raw_pair() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(l.port());
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        for (int i = 0; i < 200 && !server; ++i) {
            server = std::move(l.accept().peer);
            if (!server) ::usleep(5000);
        }
        REQUIRE(server);
    }
    ~raw_pair() {
        if (fd >= 0) ::close(fd);
    }
    void write(std::span<const std::byte> b) const {
        REQUIRE(::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size()));
    }
};

}  // namespace

TEST_CASE("TCP addresses: tcp://HOST:PORT, IPv4 or a name, refused with the reason") {
    const ctl::tcp_address a = ctl::parse_tcp_address("tcp://10.1.2.3:7000", false);
    CHECK(a.host == "10.1.2.3");
    CHECK(a.port == 7000);
    CHECK(a.text() == "tcp://10.1.2.3:7000");
    CHECK(ctl::parse_tcp_address("tcp://dpu-3.example:1", false).host == "dpu-3.example");
    CHECK(ctl::parse_tcp_address("tcp://localhost:0", true).port == 0);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://localhost:0", false); }).find("port 0") != std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("10.1.2.3:7000", false); }).find("expected tcp://HOST:PORT") !=
          std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://10.1.2.3", false); }).find("no ':PORT'") != std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://:80", false); }).find("no host") != std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://h:65536", false); }).find("'65536'") != std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://h:8x", false); }).find("'8x'") != std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://300.1.1.1:8", false); }).find("not an IPv4 address") !=
          std::string::npos);
    CHECK(error_of([] { ctl::parse_tcp_address("tcp://[::1]:8", false); }).find("IPv6") != std::string::npos);
    ctl::tcp_address b;
    CHECK(ctl::parse_host_port("tcp://h:9", b).empty());
    CHECK(b.port == 9);
    CHECK_FALSE(ctl::parse_host_port("h:0", b).empty());
}

TEST_CASE("TCP listener: port 0 picks one; in use, not local and unresolvable are one sentence each") {
    ctl::tcp_listener l(ctl::parse_tcp_address("tcp://127.0.0.1:0", true));
    CHECK(l.port() != 0);
    CHECK(l.address() == "tcp://127.0.0.1:" + std::to_string(l.port()));
    const std::string addr = "tcp://127.0.0.1:" + std::to_string(l.port());
    std::string e = error_of([&] { ctl::tcp_listener again(ctl::parse_tcp_address(addr, true)); });
    CHECK(e == "cannot listen on " + addr + ": port " + std::to_string(l.port()) + " is in use");
    e = error_of([] { ctl::tcp_listener far(ctl::parse_tcp_address("tcp://192.0.2.7:7000", true)); });
    CHECK(e == "cannot listen on tcp://192.0.2.7:7000: 192.0.2.7 is not an address of this machine");
    e = error_of([] { ctl::tcp_listener nowhere(ctl::parse_tcp_address("tcp://no-such-host.invalid:7000", true)); });
    CHECK(e.find("cannot resolve the host of tcp://no-such-host.invalid:7000") == 0);
    CHECK(l.accept().peer == nullptr);  // nothing pending: does not block
}

TEST_CASE("TCP channel: messages both ways, back to back, and a second one keeps the descriptor readable") {
    tcp_pair p;
    CHECK_FALSE(p.server->peer_checked_by_kernel());
    CHECK(p.server->peer().rfind("tcp://127.0.0.1:", 0) == 0);
    CHECK(p.client->peer() == p.l.address());
    REQUIRE(p.client->send(message_with(1), in(1000ms)));
    REQUIRE(p.client->send(message_with(2), in(1000ms)));
    ctl::received r = p.server->receive(in(2000ms));
    REQUIRE(r.status == ctl::receive_status::message);
    CHECK(static_cast<ctl::type>(r.header.type) == ctl::type::stats);
    CHECK(value_of(r) == 1);
    // Only the first message was read: the second still makes poll(2) wake.
    CHECK(readable(p.server->readiness_fd()));
    r = p.server->receive(in(2000ms));
    REQUIRE(r.status == ctl::receive_status::message);
    CHECK(value_of(r) == 2);
    REQUIRE(p.server->send(message_with(3), in(1000ms)));
    r = p.client->receive(in(2000ms));
    REQUIRE(r.status == ctl::receive_status::message);
    CHECK(value_of(r) == 3);
    // A large message (many TCP segments) arrives whole.
    ctl::writer big(ctl::type::job_failed);
    big.put(ctl::job_failed{7, 0}).put_text(std::string(200'000, 'x'));
    REQUIRE(p.client->send(big.done(), in(2000ms)));
    r = p.server->receive(in(2000ms));
    REQUIRE(r.status == ctl::receive_status::message);
    CHECK(r.header.bytes == big.done().size());
}

TEST_CASE("TCP channel: deadlines") {
    tcp_pair p;
    const auto before = ctl::clock::now();
    ctl::received r = p.server->receive(before + 50ms);
    CHECK(r.status == ctl::receive_status::timed_out);
    CHECK(ctl::clock::now() >= before + 50ms);  // never early
    CHECK(p.server->receive(ctl::clock::now()).status == ctl::receive_status::timed_out);  // a passed deadline: at once
    // Nobody listens (port 1, tcpmux, is served nowhere): null, with the reason.
    const std::uint16_t port = p.l.port();
    std::string why;
    auto none = ctl::tcp_channel::connect(ctl::tcp_address{"127.0.0.1", 1}, in(1000ms), why);
    CHECK(none == nullptr);
    CHECK(why == std::strerror(ECONNREFUSED));
    CHECK(error_of([&] { (void)ctl::tcp_channel::connect(ctl::tcp_address{"no-such-host.invalid", port}, in(100ms), why); })
              .find("cannot resolve") == 0);
}

TEST_CASE("TCP connect: a listener that never answers costs the deadline, not the kernel's minutes") {
    // A listener whose accept queue is full drops further SYNs: the connect
    // then waits for an answer that never comes.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 0) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    const ctl::tcp_address to{"127.0.0.1", ntohs(a.sin_port)};
    std::vector<std::unique_ptr<ctl::tcp_channel>> queued;
    std::string why;
    bool timed_out = false;
    for (int i = 0; i < 8 && !timed_out; ++i) {
        const auto start = ctl::clock::now();
        auto c = ctl::tcp_channel::connect(to, start + 200ms, why);
        if (c) {
            queued.push_back(std::move(c));  // taken into the queue
            continue;
        }
        timed_out = true;
        CHECK(why == "no answer (connect timed out)");
        CHECK(ctl::clock::now() >= start + 200ms);
        CHECK(ctl::clock::now() < start + 5s);  // a bound, not a measurement
    }
    CHECK(timed_out);
    ::close(fd);
}

TEST_CASE("TCP channel: a message in pieces is kept across receives") {
    raw_pair p;
    const std::vector<std::byte> m = message_with(42);
    p.write(std::span(m).first(5));
    CHECK(p.server->receive(in(20ms)).status == ctl::receive_status::timed_out);
    p.write(std::span(m).subspan(5, 15));  // the header complete, part of the body
    CHECK(p.server->receive(in(20ms)).status == ctl::receive_status::timed_out);
    p.write(std::span(m).subspan(20));
    ctl::received r = p.server->receive(in(2000ms));
    REQUIRE(r.status == ctl::receive_status::message);
    CHECK(value_of(r) == 42);
}

TEST_CASE("TCP channel: what is not a message is malformed once, then the stream is closed") {
    std::vector<std::byte> m = message_with(5);
    SUBCASE("bad magic") { m[0] ^= std::byte{0xFF}; }
    SUBCASE("another version") {
        const std::uint16_t v = ctl::version + 1;
        std::memcpy(m.data() + offsetof(ctl::message_header, version), &v, sizeof v);
    }
    SUBCASE("a length above the limit") {
        const auto n = static_cast<std::uint32_t>(ctl::max_message_bytes + 1);
        std::memcpy(m.data() + offsetof(ctl::message_header, bytes), &n, sizeof n);
    }
    SUBCASE("a length below the header") {
        const std::uint32_t n = 8;
        std::memcpy(m.data() + offsetof(ctl::message_header, bytes), &n, sizeof n);
    }
    raw_pair p;
    p.write(m);
    CHECK(p.server->receive(in(2000ms)).status == ctl::receive_status::malformed);
    CHECK(p.server->receive(in(2000ms)).status == ctl::receive_status::closed);
    CHECK(readable(p.server->readiness_fd()));  // a poll loop comes back and finds it closed
    CHECK_FALSE(p.server->send(message_with(6), in(100ms)));
    char c;
    CHECK(::recv(p.fd, &c, 1, 0) == 0);  // the peer sees the close
}

TEST_CASE("TCP channel: the peer's close, also in the middle of a message") {
    SUBCASE("between messages") {
        tcp_pair p;
        p.client.reset();
        CHECK(p.server->receive(in(2000ms)).status == ctl::receive_status::closed);
    }
    SUBCASE("in a message") {
        raw_pair p;
        const std::vector<std::byte> m = message_with(9);
        p.write(std::span(m).first(m.size() - 3));
        ::close(p.fd);
        p.fd = -1;
        CHECK(p.server->receive(in(2000ms)).status == ctl::receive_status::closed);
    }
    SUBCASE("sending to a closed peer fails, bounded") {
        tcp_pair p;
        p.server.reset();
        bool failed = false;
        for (int i = 0; i < 100 && !failed; ++i) failed = !p.client->send(message_with(1), in(100ms));
        CHECK(failed);
    }
}

TEST_CASE("dpu map: entries, comments, blank lines") {
    const ctl::dpu_map m = ctl::parse_dpu_map(
        "# the cluster's DPUs\n\nnode1  10.0.0.101:7000   # first\n\tnode2\ttcp://dpu2.example:7001\r\n   \n", "m.txt");
    REQUIRE(m.entries.size() == 2);
    CHECK(m.router_of("node1").router.text() == "tcp://10.0.0.101:7000");
    CHECK(m.router_of("node1").line == 3);
    CHECK(m.router_of("node2").router.text() == "tcp://dpu2.example:7001");
    CHECK(ctl::parse_dpu_map("h 1.2.3.4:5", "f").entries.size() == 1);  // no final newline
    CHECK(error_of([&] { m.router_of("node3"); }) ==
          "the dpu map m.txt has no line for host 'node3' (add 'node3 ADDRESS:PORT' for its router)");
}

TEST_CASE("dpu map: a malformed line is refused naming file:line and what is wrong") {
    auto refusal = [](const char* text) { return error_of([&] { ctl::parse_dpu_map(text, "map"); }); };
    CHECK(refusal("a 1.2.3.4:5\nnode2\n") == "map:2: expected 'host-name address:port', found 1 word");
    CHECK(refusal("a 1.2.3.4:5 6\n") == "map:1: expected 'host-name address:port', found 3 words");
    CHECK(refusal("# c\na 1.2.3.4\n") == "map:2: '1.2.3.4' is not address:port: no ':PORT' after the host");
    CHECK(refusal("a 1.2.3.4:0\n").find("map:1: '1.2.3.4:0' is not address:port: port 0") == 0);
    CHECK(refusal("a 1.2.3.4:70000\n").find("map:1:") == 0);
    CHECK(refusal("a 1.2.3:7\n").find("not an IPv4 address") != std::string::npos);
    CHECK(refusal("a/b 1.2.3.4:7\n") == "map:1: 'a/b' is not a host name");
    CHECK(refusal("a 1.2.3.4:7\na 1.2.3.5:7\n") == "map:2: host 'a' is listed again (first on line 1)");
    CHECK(refusal("# nothing\n\n") == "the dpu map map lists no host");
    CHECK(error_of([] { ctl::read_dpu_map("/no/such/map"); }).find("cannot read the dpu map /no/such/map") == 0);
}

TEST_CASE("job secret: drawn fresh, compared whole") {
    std::uint8_t a[ctl::secret_bytes], b[ctl::secret_bytes];
    ctl::draw_secret(a);
    ctl::draw_secret(b);
    CHECK_FALSE(ctl::secret_missing(a));
    CHECK_FALSE(ctl::secrets_equal(a, b));  // 2^-256 to fail
    std::memcpy(b, a, sizeof a);
    CHECK(ctl::secrets_equal(a, b));
    b[0] ^= 1;
    CHECK_FALSE(ctl::secrets_equal(a, b));
    b[0] ^= 1;
    b[ctl::secret_bytes - 1] ^= 0x80;
    CHECK_FALSE(ctl::secrets_equal(a, b));  // the last byte counts as much as the first
    std::uint8_t zero[ctl::secret_bytes] = {};
    CHECK(ctl::secret_missing(zero));
    zero[ctl::secret_bytes - 1] = 1;
    CHECK_FALSE(ctl::secret_missing(zero));
}
