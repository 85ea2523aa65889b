// buddy-router: the routing service for placement host (and, built for
// aarch64, dpu).  No MPI: ranks find it through its Unix socket, or, with
// --listen tcp://ADDR:PORT (a router on a DPU), over TCP.
//
//   buddy-router [--socket PATH | --listen tcp://ADDR:PORT] [--threads T] [--router-cores LIST] [--wait auto|spin|yield] [--service] [--verbose] [--version]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <stdexcept>

#include "buddy/config.hpp"
#include "buddy/control/tcp_channel.hpp"
#include "buddy/launch/router_binary.hpp"
#include "buddy/router/core_pinning.hpp"
#include "buddy/router/knob_flags.hpp"
#include "buddy/router/service.hpp"

int main(int argc, char** argv) {
    buddy::router::router_options o;
    buddy::router::knob_flags knob_flags;
    CLI::App cli{"buddy-router: routes buddy messages between the ranks of this node and other routers"};
    // Ranks check that a router they are told to start answers this (lib/config).
    cli.set_version_flag("--version", std::string("buddy-router ") + BUDDY_VERSION);
    CLI::Option* socket_flag = knob_flags.add(cli, "--socket", "router-socket");
    cli.add_option("--listen", o.listen,
                   "listen on TCP instead of a Unix socket: tcp://ADDR:PORT (IPv4 address or name; port 0: any, "
                   "printed at start); implies --service; each job is bound to the secret of its first hello")
        ->excludes(socket_flag);
    knob_flags.add(cli, "--threads", "router-threads");
    knob_flags.add(cli, "--router-cores", "router-cores");
    cli.add_option("--index", o.index, "which router of this node this is (socket name, default cores)")
        ->check(CLI::Range(0u, buddy::knob_range::routers_per_node_max - 1));
    knob_flags.add(cli, "--routers-per-node", "routers-per-node");
    knob_flags.add(cli, "--wait", "wait");
    cli.add_flag("--service", o.service, "keep running when the last job detaches");
    cli.add_option("--idle-exit", o.idle_exit_seconds, "without --service: exit if no job attaches within this many seconds")
        ->check(CLI::PositiveNumber);
    cli.add_flag("--verbose", o.verbose, buddy::router::knob_help(buddy::knobs::find("verbose")));
    try {
        cli.parse(argc, argv);
        buddy::config knobs;
        knob_flags.apply(knobs);
        o.socket = knobs.router_socket;
        o.threads = knobs.router_threads;
        o.routers_per_node = knobs.routers_per_node;
        o.wait = knobs.wait;
        if (!knobs.router_cores.empty()) o.cores = buddy::router::parse_cpu_list(knobs.router_cores);
        if (o.index >= o.routers_per_node)
            throw CLI::ValidationError("--index", "must be below --routers-per-node");
        // The form now; whether the address resolves and is free, at the listen.
        if (!o.listen.empty()) (void)buddy::control::parse_tcp_address(o.listen, true);
    } catch (const CLI::ParseError& e) {
        return buddy::router::refuse_command_line(cli, "buddy-router", e);
    } catch (const buddy::config_error& e) {
        return buddy::router::refuse_command_line("buddy-router", e);
    } catch (const buddy::control::control_error& e) {
        std::fprintf(stderr, "buddy-router: fatal: --listen: %s\n", e.what());
        return 2;
    }
    // Which file runs matters when several builds or installs coexist: say it
    // first, so a log shows which buddy-router a rank or buddyrun started.
    if (o.verbose) std::fprintf(stderr, "buddy-router: running %s\n", buddy::launch::running_executable().c_str());
    return buddy::router::run_router(o);
}
