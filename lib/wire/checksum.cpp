#include "buddy/wire/checksum.hpp"

#include <array>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace buddy::wire {

namespace {

// The reflected Castagnoli polynomial.
constexpr std::uint32_t polynomial = 0x82F63B78u;

// Slicing by 8: table k holds the CRC of byte b followed by k zero bytes, so
// eight bytes are folded in with eight lookups and no bit loop.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ polynomial : c >> 1;
        t[0][b] = c;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    return t;
}
constexpr auto tables = make_tables();

// All implementations work on the raw register value (no initial or final
// inversion); crc32c() applies both once.
std::uint32_t raw_portable(const unsigned char* p, std::size_t n, std::uint32_t c) noexcept {
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);  // little-endian host (record.hpp asserts it)
        w ^= c;
        c = tables[7][w & 0xFF] ^ tables[6][(w >> 8) & 0xFF] ^ tables[5][(w >> 16) & 0xFF] ^
            tables[4][(w >> 24) & 0xFF] ^ tables[3][(w >> 32) & 0xFF] ^ tables[2][(w >> 40) & 0xFF] ^
            tables[1][(w >> 48) & 0xFF] ^ tables[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xFF];
    return c;
}

// Three streams.  The crc instruction takes 3 cycles but a new one can start
// every cycle, so one stream runs at a third of the speed the core allows.
// Above 3 * stripe bytes, each round splits the next 3 * stripe bytes into
// three stripes whose CRCs run interleaved (independent dependency chains),
// then joins them: CRC is linear, so raw(c, A B) = shift(raw(c, A), |B|) xor
// raw(0, B), where shift(x, n) is the register after n zero bytes, a linear
// map on 32 bits, applied with four table lookups (shift_tables below).
constexpr std::size_t stripe = 1024;

struct shift_table {
    std::uint32_t t[4][256];
    // The map of x -> register after `zeros` zero bytes: built from its value
    // on the 32 unit vectors (linearity), so building it costs 32 short CRCs.
    explicit shift_table(std::size_t zeros) {
        static const unsigned char none[2 * stripe] = {};
        std::uint32_t basis[32];
        for (int bit = 0; bit < 32; ++bit) basis[bit] = raw_portable(none, zeros, std::uint32_t{1} << bit);
        for (int k = 0; k < 4; ++k)
            for (std::uint32_t b = 0; b < 256; ++b) {
                std::uint32_t v = 0;
                for (int i = 0; i < 8; ++i)
                    if (b & (1u << i)) v ^= basis[8 * k + i];
                t[k][b] = v;
            }
    }
    std::uint32_t operator()(std::uint32_t x) const noexcept {
        return t[0][x & 0xFF] ^ t[1][(x >> 8) & 0xFF] ^ t[2][(x >> 16) & 0xFF] ^ t[3][x >> 24];
    }
};

const shift_table& shift_one() {
    static const shift_table t(stripe);
    return t;
}
const shift_table& shift_two() {
    static const shift_table t(2 * stripe);
    return t;
}

// The loop, for a `step(register, u64 word)` and `byte(register, u8)` that
// are each architecture's instruction.  A macro, not a template over
// lambdas: GCC will not inline a callee compiled for the crc instructions
// into a template compiled without them, and a call per word would cost more
// than the instruction.
#define BUDDY_CRC32C_THREE_STREAMS(step, byte)                          \
    if (n >= 3 * stripe) {                                              \
        const shift_table& one = shift_one();                           \
        const shift_table& two = shift_two();                           \
        while (n >= 3 * stripe) {                                       \
            std::uint32_t a = c, b = 0, d = 0;                          \
            for (std::size_t i = 0; i < stripe; i += 8) {               \
                std::uint64_t wa, wb, wd;                               \
                std::memcpy(&wa, p + i, 8);                             \
                std::memcpy(&wb, p + stripe + i, 8);                    \
                std::memcpy(&wd, p + 2 * stripe + i, 8);                \
                a = step(a, wa);                                        \
                b = step(b, wb);                                        \
                d = step(d, wd);                                        \
            }                                                           \
            c = two(a) ^ one(b) ^ d;                                    \
            p += 3 * stripe;                                            \
            n -= 3 * stripe;                                            \
        }                                                               \
    }                                                                   \
    while (n >= 8) {                                                    \
        std::uint64_t w;                                                \
        std::memcpy(&w, p, 8);                                          \
        c = step(c, w);                                                 \
        p += 8;                                                         \
        n -= 8;                                                         \
    }                                                                   \
    while (n-- > 0) c = byte(c, *p++);                                  \
    return c

#if defined(__x86_64__)
#define BUDDY_CRC_STEP(r, w) static_cast<std::uint32_t>(_mm_crc32_u64((r), (w)))
#define BUDDY_CRC_BYTE(r, b) _mm_crc32_u8((r), (b))
__attribute__((target("sse4.2"))) std::uint32_t raw_hardware(const unsigned char* p, std::size_t n,
                                                            std::uint32_t c) noexcept {
    BUDDY_CRC32C_THREE_STREAMS(BUDDY_CRC_STEP, BUDDY_CRC_BYTE);
}
bool hardware_available() noexcept { return __builtin_cpu_supports("sse4.2"); }
constexpr const char* hardware_name = "SSE4.2 crc32, 3 streams";
#elif defined(__aarch64__)
#define BUDDY_CRC_STEP(r, w) __crc32cd((r), (w))
#define BUDDY_CRC_BYTE(r, b) __crc32cb((r), (b))
__attribute__((target("+crc"))) std::uint32_t raw_hardware(const unsigned char* p, std::size_t n,
                                                          std::uint32_t c) noexcept {
    BUDDY_CRC32C_THREE_STREAMS(BUDDY_CRC_STEP, BUDDY_CRC_BYTE);
}
bool hardware_available() noexcept { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
constexpr const char* hardware_name = "ARMv8 crc32c, 3 streams";
#else
std::uint32_t raw_hardware(const unsigned char* p, std::size_t n, std::uint32_t c) noexcept {
    return raw_portable(p, n, c);
}
bool hardware_available() noexcept { return false; }
constexpr const char* hardware_name = "portable";
#endif

using raw_fn = std::uint32_t (*)(const unsigned char*, std::size_t, std::uint32_t) noexcept;

// Chosen once; a function-local static costs one well-predicted check per call
// (per batch or chunk, never per record).
raw_fn chosen() noexcept {
    static const raw_fn f = hardware_available() ? &raw_hardware : &raw_portable;
    return f;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t bytes, std::uint32_t crc) noexcept {
    return ~chosen()(static_cast<const unsigned char*>(data), bytes, ~crc);
}

std::uint32_t crc32c_portable(const void* data, std::size_t bytes, std::uint32_t crc) noexcept {
    return ~raw_portable(static_cast<const unsigned char*>(data), bytes, ~crc);
}

const char* crc32c_implementation() noexcept { return hardware_available() ? hardware_name : "portable"; }

}  // namespace buddy::wire
