#include "buddy/control/tcp_channel.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "buddy/control/detail/framing.hpp"

namespace buddy::control {

namespace {

constexpr std::string_view scheme = "tcp://";

// 'text' in quotes.  Appended, not "'" + ...: GCC 12 warns (-Wrestrict, a
// false positive) on that temporary.
std::string quoted(std::string_view text) {
    std::string q;
    q.append("'").append(text).append("'");
    return q;
}

bool host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
}

// Empty when `host` may name an IPv4 host: a dotted quad, or a name of the
// characters host names use (getaddrinfo decides whether it exists).
std::string host_refusal(std::string_view host) {
    if (host.empty()) return "no host before the ':'";
    if (host.size() > 253) return "the host name is longer than 253 characters";
    if (!std::all_of(host.begin(), host.end(), host_char))
        return "the host " + quoted(host) + " has characters a host name cannot have (IPv6 is not supported)";
    if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
        in_addr a{};
        if (::inet_pton(AF_INET, std::string(host).c_str(), &a) != 1)
            return quoted(host) + " is not an IPv4 address";
    }
    return {};
}

// HOST:PORT split at the last ':'; empty when accepted.
std::string split_host_port(std::string_view text, bool port_zero_ok, tcp_address& out) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "no ':PORT' after the host";
    const std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
    if (std::string why = host_refusal(host); !why.empty()) return why;
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || v > 65535)
        return "the port " + quoted(port) + " is not a number from " + (port_zero_ok ? "0" : "1") + " to 65535";
    if (v == 0 && !port_zero_ok) return "port 0 is not a port a router listens on";
    out.host = std::string(host);
    out.port = static_cast<std::uint16_t>(v);
    return {};
}

std::string ip_text(const sockaddr_in& a) {
    char b[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &a.sin_addr, b, sizeof b);
    return std::string(b);
}

// IPv4 addresses of `host` (a name or a dotted quad); throws control_error.
struct resolved {
    addrinfo* list = nullptr;
    resolved(const tcp_address& at, bool passive) {
        addrinfo hints{};
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = passive ? AI_PASSIVE : 0;
        const std::string port = std::to_string(at.port);
        // getaddrinfo is bounded by the resolver's own timeouts (resolv.conf),
        // not by our deadline; names in /etc/hosts answer at once.
        const int rc = ::getaddrinfo(at.host.c_str(), port.c_str(), &hints, &list);
        if (rc != 0)
            throw control_error("cannot resolve the host of " + at.text() + ": " +
                                (rc == EAI_SYSTEM ? std::string(std::strerror(errno)) : std::string(::gai_strerror(rc))));
    }
    ~resolved() {
        if (list) ::freeaddrinfo(list);
    }
    resolved(const resolved&) = delete;
    resolved& operator=(const resolved&) = delete;
};

// Both ends: no Nagle delay on requests, and a peer whose machine is gone is
// found within about 25 s even on an idle connection (10 s idle, then 3 probes
// 5 s apart), and unacknowledged data gives up after as long.
void tune_socket(int fd) noexcept {
    const int one = 1, idle = 10, interval = 5, count = 3;
    const unsigned user_timeout_ms = 25'000;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

}  // namespace

std::string tcp_address::text() const { return std::string(scheme) + host + ":" + std::to_string(port); }

bool is_tcp_address(std::string_view text) noexcept { return text.substr(0, scheme.size()) == scheme; }

tcp_address parse_tcp_address(std::string_view text, bool port_zero_ok) {
    if (!is_tcp_address(text))
        throw control_error(quoted(text) + " is not a TCP address: expected tcp://HOST:PORT");
    tcp_address a;
    if (std::string why = split_host_port(text.substr(scheme.size()), port_zero_ok, a); !why.empty())
        throw control_error(quoted(text) + " is not a TCP address (tcp://HOST:PORT): " + why);
    return a;
}

std::string parse_host_port(std::string_view text, tcp_address& out) {
    if (is_tcp_address(text)) text.remove_prefix(scheme.size());
    return split_host_port(text, false, out);
}

// ------------------------------------------------------------------ channel

tcp_channel::~tcp_channel() { ::close(fd_); }

std::unique_ptr<tcp_channel> tcp_channel::connect(const tcp_address& to, clock::time_point deadline,
                                                  std::string& why_not) {
    const resolved r(to, false);
    why_not = "no address";
    for (const addrinfo* ai = r.list; ai != nullptr; ai = ai->ai_next) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            why_not = std::strerror(errno);
            continue;
        }
        // Nonblocking: the kernel's own connect timeout (minutes) must not
        // outlast our deadline.
        int err = ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
        if (err == EINPROGRESS || err == EINTR) {
            switch (detail::wait_for(fd, POLLOUT, deadline)) {
                case detail::wait_result::ready: {
                    socklen_t len = sizeof err;
                    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                    break;
                }
                case detail::wait_result::timed_out: err = ETIMEDOUT; break;
                case detail::wait_result::failed: err = errno; break;
            }
        }
        if (err == 0) {
            tune_socket(fd);
            return std::make_unique<tcp_channel>(fd, to.text());
        }
        why_not = err == ETIMEDOUT ? "no answer (connect timed out)" : std::strerror(err);
        ::close(fd);
    }
    return nullptr;
}

void tcp_channel::break_stream() noexcept {
    broken_ = true;
    // The peer sees the close at once, and our own descriptor turns readable
    // (end of stream), so a poll loop comes back and finds it closed.
    ::shutdown(fd_, SHUT_RDWR);
}

bool tcp_channel::send(std::span<const std::byte> message, clock::time_point deadline) {
    if (broken_) {
        errno = EPIPE;
        return false;
    }
    std::size_t sent = 0;
    while (sent < message.size()) {
        // Never blocking in send() itself: a router must not hang on one slow rank.
        const ssize_t n = ::send(fd_, message.data() + sent, message.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const detail::wait_result w = detail::wait_for(fd_, POLLOUT, deadline);
            if (w == detail::wait_result::ready) continue;
            const int err = w == detail::wait_result::timed_out ? ETIMEDOUT : errno;
            if (sent != 0) break_stream();  // half a message is in the stream: nothing after it can be read
            errno = err;
            return false;
        }
        const int err = n == 0 ? EPIPE : errno;
        break_stream();
        errno = err;
        return false;
    }
    return true;
}

received tcp_channel::receive(clock::time_point deadline) {
    received out;
    if (broken_) {
        out.status = receive_status::closed;
        return out;
    }
    constexpr std::size_t head = sizeof(message_header);
    if (buffer_.size() < head) buffer_.resize(head);
    for (;;) {
        const std::size_t need = (want_ == 0 ? head : want_) - have_;
        const ssize_t n = ::recv(fd_, buffer_.data() + have_, need, MSG_DONTWAIT);
        if (n > 0) {
            have_ += static_cast<std::size_t>(n);
            if (want_ == 0 && have_ == head) {
                want_ = detail::framed_length(std::span<const std::byte>(buffer_.data(), head));
                if (want_ == 0) {  // not a control message: where the next one starts is unknowable
                    break_stream();
                    out.status = receive_status::malformed;
                    return out;
                }
                buffer_.resize(std::max(buffer_.size(), want_));
            }
            if (want_ != 0 && have_ == want_) {
                detail::open_received(std::span<const std::byte>(buffer_.data(), want_), out);
                have_ = want_ = 0;
                return out;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            switch (detail::wait_for(fd_, POLLIN, deadline)) {
                case detail::wait_result::ready: continue;
                case detail::wait_result::timed_out: out.status = receive_status::timed_out; return out;
                case detail::wait_result::failed: break;
            }
        }
        // End of stream (a message cut short included), reset, or a failed wait.
        break_stream();
        out.status = receive_status::closed;
        return out;
    }
}

// ----------------------------------------------------------------- listener

tcp_listener::tcp_listener(const tcp_address& at) {
    const resolved r(at, true);
    std::string why = "no address";
    for (const addrinfo* ai = r.list; ai != nullptr; ai = ai->ai_next) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            why = std::strerror(errno);
            continue;
        }
        // A restarted router may take its port back at once (connections of
        // the last one in TIME_WAIT); a port another process listens on stays
        // refused (Linux keeps EADDRINUSE for an active listener).
        const int one = 1;
        (void)::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd_, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd_, 256) == 0) {
            sockaddr_in bound{};
            socklen_t len = sizeof bound;
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len);
            port_ = ntohs(bound.sin_port);
            address_ = "tcp://" + ip_text(bound) + ":" + std::to_string(port_);
            return;
        }
        const int err = errno;
        const auto& in = *reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
        const std::string where = ip_text(in) + ":" + std::to_string(at.port);
        if (err == EADDRINUSE) why = "port " + std::to_string(at.port) + " is in use";
        else if (err == EADDRNOTAVAIL) why = ip_text(in) + " is not an address of this machine";
        else if (err == EACCES) why = "port " + std::to_string(at.port) + " needs privileges";
        else why = where + ": " + std::strerror(err);
        ::close(fd_);
        fd_ = -1;
    }
    throw control_error("cannot listen on " + at.text() + ": " + why);
}

tcp_listener::~tcp_listener() {
    if (fd_ >= 0) ::close(fd_);
}

listener::accepted tcp_listener::accept() {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    // Nonblocking: a connection that went away between poll and accept must
    // not stall the control loop.
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return {};
    tune_socket(fd);
    return {std::make_unique<tcp_channel>(fd, "tcp://" + ip_text(peer) + ":" + std::to_string(ntohs(peer.sin_port))), {}};
}

}  // namespace buddy::control
