// buddyrun: runs an application under mpirun with a buddy placement.
//
//   buddyrun -n N [--placement inproc|host|dpu] [--routers-per-node R]
//            [--router-threads T] [--granularity SIZE] [--depth D]
//            [--report FILE] [--hosts LIST | --hostfile FILE] [--router-cores LIST] [--verbose]
//            [--<knob> VALUE ...] [--mpirun-args "..."] [--] APP [ARGS...]
//
// Every knob of the table (lib/config) is a flag; knobs travel to the ranks as
// BUDDY_* variables (mpirun -x).  With
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
#include "buddy/router/core_pinning.hpp"
#include "buddy/router/knob_flags.hpp"

namespace {

[[noreturn]] void refuse(const std::string& why) {
    std::cerr << "buddyrun: fatal: " << why << "\n";
    std::exit(2);
}

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"buddyrun: run a buddy application under mpirun with a placement"};
    long long ranks = -1;
    std::string hosts, hostfile, mpirun_args;
    bool verbose = false, dry_run = false, checksum = false;
    buddy::router::knob_flags knob_flags;
    cli.add_option("-n,--np", ranks, "number of ranks")->required();
    // Every knob is a flag --NAME; its value travels to the ranks as BUDDY_NAME.
    for (const buddy::knobs::knob& k : buddy::knobs::table())
        if (k.kind != buddy::knobs::form::boolean) knob_flags.add(cli, "--" + std::string(k.name), k.name);
    cli.add_option("--hosts", hosts, "hosts for mpirun --host (e.g. node1:4,node2:4); ranks go host by host");
    cli.add_option("--hostfile", hostfile, "an OpenMPI hostfile for mpirun --hostfile (lines 'node slots=N', # comments)")
        ->excludes("--hosts");
    cli.add_option("--mpirun-args", mpirun_args, "extra mpirun options, one string");
    cli.add_flag("--verbose", verbose,
                 buddy::router::knob_help(buddy::knobs::find("verbose")) + "; also prints the mpirun command");
    cli.add_flag("--checksum", checksum, buddy::router::knob_help(buddy::knobs::find("checksum")));
    cli.add_flag("--dry-run", dry_run, "print the mpirun command and exit");
    cli.prefix_command();  // APP [ARGS...] (after an optional --) are not ours
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return buddy::router::refuse_command_line(cli, "buddyrun", e);
    }
    std::vector<std::string> app = cli.remaining();
    if (!app.empty() && app.front() == "--") app.erase(app.begin());
    if (app.empty()) refuse("no application given: buddyrun -n N [options] [--] APP [ARGS...]");
    if (!app.front().empty() && app.front()[0] == '-') refuse("unknown option '" + app.front() + "' (see --help)");

    // Validation: the knob table's, as the ranks do it, refused here before any launch.
    if (ranks < 1) refuse("-n must be at least 1 (got " + std::to_string(ranks) + ")");
    buddy::config knobs;
    std::vector<int> forced;
    try {
        knob_flags.apply(knobs);
        if (!knobs.router_cores.empty()) forced = buddy::router::parse_cpu_list(knobs.router_cores);
    } catch (const buddy::config_error& e) {
        return buddy::router::refuse_command_line("buddyrun", e);
    }
    const std::string placement(buddy::to_string(knobs.where));
    const unsigned routers_per_node = knobs.routers_per_node, router_threads = knobs.router_threads;
    const std::string& report = knobs.report_path;

    // Nodes: one per entry of --hosts or host line of --hostfile (this one without).
    unsigned nodes = 1;
    if (!hosts.empty()) nodes = static_cast<unsigned>(std::count(hosts.begin(), hosts.end(), ',') + 1);
    if (!hostfile.empty()) {
        std::ifstream file(hostfile);
        if (!file) refuse("cannot read the hostfile " + hostfile);
        nodes = 0;
        for (std::string line; std::getline(file, line);) {
            const std::string entry = line.substr(0, line.find('#'));
            if (entry.find_first_not_of(" \t\r") != std::string::npos) ++nodes;
        }
        if (nodes == 0) refuse("the hostfile " + hostfile + " names no host");
    }
    const auto per_node = static_cast<unsigned>((ranks + nodes - 1) / nodes);

    const buddy::router::machine m = buddy::router::probe_machine();
    std::vector<std::string> cmd = {"mpirun", "-n", std::to_string(ranks)};
    if (const char* e = std::getenv("BUDDY_MPIRUN"); e && *e) cmd[0] = e;
    if (geteuid() == 0) cmd.push_back("--allow-run-as-root");
    if (!hosts.empty()) cmd.insert(cmd.end(), {"--host", hosts});
    if (!hostfile.empty()) cmd.insert(cmd.end(), {"--hostfile", hostfile});
    std::vector<std::string> env;
    auto set_env = [&env](const std::string& name, const std::string& value) {  // the last setting wins
        std::erase_if(env, [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
        env.push_back(name + "=" + value);
    };
    set_env("BUDDY_PLACEMENT", placement);
    bool router_bin_given = false;
    for (const auto& g : knob_flags.all()) {
        if (g.option->count() == 0) continue;
        set_env(buddy::knobs::env_of(*g.k), g.text);  // as the user wrote it; the ranks parse it the same way
        router_bin_given |= g.k->name == "router-bin";
    }
    std::string placement_line;
    bool bound = false;
    if (placement == "host") {
        const unsigned threads_per_node = routers_per_node * router_threads;
        const buddy::router::node_plan plan = buddy::router::plan_node(m, threads_per_node, per_node, forced);
        set_env("BUDDY_ROUTER_THREADS", std::to_string(router_threads));
        set_env("BUDDY_ROUTERS_PER_NODE", std::to_string(routers_per_node));
        set_env("BUDDY_ROUTER_CORES", buddy::router::format_cpu_list(plan.router_cpus));
        // The ranks start the router buddyrun would pick (next to buddyrun
        // first), whatever their own search would find.  None found: a router
        // may already run as a service, so the ranks decide (and say why).
        if (!router_bin_given)
            if (const std::string bin = buddy::launch::find_router_binary(""); !bin.empty())
                set_env("BUDDY_ROUTER_BIN", bin);
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
    if (verbose) set_env("BUDDY_VERBOSE", "1");
    if (checksum) set_env("BUDDY_CHECKSUM", "1");
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
