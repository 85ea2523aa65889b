// The control channel over TCP (placement dpu: the router runs on a DPU and
// its ranks reach it across the network).
//
// A TCP stream has no message boundaries: each message is found by its
// header's length, which is checked (magic, version, at most
// max_message_bytes) before anything is sized by it (detail/framing.hpp, the
// same checks as the Unix channel's).  A stream that carried something that
// is not a message cannot be resynchronised: the channel reports `malformed`
// once and is closed from then on.
//
// Nothing here can tell who the peer is: the listener accepts anyone who
// connects, and the router authenticates each connection by its hello's job
// secret (router/job_secrets.hpp).  Sockets are nonblocking, TCP_NODELAY (a
// request is one small write that must not wait for Nagle) and keepalive (a
// peer whose machine vanished is noticed within about 25 s even when idle).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "buddy/control/channel.hpp"

namespace buddy::control {

/// An IPv4 host (dotted quad or a name for getaddrinfo) and a port.
struct tcp_address {
    std::string host;
    std::uint16_t port = 0;
    /// "tcp://HOST:PORT"
    std::string text() const;
};

/// Whether `text` asks for TCP at all ("tcp://...").
bool is_tcp_address(std::string_view text) noexcept;
/// Parses "tcp://HOST:PORT"; port 0 only with `port_zero_ok` (a listener
/// picks one).  Throws control_error saying what is wrong with `text`.
tcp_address parse_tcp_address(std::string_view text, bool port_zero_ok);
/// Parses "HOST:PORT" (a dpu map's entry; "tcp://" in front is accepted),
/// port 1 to 65535.  Empty when accepted, else what is wrong.
std::string parse_host_port(std::string_view text, tcp_address& out);

class tcp_channel final : public channel {
public:
    /// Takes ownership of a connected TCP socket; `peer` names it in messages.
    tcp_channel(int fd, std::string peer) noexcept : fd_(fd), peer_(std::move(peer)) {}
    ~tcp_channel() override;

    /// Connects to `to`, waiting at most until `deadline`.  Null when it could
    /// not (refused, unreachable, no answer in time), with the reason in
    /// `why_not`: the caller may try again.  Throws control_error when the
    /// host cannot be resolved (trying again will not help).
    static std::unique_ptr<tcp_channel> connect(const tcp_address& to, clock::time_point deadline,
                                                std::string& why_not);

    /// All of the message or, when the deadline passes part-way, nothing more
    /// ever: the stream is shut down (a half message would corrupt it).
    [[nodiscard]] bool send(std::span<const std::byte> message, clock::time_point deadline) override;
    /// Reads only as far as the current message (so a second message waiting
    /// behind it keeps the descriptor readable); a partial message is kept
    /// across calls.
    received receive(clock::time_point deadline) override;
    int readiness_fd() const noexcept override { return fd_; }
    bool peer_checked_by_kernel() const noexcept override { return false; }
    std::string peer() const override { return peer_; }

private:
    void break_stream() noexcept;

    int fd_;
    std::string peer_;
    std::vector<std::byte> buffer_;  ///< the message being received
    std::size_t have_ = 0;           ///< bytes of it received so far
    std::size_t want_ = 0;           ///< its length, once its header is in (0: not yet)
    bool broken_ = false;            ///< shut down: every receive() says closed
};

class tcp_listener final : public listener {
public:
    /// Listens on `at` (port 0: one the kernel picks; address() tells which).
    /// Throws control_error with one sentence naming the address: it cannot
    /// be resolved, the port is in use, the host is not an address of this
    /// machine, or the port needs privileges.
    explicit tcp_listener(const tcp_address& at);
    ~tcp_listener() override;

    /// Takes one pending connection; nobody is refused here (see above).
    accepted accept() override;
    int readiness_fd() const noexcept override { return fd_; }
    /// "tcp://IP:PORT" with the port actually bound.
    const std::string& address() const noexcept override { return address_; }
    std::uint16_t port() const noexcept { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::string address_;
};

}  // namespace buddy::control
