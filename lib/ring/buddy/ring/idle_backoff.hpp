// What a polling loop does between two polls that moved nothing: the waiting
// policy of ranks and router threads (knob `wait`, docs/perf.md).
//
// spin:  pause-and-poll only.  The lowest latency when every rank and router
//        thread has a core of its own; a waiting party never gives its core
//        away, so nothing it waits for may need that core.
// yield: spin a little (latency), then sched_yield, then short naps.  With
//        more ranks and routers than cores, the party being waited for often
//        needs the very core the waiter holds; a spinning waiter then costs it
//        a whole time slice, and sched_yield alone still burns what the
//        scheduler hands back.
//
// Inline: the loops call it on every idle pass.  Nothing here reads a clock;
// the loops check their own deadlines.
#pragma once

#include <sched.h>
#include <time.h>

#include <cstdint>

#include "buddy/ring/cpu_relax.hpp"

namespace buddy::ring {

enum class wait_mode : std::uint8_t { spin, yield };

/// The yield policy's escalation, in idle passes.
struct backoff_steps {
    unsigned spins;   ///< passes that only pause
    unsigned yields;  ///< passes after those that sched_yield
    long nap_ns;      ///< then each pass sleeps this long
};

/// One idle pass; `idle` counts the passes since the loop last moved (from 1).
inline void idle_step(wait_mode mode, const backoff_steps& steps, unsigned idle) noexcept {
    if (mode == wait_mode::spin || idle < steps.spins) {
        cpu_relax();
        return;
    }
    if (idle < steps.spins + steps.yields) {
        sched_yield();
        return;
    }
    const timespec nap{0, steps.nap_ns};
    nanosleep(&nap, nullptr);
}

}  // namespace buddy::ring
