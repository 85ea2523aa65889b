#include "buddy/control/unix_channel.hpp"

#include "buddy/control/detail/framing.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace buddy::control {

namespace {

sockaddr_un address_of(const std::string& path) {
    sockaddr_un a{};
    if (path.empty() || path.size() >= sizeof a.sun_path)
        throw control_error("socket path '" + path + "' is not usable for a Unix socket (1 to " +
                            std::to_string(sizeof a.sun_path - 1) + " bytes)");
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size());
    return a;
}

std::string mode_text(mode_t m) {
    char b[8];
    std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
    return b;
}

const char* kind_of(mode_t m) {
    if (S_ISREG(m)) return "a regular file";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISLNK(m)) return "a symbolic link";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
    return "not a socket";
}

// What stands at a socket path that is not ours to use (empty: nothing, or
// a socket of this user).  lstat: a link is refused, never followed.
std::string socket_path_refusal(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode))
        return "refusing " + path + ": it is " + kind_of(st.st_mode) + ", not a socket (remove it yourself if it is stale)";
    if (st.st_uid != ::getuid())
        return "refusing " + path + ": the socket belongs to uid " + std::to_string(st.st_uid) + ", not to this user (uid " +
               std::to_string(::getuid()) + ")";
    return {};
}

}  // namespace

std::string socket_dir_refusal(const std::string& dir, bool private_dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return "cannot use " + dir + ": " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return "refusing " + dir + ": not a directory";
    if (st.st_uid != ::getuid())
        return "refusing " + dir + ": it belongs to uid " + std::to_string(st.st_uid) + ", not to this user (uid " +
               std::to_string(::getuid()) + "); the router's socket needs a directory of its own user";
    if ((st.st_mode & 022) != 0)
        return "refusing " + dir + ": mode " + mode_text(st.st_mode) +
               " lets other users create or replace files in it (use mode 0700)";
    if (private_dir && (st.st_mode & 077) != 0)
        return "refusing " + dir + ": mode " + mode_text(st.st_mode) + ", it must be 0700";
    return {};
}

unix_channel::~unix_channel() { ::close(fd_); }

std::unique_ptr<unix_channel> unix_channel::connect(const std::string& path, bool* busy) {
    if (busy) *busy = false;
    const sockaddr_un a = address_of(path);
    // Nonblocking: a blocking connect() to a listener whose backlog is full
    // waits, with no time limit, until the listener accepts (a router that
    // is stopped, or busy while more ranks than its backlog connect at once);
    // nonblocking, the kernel says EAGAIN at once and the caller's bounded
    // retry loop decides.  Every send and receive of the channel already
    // polls with a deadline, so the socket stays nonblocking.
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return nullptr;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EAGAIN || err == EWOULDBLOCK) {
            if (busy) *busy = true;
            return nullptr;
        }
        // Permission denied is an answer, not "no router yet": say so at once
        // rather than wait for a router that can never be reached.
        if (err == EACCES || err == EPERM)
            throw control_error("cannot connect to " + path + ": " + std::strerror(err) +
                                " (the socket or its directory belongs to another user)");
        if (std::string why = socket_path_refusal(path); !why.empty()) throw control_error(why);
        return nullptr;
    }
    // The other way round from the listener's check: a rank talks only to a
    // router of its own user (a socket planted by someone else is refused).
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::getuid()) {
        ::close(fd);
        throw control_error("refusing the router at " + path + ": it runs as uid " + std::to_string(cred.uid) +
                            ", not as this user (uid " + std::to_string(::getuid()) + ")");
    }
    return std::make_unique<unix_channel>(fd);
}

bool unix_channel::send(std::span<const std::byte> message, clock::time_point deadline) {
    for (;;) {
        // Never blocking in send() itself: a router must not hang on one slow rank.
        const ssize_t n = ::send(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == static_cast<ssize_t>(message.size())) return true;
        if (n >= 0) {  // SEQPACKET sends all or nothing; anything else is not a message
            errno = EMSGSIZE;
            return false;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        switch (detail::wait_for(fd_, POLLOUT, deadline)) {
            case detail::wait_result::ready: break;
            case detail::wait_result::timed_out: errno = ETIMEDOUT; return false;
            case detail::wait_result::failed: return false;
        }
    }
}

received unix_channel::receive(clock::time_point deadline) {
    received out;
    for (;;) {
        switch (detail::wait_for(fd_, POLLIN, deadline)) {
            case detail::wait_result::ready: break;
            case detail::wait_result::timed_out: out.status = receive_status::timed_out; return out;
            case detail::wait_result::failed: out.status = receive_status::closed; return out;
        }
        // The next message's length without taking it (MSG_TRUNC reports the
        // whole length); 0 is the end of the stream, since no message is empty.
        std::byte probe{};
        const ssize_t size = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
        if (size < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (size <= 0) {
            out.status = receive_status::closed;
            return out;
        }
        if (static_cast<std::size_t>(size) > max_message_bytes) {
            (void)::recv(fd_, &probe, 1, MSG_DONTWAIT);  // takes (and drops) the whole message
            out.status = receive_status::malformed;
            return out;
        }
        buffer_.resize(static_cast<std::size_t>(size));
        const ssize_t got = ::recv(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (got != size) {
            out.status = got == 0 ? receive_status::closed : receive_status::malformed;
            return out;
        }
        detail::open_received(std::span<const std::byte>(buffer_.data(), buffer_.size()), out);
        return out;
    }
}

unix_listener::unix_listener(std::string path, bool private_dir) : path_(std::move(path)) {
    const sockaddr_un addr = address_of(path_);
    try {
        if (const auto slash = path_.rfind('/'); slash != std::string::npos && slash > 0) {
            const std::string dir = path_.substr(0, slash);
            if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
                throw control_error("cannot create " + dir + ": " + std::strerror(errno));
            if (std::string why = socket_dir_refusal(dir, private_dir); !why.empty()) throw control_error(why);
        }
        // Only a stale socket of ours may be replaced: anything else at the
        // path (a file someone keeps there, another user's socket) is refused
        // untouched.
        if (std::string why = socket_path_refusal(path_); !why.empty()) throw control_error(why);
        // One listener per socket: whoever holds the lock owns the path, so a
        // socket file found there without the lock is stale and can go.
        const std::string lock_path = path_ + ".lock";
        lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
            throw control_error("another buddy-router already serves " + path_);
        ::unlink(path_.c_str());
        listen_fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        // The socket is born 0600: no window in which another user could connect.
        const mode_t old = ::umask(0177);
        const int rc = listen_fd_ < 0 ? -1 : ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        ::umask(old);
        if (rc != 0 || ::listen(listen_fd_, 256) != 0)
            throw control_error("cannot listen on " + path_ + ": " + std::strerror(errno));
        ::chmod(path_.c_str(), 0600);
    } catch (...) {
        close_all();
        throw;
    }
}

unix_listener::~unix_listener() { close_all(); }

void unix_listener::close_all() noexcept {
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());  // only a bound listener owns the file
        listen_fd_ = -1;
    }
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);
        lock_fd_ = -1;
    }
}

listener::accepted unix_listener::accept() {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return {};
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::getuid()) {
        ::close(fd);
        return {nullptr, "refused a connection from another user (uid " + std::to_string(cred.uid) + ")"};
    }
    return {std::make_unique<unix_channel>(fd), {}};
}

}  // namespace buddy::control
