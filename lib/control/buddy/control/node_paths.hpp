// Names of per-node things: router control sockets and ring segments.
//
// Both carry the host name, so several "hosts" sharing one /tmp and one
// /dev/shm (network namespaces on one machine) never find each other's
// routers or sweep each other's segments.  The router and the rank both call
// these functions; nobody else builds such a name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace buddy::control {

/// This machine's host name, as messages show it.
std::string this_host();

/// `host` as it appears inside paths and segment names: letters, digits, '.'
/// and '-' are kept, anything else (a '/' would split a path) becomes '_'.
std::string host_in_names(std::string_view host);

/// The default control socket of router `index` of user `uid` on `host`:
/// /tmp/buddy-<uid>/router-<host>-<index>.sock
std::string default_socket_path(unsigned uid, std::string_view host, unsigned index);

/// The socket of router `index` on `host`.  `configured` (BUDDY_ROUTER_SOCKET)
/// empty: the default.  Otherwise "{host}" is replaced by the host and "{i}"
/// by the index; without "{i}", routers after the first get "-<index>" appended.
std::string socket_path(std::string_view configured, unsigned uid, std::string_view host, unsigned index);

enum class ring_direction { outbound, inbound };

/// The POSIX shared-memory name of one rank's rings (all router threads):
/// /buddy-<uid>-<host>-<router pid>-<job, 16 hex digits>-<rank>-{out,in}
std::string segment_name(unsigned uid, std::string_view host, std::uint32_t router_pid, std::uint64_t job,
                         std::uint32_t rank, ring_direction d);

/// For an entry of /dev/shm (no leading '/'): the pid of the router that made
/// it, if segment_name() made it for `uid` on `host`; 0 for anything else,
/// including segments of hosts whose names merely start like `host`.
std::uint32_t segment_router_pid(std::string_view entry, unsigned uid, std::string_view host);

}  // namespace buddy::control
