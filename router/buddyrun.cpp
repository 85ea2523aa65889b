// buddyrun: runs an application under mpirun with a buddy placement.
//
//   buddyrun -n N [--placement inproc|host|dpu [--dpu-map FILE]] [--routers-per-node R]
//            [--router-threads T] [--granularity SIZE] [--depth D]
//            [--report FILE] [--hosts LIST | --hostfile FILE] [--router-cores LIST] [--verbose]
//            [--tune [--tune-granularity LIST] [--tune-depth LIST] [--tune-reps N] [--tune-budget S]]
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

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "buddy/config.hpp"
#include "buddy/control/dpu_map.hpp"
#include "buddy/control/node_paths.hpp"
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

std::string shell_quoted(const std::string& w) {
    if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                          std::string::npos)
        return w;
    std::string out = "'";
    for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// buddy-tune next to this program (installed: both in bindir), in the build
// tree (router/buddyrun, perf/buddy-tune), or on PATH.
std::string find_tuner(const char* argv0) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string(argv0);
    dir = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
    for (const std::string& c : {dir + "/buddy-tune", dir + "/../perf/buddy-tune"})
        if (access(c.c_str(), X_OK) == 0) return c;
    return "buddy-tune";
}

struct tune_options {
    std::string granularity, depth, reps, budget;
};

// --tune: runs buddy-tune on the job's own application (its output is the
// evidence), then says how to reuse the choice with buddyrun.
int tune_job(const char* argv0, int ranks, const std::string& placement, const std::vector<std::string>& given,
             const tune_options& o, const std::vector<std::string>& app) {
    std::vector<std::string> cmd = {find_tuner(argv0), "--ranks", std::to_string(ranks), "--placement", placement};
    if (!o.granularity.empty()) cmd.insert(cmd.end(), {"--granularity", o.granularity});
    if (!o.depth.empty()) cmd.insert(cmd.end(), {"--depth", o.depth});
    if (!o.reps.empty()) cmd.insert(cmd.end(), {"--reps", o.reps});
    if (!o.budget.empty()) cmd.insert(cmd.end(), {"--budget", o.budget});
    cmd.push_back("--");
    cmd.insert(cmd.end(), app.begin(), app.end());
    std::string line;
    for (const std::string& w : cmd) line += (line.empty() ? "" : " ") + shell_quoted(w);
    std::cerr << "buddyrun: --tune: " << line << std::endl;
    FILE* p = popen(line.c_str(), "r");
    if (!p) refuse("cannot run " + cmd[0]);
    std::string best_g, best_d;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) {
        std::cout << buf << std::flush;
        const std::string l(buf);
        const std::string head = "best: granularity ";
        if (l.rfind(head, 0) == 0) {
            const std::size_t comma = l.find(", depth ");
            if (comma != std::string::npos) {
                best_g = l.substr(head.size(), comma - head.size());
                const std::size_t d0 = comma + 8;
                best_d = l.substr(d0, l.find_first_not_of("0123456789", d0) - d0);
            }
        }
    }
    const int status = pclose(p);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (rc != 0 || best_g.empty() || best_d.empty()) {
        std::cerr << "buddyrun: --tune: no choice (buddy-tune exit status " << rc << ")\n";
        return rc != 0 ? rc : 1;
    }
    std::cout << "with buddyrun:\n  buddyrun -n " << ranks << " --placement " << placement;
    for (const std::string& w : given) std::cout << ' ' << shell_quoted(w);
    std::cout << " --granularity " << best_g << " --depth " << best_d;
    for (const std::string& w : app) std::cout << ' ' << shell_quoted(w);
    std::cout << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"buddyrun: run a buddy application under mpirun with a placement"};
    long long ranks = -1;
    std::string hosts, hostfile, mpirun_args;
    bool verbose = false, dry_run = false;
    buddy::router::knob_flags knob_flags;
    cli.add_option("-n,--np", ranks, "number of ranks")->required();
    // Every knob is a flag --NAME; its value travels to the ranks as BUDDY_NAME.
    for (const buddy::knobs::knob& k : buddy::knobs::table())
        if (k.name != "verbose") knob_flags.add(cli, "--" + std::string(k.name), k.name);
    cli.add_option("--hosts", hosts, "hosts for mpirun --host (e.g. node1:4,node2:4); ranks go host by host");
    cli.add_option("--hostfile", hostfile, "an OpenMPI hostfile for mpirun --hostfile (lines 'node slots=N', # comments)")
        ->excludes("--hosts");
    cli.add_option("--mpirun-args", mpirun_args, "extra mpirun options, one string");
    cli.add_flag("--verbose", verbose,
                 buddy::router::knob_help(buddy::knobs::find("verbose")) + "; also prints the mpirun command");
    cli.add_flag("--dry-run", dry_run, "print the mpirun command and exit");
    bool tune = false;
    std::string tune_granularity, tune_depth, tune_reps, tune_budget;
    cli.add_flag("--tune", tune,
                 "probe the application itself (buddy-tune) over granularity x depth and print the best choice, "
                 "its evidence and the line to reuse it; the application must print a JSON result line");
    cli.add_option("--tune-granularity", tune_granularity, "--tune: granularities to probe (default 4K,16K,64K,256K)");
    cli.add_option("--tune-depth", tune_depth, "--tune: depths to probe (default 2,4,8)");
    cli.add_option("--tune-reps", tune_reps, "--tune: runs per point (default 3)");
    cli.add_option("--tune-budget", tune_budget, "--tune: seconds for the whole search (default 300)");
    cli.prefix_command();  // APP [ARGS...] (after an optional --) are not ours
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return buddy::router::refuse_command_line(cli, "buddyrun", e);
    }
    std::vector<std::string> app = cli.remaining();
    const bool after_dashes = !app.empty() && app.front() == "--";  // what follows is the application, whatever it is
    if (after_dashes) app.erase(app.begin());
    if (app.empty()) refuse("no application given: buddyrun -n N [options] [--] APP [ARGS...]");
    if (!after_dashes) {
        if (!app.front().empty() && app.front()[0] == '-') refuse("unknown option '" + app.front() + "' (see --help)");
        // "--node-rings off": CLI11 took the flag alone and left "off" as the application.
        const int first = argc - static_cast<int>(app.size());
        const std::string before = first > 1 ? argv[first - 1] : "";
        if (buddy::knobs::boolean_word(app.front()) && before.rfind("--", 0) == 0 &&
            before.find('=') == std::string::npos) {
            for (const buddy::knobs::knob& k : buddy::knobs::table())
                if (k.kind == buddy::knobs::form::boolean && before == "--" + std::string(k.name))
                    refuse("'" + app.front() + "' after " + before + " is not an application: a boolean flag takes its value as " +
                           before + "=" + app.front() + " (or put -- before the application)");
        }
    }

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
    if (tune) {
        std::vector<std::string> given;  // the knob flags as given, for the reuse line
        for (const auto& g : knob_flags.all()) {
            if (g.option->count() == 0 || g.k->name == "granularity" || g.k->name == "depth") continue;
            setenv(buddy::knobs::env_of(*g.k).c_str(), g.text.c_str(), 1);  // the probes' ranks inherit them
            if (g.k->kind == buddy::knobs::form::boolean)  // a flag: its value joined to it
                given.push_back("--" + std::string(g.k->name) + "=" + g.text);
            else
                given.insert(given.end(), {"--" + std::string(g.k->name), g.text});
        }
        return tune_job(argv[0], static_cast<int>(ranks), placement, given,
                        tune_options{tune_granularity, tune_depth, tune_reps, tune_budget}, app);
    }
    // Placement dpu: the routers are services on the DPUs, found through the
    // map; a map the ranks would refuse is refused here, before any launch.
    std::string dpu_line;
    if (knobs.where == buddy::placement::dpu) {
        if (knobs.dpu_map.empty())
            refuse("placement dpu needs --dpu-map FILE (lines 'host-name address:port'; docs/dpu.md)");
        try {
            const buddy::control::dpu_map map = buddy::control::read_dpu_map(knobs.dpu_map);
            std::vector<std::string> names;  // the hosts the job runs on
            std::string host_words = hosts;  // "node1:4,node2:4"
            std::replace(host_words.begin(), host_words.end(), ',', ' ');
            for (const std::string& h : split_words(host_words))
                names.push_back(h.substr(0, h.find(':')));
            if (!hostfile.empty()) {
                std::ifstream file(hostfile);
                for (std::string line; std::getline(file, line);)
                    if (const auto w = split_words(line.substr(0, line.find('#'))); !w.empty()) names.push_back(w[0]);
            }
            if (hosts.empty() && hostfile.empty()) names.push_back(buddy::control::this_host());
            for (const std::string& h : names) (void)map.router_of(h);
            dpu_line = "placement dpu: routers from the dpu map " + knobs.dpu_map + " (" +
                       std::to_string(map.entries.size()) + " hosts)";
        } catch (const buddy::control::control_error& e) {
            refuse(e.what());
        }
    }
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
    } else if (!dpu_line.empty()) {
        placement_line = dpu_line;
    } else {
        placement_line = "placement " + placement + ": no routers";
    }
    if (!bound && per_node > m.cores.size()) cmd.insert(cmd.end(), {"--oversubscribe", "--bind-to", "none"});
    else if (!bound && placement == "host") cmd.insert(cmd.end(), {"--bind-to", "none"});
    if (per_node > m.cores.size() && bound) cmd.push_back("--oversubscribe");
    if (verbose) set_env("BUDDY_VERBOSE", "1");
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
