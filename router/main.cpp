// buddy-router: the routing service for placement host (and, built for
// aarch64, dpu).  No MPI: ranks find it through its Unix socket.
//
//   buddy-router [--socket PATH] [--threads T] [--router-cores LIST] [--service] [--verbose]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <stdexcept>

#include "buddy/config.hpp"
#include "buddy/launch/router_binary.hpp"
#include "buddy/router/placement.hpp"
#include "buddy/router/service.hpp"

int main(int argc, char** argv) {
    buddy::router::router_options o;
    std::string cores;
    CLI::App cli{"buddy-router: routes buddy messages between the ranks of this node and other routers"};
    cli.add_option("--socket", o.socket,
                   "control socket (default /tmp/buddy-<uid>/router-<index>.sock; ranks: BUDDY_ROUTER_SOCKET)");
    cli.add_option("--threads", o.threads, "router threads, each with its own rings and UCX worker")
        ->check(CLI::Range(buddy::knob_range::router_threads_min, buddy::knob_range::router_threads_max));
    cli.add_option("--router-cores", cores, "cores for the router threads, e.g. 6-7 (default: near the NIC)");
    cli.add_option("--index", o.index, "which router of this node this is (socket name, default cores)")
        ->check(CLI::Range(0u, 63u));
    cli.add_option("--routers-per-node", o.routers_per_node, "routers on this node (for the default cores)")
        ->check(CLI::Range(1u, 64u));
    cli.add_flag("--service", o.service, "keep running when the last job detaches");
    cli.add_option("--idle-exit", o.idle_exit_seconds, "without --service: exit if no job attaches within this many seconds")
        ->check(CLI::PositiveNumber);
    cli.add_flag("--verbose", o.verbose, "print placement and job events");
    try {
        cli.parse(argc, argv);
        if (o.index >= o.routers_per_node)
            throw CLI::ValidationError("--index", "must be below --routers-per-node");
        if (!cores.empty()) o.cores = buddy::router::parse_cpu_list(cores);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "buddy-router: --router-cores: %s\n", e.what());
        return 2;
    }
    // Which file runs matters when several builds or installs coexist: say it
    // first, so a log shows which buddy-router a rank or buddyrun started.
    if (o.verbose) std::fprintf(stderr, "buddy-router: running %s\n", buddy::launch::running_executable().c_str());
    return buddy::router::run_router(o);
}
