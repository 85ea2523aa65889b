#include "buddy/router/router_thread.hpp"

#include <sched.h>

#include <cstdio>
#include <cstdlib>

#include "buddy/router/core_pinning.hpp"

namespace buddy::router {

router_thread::router_thread(std::uint32_t index, const std::string& name, int cpu, ring::wait_mode mode,
                             std::chrono::milliseconds call_limit)
    : fwd_(index, name), cpu_(cpu), name_(name), call_limit_(call_limit), wait_(mode), thread_([this] { run(); }) {
    // counters() may be read as soon as we return: its events are open by then.
    counting_.get_future().wait();
}

router_thread::~router_thread() {
    // Relaxed: join() below is what orders the thread's last pass before us.
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
}

void router_thread::call(std::function<void(forwarder&)> fn) {
    std::packaged_task<void()> task([&] { fn(fwd_); });
    std::future<void> done = task.get_future();
    {
        std::lock_guard<std::mutex> g(mu_);
        queue_.push_back(std::move(task));
    }
    // The mutex orders the queue itself; this flag only spares the router
    // thread the lock on passes with nothing queued.  Release/acquire is more
    // than that needs, and costs nothing measurable at one load per pass.
    pending_.store(true, std::memory_order_release);
    if (done.wait_for(call_limit_) != std::future_status::ready) {
        std::fprintf(stderr,
                     "buddy-router: fatal: %s did not run a control command within %.1f s: it is stuck inside a "
                     "pass; the router exits so that its ranks see it gone\n",
                     name_.c_str(), std::chrono::duration<double>(call_limit_).count());
        std::fflush(stderr);
        std::_Exit(EXIT_FAILURE);
    }
    done.get();  // rethrows what the command threw
}

void router_thread::run() {
    if (cpu_ >= 0) pin_this_thread(cpu_);
    counters_.start_here();
    counting_.set_value();
    unsigned idle = 0;
    // Idle time: one clock pair per idle stretch (first pass that moved
    // nothing, to the next that moved something), never per pass.
    using clock = std::chrono::steady_clock;
    clock::time_point idle_since{};
    auto close_idle = [&](clock::time_point now) {
        fwd_.add_idle_time(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - idle_since).count()));
    };
    // Relaxed: stopping a pass later is harmless; nothing is read through stop_.
    while (!stop_.load(std::memory_order_relaxed)) {
        if (pending_.load(std::memory_order_acquire)) {  // pairs with call()'s release
            // A task may read the counters (end-of-job stats): the stretch so
            // far counts before it does.
            if (idle > 0) {
                const clock::time_point now = clock::now();
                close_idle(now);
                idle_since = now;
            }
            std::vector<std::packaged_task<void()>> q;
            {
                std::lock_guard<std::mutex> g(mu_);
                q.swap(queue_);
                // Relaxed, under the lock and after the swap: a call() that
                // queues later also stores true later, so no task is missed.
                pending_.store(false, std::memory_order_relaxed);
            }
            for (auto& t : q) t();
        }
        if (fwd_.step()) {
            if (idle > 0) close_idle(clock::now());
            idle = 0;
            continue;
        }
        // Idle: by the policy in force.  Routers spin longer than ranks
        // before they yield (runtime.cpp): a router is what ranks wait for.
        if (idle == 0) idle_since = clock::now();
        static constexpr ring::backoff_steps router_steps{64, 1984, 50'000};
        ring::idle_step(wait(), router_steps, ++idle);
    }
}

}  // namespace buddy::router
