// buddy-router as a whole: sets up the control listener, the router threads
// and the job registry, runs the control loop until it is time to go, and
// leaves cleanly.  The parts live in their own files: control_server (the
// loop), jobs (the protocol's state machine), router_thread, core_choice,
// ring_segments, signals.
#include "buddy/router/service.hpp"

#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "buddy/control/node_paths.hpp"
#include "buddy/control/tcp_channel.hpp"
#include "buddy/control/unix_channel.hpp"
#include "buddy/router/control_server.hpp"
#include "buddy/router/core_choice.hpp"
#include "buddy/router/core_pinning.hpp"
#include "buddy/router/jobs.hpp"
#include "buddy/router/log.hpp"
#include "buddy/router/ring_segments.hpp"
#include "buddy/router/router_thread.hpp"
#include "buddy/router/signals.hpp"

namespace buddy::router {

namespace {

using clock = std::chrono::steady_clock;

std::uint64_t random_instance() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(getpid());
}

/// Cores this process may run on.
int cores_usable() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return CPU_COUNT(&set);
}

/// wait=auto: router threads spin while they and the ranks attached here fit
/// the cores; once ranks outnumber the cores left, a spinning router thread
/// would take the core a rank needs to produce what it waits for.
void follow_ranks(const job_registry& jobs, std::vector<std::unique_ptr<router_thread>>& threads, int cores,
                  bool verbose) {
    const auto demand = jobs.ranks_served() + threads.size();
    const ring::wait_mode want =
        demand <= static_cast<std::size_t>(cores) ? ring::wait_mode::spin : ring::wait_mode::yield;
    if (threads.empty() || threads.front()->wait() == want) return;
    for (auto& t : threads) t->set_wait(want);
    if (verbose)
        log("wait: %s", std::string(want == ring::wait_mode::spin ? "spin" : "yield") + " (auto: " +
                            std::to_string(jobs.ranks_served()) + " ranks attached + " +
                            std::to_string(threads.size()) + " threads on " + std::to_string(cores) + " cores)");
}

int serve(const router_options& o) {
    const std::string node = control::this_host();
    const auto uid = static_cast<unsigned>(getuid());
    std::unique_ptr<control::listener> listener;
    try {
        if (!o.listen.empty()) {
            // One transport per router: a router on a DPU has no ranks on its
            // own machine, and each listener has one rule for who may talk.
            listener = std::make_unique<control::tcp_listener>(control::parse_tcp_address(o.listen, true));
            // Always said: with port 0 it is the only way to learn the port.
            log("listening on %s (TCP: each job is bound to its secret)", listener->address());
        } else {
            const std::string socket_path =
                o.socket.empty() ? control::default_socket_path(uid, node, o.index) : o.socket;
            // The default lives in shared /tmp: its directory must be private.
            listener = std::make_unique<control::unix_listener>(socket_path, o.socket.empty());
        }
    } catch (const control::control_error& e) {
        log("fatal: %s", e.what());
        return 3;
    }
    const std::uint64_t instance = random_instance();
    // A TCP router is a long-lived service (on a DPU, started by systemd):
    // no rank would start another one when it leaves.
    const bool service = o.service || !o.listen.empty();

    const core_choice cores = choose_router_cores(o.threads, o.index, o.routers_per_node, o.cores);
    // auto starts as yield (no rank attached: nothing to be quick for) and
    // follows the ranks attached below.
    const ring::wait_mode initial_wait = o.wait == wait_policy::spin ? ring::wait_mode::spin : ring::wait_mode::yield;
    const int usable_cores = cores_usable();  // before any thread is pinned
    std::vector<std::unique_ptr<router_thread>> threads;
    std::vector<int> numa;  // per thread
    for (unsigned t = 0; t < o.threads; ++t) {
        const std::string name = "router " + std::to_string(o.index) + "/" + std::to_string(t) + " on " + node;
        threads.push_back(std::make_unique<router_thread>(t, name, cores.cpus[t], initial_wait));
        numa.push_back(numa_node_of(cores.cpus[t]));
    }
    sweep_orphaned_segments(node, o.verbose);
    if (o.verbose) {
        std::string numa_list;
        for (int n : numa) {
            if (!numa_list.empty()) numa_list += ',';
            numa_list += std::to_string(n);
        }
        std::fprintf(stderr, "buddy-router[%d]: listening on %s, %u threads on cores %s (NUMA %s; %s), instance %s, %s\n",
                     static_cast<int>(getpid()), listener->address().c_str(), o.threads, format_cpu_list(cores.cpus).c_str(),
                     numa_list.c_str(), cores.why.c_str(), hex_id(instance).c_str(),
                     service ? "service" : "exits after its last job");
    }

    job_registry jobs(router_identity{instance, node}, threads, numa, o.verbose);
    control_server server(std::move(listener), jobs);
    const auto start = clock::now();
    auto last_check = start;
    while (stop_signal() == 0) {
        if (!server.serve(100)) break;
        if (o.wait == wait_policy::automatic) follow_ranks(jobs, threads, usable_cores, o.verbose);
        const auto now = clock::now();
        if (now - last_check > std::chrono::milliseconds(250)) {
            last_check = now;
            server.close_dead_ranks();
            jobs.report_thread_failures();
        }
        if (!service && jobs.empty() && server.idle()) {
            if (jobs.had_job()) break;
            if (now - start > std::chrono::duration<double>(o.idle_exit_seconds)) {
                if (o.verbose) log("no job came within %s s: exiting", std::to_string(o.idle_exit_seconds));
                break;
            }
        }
    }
    server.shut_down();
    router_counters all;
    for (auto& t : threads) add_counters(all, t->fwd().counters());
    const std::uint64_t local = all.records_local, remote = all.records_remote,
                        bad = all.bad_batches + all.bad_records;
    const std::uint64_t refused = jobs.refused_secrets();
    if (o.verbose || bad != 0 || refused != 0)
        std::fprintf(stderr,
                     "buddy-router[%d]: exiting%s; records to local ranks %llu, to other routers %llu, bad input %llu "
                     "(batches %llu, records %llu), hellos refused for their secret %llu\n",
                     static_cast<int>(getpid()), stop_signal() ? " on a signal" : "",
                     static_cast<unsigned long long>(local), static_cast<unsigned long long>(remote),
                     static_cast<unsigned long long>(bad), static_cast<unsigned long long>(all.bad_batches),
                     static_cast<unsigned long long>(all.bad_records), static_cast<unsigned long long>(refused));
    return 0;
}

}  // namespace

int run_router(const router_options& o) {
    install_stop_signals();
    try {
        return serve(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "buddy-router[%d]: fatal: %s\n", static_cast<int>(getpid()), e.what());
        return 2;
    }
}

}  // namespace buddy::router
