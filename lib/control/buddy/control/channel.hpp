// The control plane's transport: a channel carries whole control messages
// between one rank and one router; a listener hands the router one channel
// per authenticated peer.
//
// Both sides of the protocol talk only to these interfaces, so a second
// transport (TCP, for routers on a DPU) is a second implementation of them
// and nothing else changes.  What differs between transports stays behind
// them: how a message is framed on the wire, and how a peer proves it belongs
// to the same user (a Unix socket asks the kernel for the peer's uid; over
// TCP nothing can, and the router checks the job's secret in the hello).
//
// Control messages are rare (a handful per rank per job), so the interfaces
// are virtual and may allocate; none of this is on the data path.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "buddy/control/messages.hpp"

namespace buddy::control {

using clock = std::chrono::steady_clock;

/// A transport could not be set up (bad address, permissions, in use).
class control_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class receive_status {
    message,    ///< `header` and `body` hold the next message
    timed_out,  ///< nothing arrived before the deadline
    closed,     ///< the peer closed the channel or is gone
    malformed,  ///< something arrived that is not a control message (dropped)
};

struct received {
    receive_status status = receive_status::timed_out;
    message_header header{};  ///< checked: magic, version, length
    reader body;              ///< positioned after the header; valid until the next receive()
};

class channel {
public:
    channel() = default;
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;
    virtual ~channel() = default;

    /// Sends one whole message, waiting for room at most until `deadline`
    /// (a deadline in the past: only if it goes at once).  False when it could
    /// not be sent; errno then says why.
    [[nodiscard]] virtual bool send(std::span<const std::byte> message, clock::time_point deadline) = 0;

    /// The next message, waiting at most until `deadline`.
    virtual received receive(clock::time_point deadline) = 0;

    /// A descriptor that becomes readable when receive() has something to
    /// return (a message or the close), so one thread can poll(2) many
    /// channels and a listener together.
    virtual int readiness_fd() const noexcept = 0;

    /// True when the kernel vouched for the peer: it runs as this user on this
    /// machine (a Unix socket's SO_PEERCRED).  False over TCP: the peer may be
    /// anyone anywhere, proves itself only by its job's secret, and the pid
    /// its hello names is not a process of this machine.
    virtual bool peer_checked_by_kernel() const noexcept = 0;
    /// The peer, for messages: "tcp://10.0.0.5:41234", "a local process".
    virtual std::string peer() const = 0;
};

class listener {
public:
    listener() = default;
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
    virtual ~listener() = default;

    struct accepted {
        std::unique_ptr<channel> peer;  ///< null: nothing accepted
        std::string refused;            ///< non-empty: a peer was turned away, and why
    };
    /// Takes one pending connection.  Peers that cannot prove they belong to
    /// this user are refused here, before any message is read from them.
    virtual accepted accept() = 0;

    /// Readable when accept() has a connection to take.
    virtual int readiness_fd() const noexcept = 0;
    /// Where it listens, for messages.
    virtual const std::string& address() const noexcept = 0;
};

}  // namespace buddy::control
