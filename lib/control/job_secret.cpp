#include "buddy/control/job_secret.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "buddy/control/channel.hpp"

namespace buddy::control {

namespace {
// OR of every byte: folded over all of them, never stopping early.  The empty
// asm makes the compiler treat the running value as unknown, so it cannot
// turn the loop into one that returns at the first non-zero byte.
std::uint8_t fold_or(secret_view a, secret_view b, bool compare) noexcept {
    std::uint8_t acc = 0;
    for (std::size_t i = 0; i < secret_bytes; ++i) {
        acc = static_cast<std::uint8_t>(acc | (compare ? (a[i] ^ b[i]) : a[i]));
        asm volatile("" : "+r"(acc));
    }
    return acc;
}
}  // namespace

void draw_secret(std::span<std::uint8_t, secret_bytes> out) {
    do {
        std::size_t got = 0;
        while (got < out.size()) {
            // 32 bytes never block once the pool is initialised, and never
            // come back short (getrandom guarantees up to 256 bytes).
            const ssize_t n = ::getrandom(out.data() + got, out.size() - got, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw control_error(std::string("cannot draw the job's secret: getrandom: ") + std::strerror(errno));
            }
            got += static_cast<std::size_t>(n);
        }
    } while (secret_missing(out));  // all zeros means "none": draw again (probability 2^-256)
}

bool secrets_equal(secret_view a, secret_view b) noexcept { return fold_or(a, b, true) == 0; }

bool secret_missing(secret_view s) noexcept { return fold_or(s, s, false) == 0; }

}  // namespace buddy::control
