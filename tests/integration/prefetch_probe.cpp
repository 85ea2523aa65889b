// The run loops of handlers with a prefetch step, compiled as the apps are, for
// test_prefetch_codegen.sh to look for the prefetch instruction in each.  The
// steps have the shape users write (check an index, then __builtin_prefetch);
// each wrapper below is one handler's run loop under a name a disassembly can
// find.  Not meant to be run.
#include <buddy/comm.hpp>

#include <cstdint>

struct lookup_table {
    const std::int64_t* entries = nullptr;
    std::uint64_t size = 0;
};
/// External, so the compiler cannot take it for the null it starts as.
extern lookup_table* g_probe_table;
lookup_table* g_probe_table = nullptr;

namespace {

inline void prefetch_entry(std::uint64_t index) {
    if (index < g_probe_table->size) __builtin_prefetch(&g_probe_table->entries[index]);
}

constexpr auto one_word = buddy::with_prefetch([](buddy::comm&, std::uint64_t) {},
                                               [](std::uint64_t packed) { prefetch_entry(packed & 0xFFFFF); });
constexpr auto two_words = buddy::with_prefetch([](buddy::comm&, std::uint64_t, std::uint64_t) {},
                                                [](std::uint64_t, std::uint64_t index) { prefetch_entry(index); });
constexpr auto narrow = buddy::with_prefetch([](buddy::comm&, std::uint32_t, std::uint16_t) {},
                                             [](std::uint32_t index, std::uint16_t) { prefetch_entry(index); });

template <auto Handler, typename... Sent>
using run_of = buddy::detail::lambda_handler<std::remove_cvref_t<decltype(Handler)>, Sent...>;

}  // namespace

extern "C" {
[[gnu::used, gnu::noinline]] const std::byte* probe_run_one_word(buddy::comm& c, const std::byte* at,
                                                                 const std::byte* end) {
    return run_of<one_word, std::uint64_t>::run(c, at, end);
}
[[gnu::used, gnu::noinline]] const std::byte* probe_run_two_words(buddy::comm& c, const std::byte* at,
                                                                  const std::byte* end) {
    return run_of<two_words, std::uint64_t, std::uint64_t>::run(c, at, end);
}
[[gnu::used, gnu::noinline]] const std::byte* probe_run_narrow(buddy::comm& c, const std::byte* at,
                                                               const std::byte* end) {
    return run_of<narrow, std::uint32_t, std::uint16_t>::run(c, at, end);
}
}

int main() { return 0; }
