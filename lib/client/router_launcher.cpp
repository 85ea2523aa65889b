// Starting the buddy-router binary (found by lib/launch) as a detached service.
#include "router_launcher.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "buddy/control/node_paths.hpp"
#include "buddy/control/unix_channel.hpp"
#include "buddy/launch/router_binary.hpp"

namespace buddy::detail {

namespace {

std::string dir_of(const std::string& p) {
    const auto at = p.rfind('/');
    return at == std::string::npos ? "." : p.substr(0, at);
}

}  // namespace

std::string start_router(runtime& rt, const std::string& socket_path, unsigned index, unsigned routers) {
    const std::string bin = launch::find_router_binary(rt.settings().router_bin);
    if (bin.empty())
        rt.fatal("no buddy-router listens on " + socket_path +
                 " and none was found to start (set BUDDY_ROUTER_BIN, put buddy-router next to the "
                 "application or on PATH, or start one: buddy-router --socket " + socket_path + ")");
    const std::string threads = std::to_string(rt.settings().router_threads);
    const std::string index_arg = std::to_string(index);
    const std::string count = std::to_string(routers);
    const std::string& cores = rt.settings().router_cores;
    const std::string log = socket_path + ".log";
    std::vector<std::string> args = {bin, "--socket", socket_path, "--threads", threads, "--index", index_arg,
                                     "--routers-per-node", count};
    if (!cores.empty()) {
        args.push_back("--router-cores");
        args.push_back(cores);
    }
    // The policy this job resolved (auto included): the router's threads share
    // the node's cores with these ranks, so they wait the same way.
    args.push_back("--wait");
    args.push_back(rt.waiting().mode == ring::wait_mode::spin ? "spin" : "yield");
    if (rt.settings().verbose) args.push_back("--verbose");
    // The socket's directory (0700) must exist for the log.
    const std::string dir = dir_of(socket_path);
    ::mkdir(dir.c_str(), 0700);
    // The router would refuse it too, but only in its log: say why here, at once.
    if (std::string why = control::socket_dir_refusal(dir, socket_path == control::default_socket_path(
                                                                           static_cast<unsigned>(getuid()),
                                                                           control::this_host(), index));
        !why.empty())
        rt.fatal("cannot start a buddy-router for " + socket_path + ": " + why);
    const pid_t child = ::fork();
    if (child < 0) rt.fatal(std::string("fork for buddy-router failed: ") + std::strerror(errno));
    if (child == 0) {
        // Detach twice: the router outlives this rank and is nobody's zombie.
        ::setsid();
        if (::fork() != 0) ::_exit(0);
        const int nul = ::open("/dev/null", O_RDONLY);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (nul >= 0) ::dup2(nul, 0);
        if (out >= 0) {
            ::dup2(out, 1);
            ::dup2(out, 2);
        }
        ::closefrom(3);
        cpu_set_t all;  // the rank's binding must not confine the router
        CPU_ZERO(&all);
        for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
        ::sched_setaffinity(0, sizeof all, &all);
        std::vector<char*> argv;
        for (auto& s : args) argv.push_back(s.data());
        argv.push_back(nullptr);
        ::execv(bin.c_str(), argv.data());
        std::fprintf(stderr, "buddy: cannot run %s: %s\n", bin.c_str(), std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return bin;
}

}  // namespace buddy::detail
