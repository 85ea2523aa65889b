// Every knob of buddy: one name, one unit, one default, settable by environment
// variable (BUDDY_<NAME>) and by command-line flag (--buddy-<name>=VALUE, which
// buddy::comm removes from argv).  Values are validated when a comm is made;
// a bad value is refused with a message that names the knob, the value as given
// and the accepted form.  The table that defines each knob (unit, range, form,
// description) is lib/config; this struct holds the values, and its member
// initialisers are the defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace buddy {

enum class placement { inproc, host, dpu };

std::string_view to_string(placement p) noexcept;

/// How ranks and routers wait while nothing moves (docs/perf.md, "Waiting").
/// spin: poll without giving the core away; yield: back off to sched_yield and
/// short naps; automatic: spin when the job's ranks and routers fit the cores
/// they may use and nothing else ran on the node at start, else yield.
enum class wait_policy { automatic, spin, yield };

std::string_view to_string(wait_policy w) noexcept;

/// How records travel between the job's routers (inproc: between ranks).
/// direct: straight to the destination's router; mesh2d: routers on a
/// near-square grid, along the row, then along the column (docs/routing.md).
enum class routing { direct, mesh2d };

std::string_view to_string(routing r) noexcept;

/// Thrown for a bad knob value; what() names the knob, the value and the accepted range.
class config_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// Where the value of a knob came from (describe() shows it).
enum class knob_source : std::uint8_t {
    default_value,   ///< the struct's initialiser
    explicit_value,  ///< set by the program
    environment,     ///< a BUDDY_* variable
    flag,            ///< a command-line flag
};

std::string_view to_string(knob_source s) noexcept;

struct config {
    /// Where routing runs.  inproc: inside each rank (the baseline).
    placement where = placement::inproc;
    /// Next hops between routers (inproc: between ranks).
    routing route = routing::direct;
    /// Target batch size in bytes: a batch is sent once it holds this much.
    std::size_t granularity = 32 * 1024;
    /// Batches in flight per next hop before the sender waits (pipelining depth).
    std::uint32_t depth = 4;
    /// Largest payload one async() may carry, in bytes.
    std::size_t max_message = 1024 * 1024;
    /// Seconds a wait on another party may make no progress before it is an error.
    double timeout_seconds = 60.0;
    /// Where to write the JSON counter report at the end (empty: none).
    std::string report_path;
    /// Router threads per router (host and dpu placements).
    std::uint32_t router_threads = 1;
    /// Ring size per rank and router thread, in bytes (host and dpu placements).
    std::size_t ring_bytes = 4 * 1024 * 1024;
    /// Control socket of the router to attach to (host placement; empty: the default path).
    std::string router_socket;
    /// The dpu map: which router (address:port) serves each host's ranks
    /// (dpu placement; docs/dpu.md).  Empty: none.
    std::string dpu_map;
    /// Routers per node (host placement); ranks are split evenly between them.
    std::uint32_t routers_per_node = 1;
    /// Cores for routers started by a rank, as a list "6,7" or range "6-7" (empty: chosen by hwloc).
    std::string router_cores;
    /// The buddy-router program a rank starts when none is listening (empty: search
    /// next to the application, the build tree, then PATH).
    std::string router_bin;
    /// How a waiting rank or router uses its core.
    wait_policy wait = wait_policy::automatic;
    /// Print what was chosen at start.
    bool verbose = false;
    /// Seal every batch and ring chunk with a CRC-32C and verify it at every hop
    /// (docs/reliability.md); off: no checksum, one branch per batch.
    bool checksum = false;
    /// Placement inproc, direct route: ranks of one node send each other
    /// batches through shared-memory rings (docs/placement.md); off: over UCX.
    bool node_rings = true;

    /// A value taken from the environment or a flag, as the user wrote it: an
    /// error echoes exactly this text, and describe() says where a value came from.
    struct given_value {
        std::string knob;       ///< the knob's name, e.g. "granularity"
        knob_source source;     ///< environment or flag
        std::string spelled;    ///< the variable or flag that gave it, e.g. "BUDDY_GRANULARITY"
        std::string text;       ///< the text given
        std::string value;      ///< the value it set, formatted (to tell whether the program changed it since)
    };
    /// Filled by apply_env() and apply_args(), latest last.
    std::vector<given_value> given;

    /// Defaults overridden by BUDDY_* environment variables; throws config_error.
    static config from_env();
    /// Overrides the knobs whose BUDDY_* variable is set; throws config_error.
    void apply_env();
    /// Applies --buddy-<name>=VALUE / --buddy-<name> VALUE flags and removes them
    /// from argv (argc updated); throws config_error.
    void apply_args(int* argc, char*** argv);
    /// Throws config_error if any value is out of range or does not fit this
    /// machine (a core that does not exist, a router binary that cannot run, ...).
    void validate() const;

    /// One line per knob: name, value in force, unit, where it came from, variable and flag.
    std::string describe() const;
};

/// Parses a byte size with optional suffix K, M, G (powers of 1024): "64K", "1M", "4096".
/// Throws config_error naming `knob` on malformed input.
std::size_t parse_bytes(std::string_view text, std::string_view knob);

/// Accepted range of each sized knob.  The knob table (lib/config) takes its
/// ranges from here; public because the router checks a rank's hello with them.
struct knob_range {
    static constexpr std::size_t granularity_min = 64;
    static constexpr std::size_t granularity_max = 64ull * 1024 * 1024;
    static constexpr std::uint32_t depth_min = 1;
    static constexpr std::uint32_t depth_max = 1024;
    static constexpr std::size_t max_message_min = 64;
    static constexpr std::size_t max_message_max = 1ull << 30;
    static constexpr std::uint32_t router_threads_min = 1;
    static constexpr std::uint32_t router_threads_max = 64;
    static constexpr std::uint32_t routers_per_node_min = 1;
    static constexpr std::uint32_t routers_per_node_max = 64;
    static constexpr std::size_t ring_bytes_min = 64 * 1024;
    static constexpr std::size_t ring_bytes_max = 1ull << 30;
};

}  // namespace buddy
