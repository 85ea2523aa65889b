// buddyrun: runs an application under mpirun with a buddy placement.
//
//   buddyrun -n N [--placement inproc|host|dpu] [--routers-per-node R]
//            [--router-threads T] [--granularity SIZE] [--depth D]
//            [--report FILE] [--hosts LIST] [--router-cores LIST] [--verbose]
//            [--mpirun-args "..."] [--] APP [ARGS...]
//
// Knobs travel to the ranks as BUDDY_* variables (mpirun -x).  With
// placement host the ranks start the routers (the first rank of each router
// on each node), and buddyrun binds ranks and routers to disjoint cores:
// routers near the NIC (hwloc), ranks on the rest.  The exit status is
// mpirun's, which is the application's.
#include <CLI/CLI.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "buddy/config.hpp"
#include "buddy/launch/router_binary.hpp"
#include "buddy/router/placement.hpp"

namespace {

[[noreturn]] void refuse(const std::string& why) {
    std::cerr << "buddyrun: " << why << "\n";
    std::exit(2);
}

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

std::string format_size(std::size_t n) {
    if (n % (1024ull * 1024) == 0) return std::to_string(n >> 20) + "M";
    if (n % 1024 == 0) return std::to_string(n >> 10) + "K";
    return std::to_string(n);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"buddyrun: run a buddy application under mpirun with a placement"};
    long long ranks = -1;
    std::string placement = "inproc", granularity, report, hosts, mpirun_args, router_cores;
    unsigned routers_per_node = 1, router_threads = 1, depth = 0;
    bool verbose = false, dry_run = false;
    cli.add_option("-n,--np", ranks, "number of ranks")->required();
    cli.add_option("--placement", placement, "where routing runs: inproc, host or dpu");
    cli.add_option("--routers-per-node", routers_per_node, "buddy-routers per node (host)");
    cli.add_option("--router-threads", router_threads, "threads per router (host)");
    cli.add_option("--granularity", granularity, "batch size, e.g. 4096, 64K, 1M");
    cli.add_option("--depth", depth, "batches in flight per next hop");
    cli.add_option("--report", report, "write the JSON counter report here");
    cli.add_option("--hosts", hosts, "hosts for mpirun --host (e.g. node1:4,node2:4)");
    cli.add_option("--router-cores", router_cores, "cores for the routers on each node (default: near the NIC)");
    cli.add_option("--mpirun-args", mpirun_args, "extra mpirun options, one string");
    cli.add_flag("--verbose", verbose, "print the placement and the mpirun command");
    cli.add_flag("--dry-run", dry_run, "print the mpirun command and exit");
    cli.prefix_command();  // APP [ARGS...] (after an optional --) are not ours
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    std::vector<std::string> app = cli.remaining();
    if (!app.empty() && app.front() == "--") app.erase(app.begin());
    if (app.empty()) refuse("no application given: buddyrun -n N [options] [--] APP [ARGS...]");
    if (!app.front().empty() && app.front()[0] == '-') refuse("unknown option '" + app.front() + "' (see --help)");

    // Validation: the same ranges the ranks enforce, refused here before any launch.
    using kr = buddy::knob_range;
    if (ranks < 1) refuse("-n must be at least 1 (got " + std::to_string(ranks) + ")");
    if (placement != "inproc" && placement != "host" && placement != "dpu")
        refuse("unknown placement '" + placement + "': expected inproc, host or dpu");
    if (routers_per_node < 1 || routers_per_node > 64)
        refuse("--routers-per-node " + std::to_string(routers_per_node) + " is out of range: accepted 1 to 64");
    if (router_threads < kr::router_threads_min || router_threads > kr::router_threads_max)
        refuse("--router-threads " + std::to_string(router_threads) + " is out of range: accepted " +
               std::to_string(kr::router_threads_min) + " to " + std::to_string(kr::router_threads_max));
    std::size_t gran = 0;
    if (!granularity.empty()) {
        try {
            gran = buddy::parse_bytes(granularity, "--granularity");
        } catch (const buddy::config_error& e) {
            refuse(std::string(e.what()).substr(std::string("buddy: ").size()));
        }
        if (gran < kr::granularity_min || gran > kr::granularity_max)
            refuse("--granularity " + granularity + " is out of range: accepted " + format_size(kr::granularity_min) +
                   " to " + format_size(kr::granularity_max));
    }
    if (depth != 0 && (depth < kr::depth_min || depth > kr::depth_max))
        refuse("--depth " + std::to_string(depth) + " is out of range: accepted " + std::to_string(kr::depth_min) +
               " to " + std::to_string(kr::depth_max));
    std::vector<int> forced;
    if (!router_cores.empty()) {
        try {
            forced = buddy::router::parse_cpu_list(router_cores);
        } catch (const std::invalid_argument& e) {
            refuse(std::string("--router-cores: ") + e.what());
        }
    }

    // Nodes: one per entry of --hosts (this one without).
    unsigned nodes = 1;
    if (!hosts.empty()) nodes = static_cast<unsigned>(std::count(hosts.begin(), hosts.end(), ',') + 1);
    const auto per_node = static_cast<unsigned>((ranks + nodes - 1) / nodes);

    const buddy::router::machine m = buddy::router::probe_machine();
    std::vector<std::string> cmd = {"mpirun", "-n", std::to_string(ranks)};
    if (const char* e = std::getenv("BUDDY_MPIRUN"); e && *e) cmd[0] = e;
    if (geteuid() == 0) cmd.push_back("--allow-run-as-root");
    if (!hosts.empty()) cmd.insert(cmd.end(), {"--host", hosts});
    std::vector<std::string> env = {"BUDDY_PLACEMENT=" + placement};
    std::string placement_line;
    bool bound = false;
    if (placement == "host") {
        const unsigned threads_per_node = routers_per_node * router_threads;
        const buddy::router::node_plan plan = buddy::router::plan_node(m, threads_per_node, per_node, forced);
        env.push_back("BUDDY_ROUTER_THREADS=" + std::to_string(router_threads));
        env.push_back("BUDDY_ROUTERS_PER_NODE=" + std::to_string(routers_per_node));
        env.push_back("BUDDY_ROUTER_CORES=" + buddy::router::format_cpu_list(plan.router_cpus));
        // The ranks start the router buddyrun would pick (next to buddyrun
        // first), whatever their own search would find.  None found: a router
        // may already run as a service, so the ranks decide (and say why).
        const char* chosen = std::getenv("BUDDY_ROUTER_BIN");
        if (const std::string bin = buddy::launch::find_router_binary(chosen ? chosen : ""); !bin.empty())
            env.push_back("BUDDY_ROUTER_BIN=" + bin);
        if (plan.disjoint) {
            cmd.insert(cmd.end(), {"--cpu-set", buddy::router::format_cpu_list(plan.rank_cpus), "--bind-to", "core"});
            bound = true;
        }
        placement_line = "routers: " + std::to_string(routers_per_node) + " per node x " +
                         std::to_string(router_threads) + " threads on cores " +
                         buddy::router::format_cpu_list(plan.router_cpus) + "; ranks: " +
                         (plan.disjoint ? "bound to cores " + buddy::router::format_cpu_list(plan.rank_cpus)
                                        : std::string("not bound")) +
                         " (" + plan.why + ")";
    } else {
        placement_line = "placement " + placement + ": no routers";
    }
    if (!bound && per_node > m.cores.size()) cmd.insert(cmd.end(), {"--oversubscribe", "--bind-to", "none"});
    else if (!bound && placement == "host") cmd.insert(cmd.end(), {"--bind-to", "none"});
    if (per_node > m.cores.size() && bound) cmd.push_back("--oversubscribe");
    if (gran != 0) env.push_back("BUDDY_GRANULARITY=" + std::to_string(gran));
    if (depth != 0) env.push_back("BUDDY_DEPTH=" + std::to_string(depth));
    if (!report.empty()) env.push_back("BUDDY_REPORT=" + report);
    if (verbose) env.push_back("BUDDY_VERBOSE=1");
    for (const std::string& e : env) cmd.insert(cmd.end(), {"-x", e});
    for (const std::string& w : split_words(mpirun_args)) cmd.push_back(w);
    cmd.insert(cmd.end(), app.begin(), app.end());

    if (verbose || dry_run) {
        std::cerr << "buddyrun: " << placement_line << "\nbuddyrun:";
        for (const std::string& w : cmd) std::cerr << ' ' << w;
        std::cerr << std::endl;
    }
    if (dry_run) return 0;

    const pid_t child = fork();
    if (child < 0) refuse("fork failed");
    if (child == 0) {
        std::vector<char*> args;
        for (std::string& w : cmd) args.push_back(w.data());
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::perror(("buddyrun: cannot run " + cmd[0]).c_str());
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) refuse("waitpid failed");
    }
    if (!report.empty()) {
        // The placement chosen, next to the counter report.
        std::ofstream out(report + ".placement");
        out << placement_line << "\n";
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}
