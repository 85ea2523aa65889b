// The control channel over a SOCK_SEQPACKET Unix socket (placement host).
//
// SEQPACKET keeps message boundaries, so one send is one message and the
// framing is the kernel's; the message header's length is still checked.
// Peers are authenticated by the kernel: the listener asks for the peer's uid
// (SO_PEERCRED) and refuses other users.  The socket is mode 0600 and lives
// in a directory of mode 0700.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "buddy/control/channel.hpp"

namespace buddy::control {

/// Why `dir` may not hold a router socket (empty: it may): it must be a
/// directory of this user that no other user can write to; `private_dir`
/// (the default location under the shared /tmp) also wants mode 0700.
std::string socket_dir_refusal(const std::string& dir, bool private_dir);

class unix_channel final : public channel {
public:
    /// Takes ownership of a connected SOCK_SEQPACKET socket.
    explicit unix_channel(int fd) noexcept : fd_(fd) {}
    ~unix_channel() override;

    /// Connects to the listener at `path` without blocking; null when none
    /// listens there, or when one does but its queue of connections waiting
    /// to be accepted is full (then `*busy` is set, where given: a listener is
    /// there, starting another would not help).  Throws control_error when
    /// `path` cannot be a Unix socket address, when connecting is not
    /// permitted (another user's socket or directory), when something other
    /// than a socket stands there, or when the listener runs as another user
    /// (SO_PEERCRED).
    static std::unique_ptr<unix_channel> connect(const std::string& path, bool* busy = nullptr);

    [[nodiscard]] bool send(std::span<const std::byte> message, clock::time_point deadline) override;
    received receive(clock::time_point deadline) override;
    int readiness_fd() const noexcept override { return fd_; }
    bool peer_checked_by_kernel() const noexcept override { return true; }
    std::string peer() const override { return "a local process of this user"; }

private:
    int fd_;
    std::vector<std::byte> buffer_;  ///< grows to the largest message received
};

class unix_listener final : public listener {
public:
    /// Listens on `path` (mode 0600), creating its directory (mode 0700).
    /// Refuses (socket_dir_refusal) a directory of another user or one other
    /// users may write to; `private_dir`: also one that is not mode 0700 (the
    /// default, shared /tmp location).  Refuses, and leaves alone, anything
    /// at `path` but a stale socket of this user.  One listener per
    /// path: `path.lock` stays locked while it lives.  Throws control_error.
    unix_listener(std::string path, bool private_dir);
    /// Stops listening and removes the socket.
    ~unix_listener() override;

    accepted accept() override;
    int readiness_fd() const noexcept override { return listen_fd_; }
    const std::string& address() const noexcept override { return path_; }

private:
    void close_all() noexcept;

    std::string path_;
    int lock_fd_ = -1;
    int listen_fd_ = -1;
};

}  // namespace buddy::control
