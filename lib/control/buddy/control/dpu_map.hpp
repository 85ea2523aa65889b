// The dpu map: which router serves the ranks of each host under placement dpu
// (docs/dpu.md).  One line per host,
//
//     host-name   dpu-address:port      # comment
//
// '#' starts a comment, blank lines are ignored.  The host name is what
// this_host() says on that host (gethostname); the address is an IPv4
// address or a name, and the port the one its router listens on
// (buddy-router --listen tcp://ADDR:PORT).  Read by each rank (BUDDY_DPU_MAP)
// and by buddyrun before it launches anything (--dpu-map), in this one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "buddy/control/tcp_channel.hpp"

namespace buddy::control {

struct dpu_map_entry {
    std::string host;
    tcp_address router;
    unsigned line = 0;  ///< where it is in the file (1-based)
};

struct dpu_map {
    std::string file;  ///< names the map in messages
    std::vector<dpu_map_entry> entries;

    /// The entry of `host`; throws control_error naming the host and the file.
    const dpu_map_entry& router_of(std::string_view host) const;
};

/// Parses the text of a map.  Throws control_error "FILE:LINE: what is wrong"
/// for a line that is not "host address:port" (too few or too many words, a
/// bad host name, a bad address or port) or names a host again; a map with
/// no entry at all is refused too.
dpu_map parse_dpu_map(std::string_view text, const std::string& file);
/// Reads and parses the map at `path`; throws control_error (cannot read it, or as above).
dpu_map read_dpu_map(const std::string& path);

}  // namespace buddy::control
