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

#if defined(__x86_64__)
// One crc32 instruction per 8 bytes.  Its latency (3 cycles) rather than its
// throughput bounds this single stream (about 8 GB/s at 3 GHz); batches are
// tens of kilobytes, so that is a few microseconds per batch.
__attribute__((target("sse4.2"))) std::uint32_t raw_hardware(const unsigned char* p, std::size_t n,
                                                            std::uint32_t c) noexcept {
    std::uint64_t c64 = c;
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        c64 = _mm_crc32_u64(c64, w);
        p += 8;
        n -= 8;
    }
    c = static_cast<std::uint32_t>(c64);
    while (n-- > 0) c = _mm_crc32_u8(c, *p++);
    return c;
}
bool hardware_available() noexcept { return __builtin_cpu_supports("sse4.2"); }
constexpr const char* hardware_name = "SSE4.2 crc32";
#elif defined(__aarch64__)
__attribute__((target("+crc"))) std::uint32_t raw_hardware(const unsigned char* p, std::size_t n,
                                                          std::uint32_t c) noexcept {
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        c = __crc32cd(c, w);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = __crc32cb(c, *p++);
    return c;
}
bool hardware_available() noexcept { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
constexpr const char* hardware_name = "ARMv8 crc32c";
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
