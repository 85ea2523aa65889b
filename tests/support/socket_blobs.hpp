// Length-prefixed blobs over a connected socket (a socketpair between a
// forked parent and child): how the two-process RMA test and benchmark pass
// each other worker addresses and ring sides, as the control plane does for
// real.  Every read is bounded by `timeout_s` and every failure throws a
// std::runtime_error saying what happened.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace buddy::test_support {

inline void write_all(int fd, const void* data, std::size_t bytes) {
    auto* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::send(fd, p, bytes, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("socketpair: send failed: " + std::string(std::strerror(errno)));
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
}

inline void read_all(int fd, void* data, std::size_t bytes, double timeout_s) {
    auto* p = static_cast<char*>(data);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (bytes > 0) {
        pollfd pfd{fd, POLLIN, 0};
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("socketpair: the peer sent nothing within the timeout");
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
        const ssize_t n = ::recv(fd, p, bytes, 0);
        if (n == 0) throw std::runtime_error("socketpair: the peer closed");
        if (n < 0) throw std::runtime_error("socketpair: recv failed: " + std::string(std::strerror(errno)));
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
}

inline void send_blob(int fd, const std::vector<std::byte>& b) {
    const std::uint64_t n = b.size();
    write_all(fd, &n, sizeof n);
    write_all(fd, b.data(), b.size());
}

/// Refuses a length over 1 MiB (a corrupt prefix), before allocating it.
inline std::vector<std::byte> recv_blob(int fd, double timeout_s) {
    std::uint64_t n = 0;
    read_all(fd, &n, sizeof n, timeout_s);
    if (n > (1u << 20)) throw std::runtime_error("socketpair: blob of " + std::to_string(n) + " bytes, over 1 MiB");
    std::vector<std::byte> b(n);
    read_all(fd, b.data(), n, timeout_s);
    return b;
}

inline void send_text(int fd, const std::string& s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    send_blob(fd, std::vector<std::byte>(p, p + s.size()));
}

inline std::string recv_text(int fd, double timeout_s) {
    const auto b = recv_blob(fd, timeout_s);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace buddy::test_support
