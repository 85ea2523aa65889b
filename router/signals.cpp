#include "buddy/router/signals.hpp"

#include <signal.h>

#include <atomic>

namespace buddy::router {

namespace {

// Written by the handler, read by the control loop.  Relaxed is enough: the
// flag publishes nothing but itself, and the loop only needs to see it
// eventually.  Lock-free, so the handler may touch it.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_stop_signal(int s) { g_stop_signal.store(s, std::memory_order_relaxed); }

}  // namespace

void install_stop_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

int stop_signal() noexcept { return g_stop_signal.load(std::memory_order_relaxed); }

}  // namespace buddy::router
