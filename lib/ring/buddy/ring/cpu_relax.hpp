// A spin-wait hint for loops that poll shared memory (a ring's index, a flag)
// while nothing moves.  On x86 `pause` stops the core from speculating ahead
// on the polled line (which costs a pipeline flush once it changes) and hands
// the pipeline to the SMT sibling.  On aarch64 `yield` is the architected
// equivalent hint (a no-op on cores without SMT such as BlueField-3's
// Cortex-A78, harmless there).  Elsewhere the loop just spins.
#pragma once

namespace buddy::ring {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield" ::: "memory");
#endif
}

}  // namespace buddy::ring
