// One router thread: a forwarder on its own core, and the commands the
// control thread queues for it.
//
// The control thread changes what a router thread serves (jobs, ranks) only
// through call(), whose function the router thread runs between two passes,
// so the per-record path takes no locks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "buddy/ring/idle_backoff.hpp"
#include "buddy/router/forwarder.hpp"
#include "buddy/router/thread_counters.hpp"

namespace buddy::router {

class router_thread {
public:
    /// How long call() waits for the thread to run a command by default.  A
    /// pass takes microseconds and the slowest command (a job's endpoints and
    /// memory registrations) well under a second: a thread that takes this
    /// long is stuck inside a pass.
    static constexpr std::chrono::seconds default_call_limit{60};

    /// Starts the thread, pinned to `cpu` (-1: not pinned), waiting by `mode`
    /// when idle; call() waits at most `call_limit` for it.
    router_thread(std::uint32_t index, const std::string& name, int cpu, ring::wait_mode mode,
                  std::chrono::milliseconds call_limit = default_call_limit);
    /// Stops and joins it.
    ~router_thread();

    router_thread(const router_thread&) = delete;
    router_thread& operator=(const router_thread&) = delete;

    forwarder& fwd() { return fwd_; }

    /// How the thread waits when idle from its next idle pass on (auto: the
    /// control thread changes it as ranks come and go).
    void set_wait(ring::wait_mode mode) noexcept { wait_.store(mode, std::memory_order_relaxed); }
    ring::wait_mode wait() const noexcept { return wait_.load(std::memory_order_relaxed); }

    /// This thread's hardware counters (read by the control thread).
    const thread_counters& counters() const noexcept { return counters_; }

    /// Runs `fn` on the router thread between two passes and waits for it,
    /// at most the call limit: past it the router exits with status 1,
    /// naming the thread.  It cannot go on without the command's answer, and
    /// cannot drop it either (the queued command refers to the caller's
    /// frame); a router that has gone is what its ranks' watchdogs detect.
    void call(std::function<void(forwarder&)> fn);

private:
    void run();

    forwarder fwd_;
    thread_counters counters_;
    std::promise<void> counting_;  ///< set once the thread counts itself (before its first pass)
    int cpu_;
    std::string name_;
    std::chrono::milliseconds call_limit_;
    std::mutex mu_;
    std::vector<std::packaged_task<void()>> queue_;
    std::atomic<bool> pending_{false};
    std::atomic<bool> stop_{false};
    // Relaxed both ways: a hint read once per idle pass; a pass or two with
    // the previous policy is harmless, and nothing else is read through it.
    std::atomic<ring::wait_mode> wait_;
    std::thread thread_;  // last: starts after everything above exists
};

}  // namespace buddy::router
