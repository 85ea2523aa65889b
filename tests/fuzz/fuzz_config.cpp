// Fuzzes the knob parser (lib/config): the text a user gives in BUDDY_*
// variables and --buddy-* flags.
//
// Input: byte 0 picks what is fuzzed, the rest is text.
//   mode 0: the text, split at '\n', is an argv (after a program name) for
//           config::apply_args
//   mode 1: byte 1 picks a knob, the rest is its value as from the
//           environment (knobs::apply_text, what apply_env does per variable)
//   mode 2: the helpers: bytes_from_text / parse_bytes / parse_cpu_list
//
// Contract checked (abort on violation):
//  * no crash, no UB, and no exception but config_error, whose message is a
//    "buddy: ..." sentence that quotes what it refuses;
//  * apply_args leaves argv null-terminated, drops exactly the --buddy-*
//    arguments before a "--", and keeps every other argument in order;
//  * every knob value accepted round-trips: the text get() gives for it is
//    accepted by apply_text and gives the same text (so describe() and error
//    messages echo what is in force); check() of an accepted value either
//    passes or refuses with a message (machine checks that run programs or
//    make directories are left out);
//  * a byte count read back from format_bytes() is the same number, and
//    parse_cpu_list() yields distinct cores in 0..65535.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "buddy/config.hpp"
#include "buddy/config/knobs.hpp"

namespace kn = buddy::knobs;

namespace {

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "fuzz_config: contract violated: %s\n", what);
    std::abort();
}
#define EXPECT(cond) \
    do {             \
        if (!(cond)) violated(#cond); \
    } while (0)

void refused(const buddy::config_error& e) {
    const std::string_view m = e.what();
    EXPECT(m.rfind("buddy: ", 0) == 0 && m.size() > 10);
}

// Every knob of `c` reads back: its text is accepted again and gives the same text.
void round_trip(const buddy::config& c) {
    for (const kn::knob& k : kn::table()) {
        const std::string text = k.get(c);
        if (text.empty()) continue;  // an unset text knob (empty is refused by design)
        buddy::config again;
        try {
            kn::apply_text(again, k, text, buddy::knob_source::environment, kn::env_of(k));
        } catch (const buddy::config_error&) {
            violated("a value in force is refused when given back as text");
        }
        EXPECT(k.get(again) == text);
        // Checks that stay inside this process (the program and socket checks
        // run a program or make a directory).
        if (k.kind == kn::form::program || k.kind == kn::form::socket) continue;
        try {
            kn::check(c, k);
        } catch (const buddy::config_error& e) {
            refused(e);
        }
    }
    (void)c.describe();
}

void fuzz_args(std::string_view text) {
    std::vector<std::string> words{"prog"};
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t nl = std::min(text.find('\n', at), text.size());
        words.emplace_back(text.substr(at, nl - at));
        for (char& ch : words.back())
            if (ch == '\0') ch = ' ';  // an argv word cannot hold a NUL
        at = nl + 1;
    }
    std::vector<char*> argv;
    for (auto& s : words) argv.push_back(s.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(words.size());
    char** args = argv.data();
    buddy::config c;
    try {
        c.apply_args(&argc, &args);
    } catch (const buddy::config_error& e) {
        refused(e);
        return;
    }
    EXPECT(args[argc] == nullptr && argc >= 1 && std::string_view(args[0]) == "prog");
    // What is left is the words given, in order, less some (the flags and
    // their values) ...
    std::size_t w = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view kept = args[i];
        while (w < words.size() && words[w] != kept) ++w;
        EXPECT(w < words.size());
        ++w;
    }
    // ... and no --buddy-* flag is left before a "--".
    bool after_dashes = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view kept = args[i];
        if (kept == "--") after_dashes = true;
        if (!after_dashes) EXPECT(kept.rfind("--buddy-", 0) != 0);
    }
    round_trip(c);
}

void fuzz_one_knob(std::uint8_t which, std::string_view text) {
    const auto table = kn::table();
    const kn::knob& k = table[which % table.size()];
    if (text.find('\0') != std::string_view::npos) return;  // no variable's value holds a NUL
    buddy::config c;
    try {
        kn::apply_text(c, k, text, buddy::knob_source::environment, kn::env_of(k));
    } catch (const buddy::config_error& e) {
        refused(e);
        EXPECT(std::string_view(e.what()).find(kn::env_of(k)) != std::string_view::npos);
        return;
    }
    EXPECT(!text.empty());
    const kn::origin o = kn::origin_of(c, k);
    // Echoed as given (the "0 shown as 0G"): the user's text, verbatim.
    EXPECT(o.source == buddy::knob_source::environment && o.shown == text);
    round_trip(c);
}

void fuzz_helpers(std::string_view text) {
    std::uint64_t v = 0;
    if (kn::bytes_from_text(text, v)) {
        std::uint64_t back = 0;
        EXPECT(kn::bytes_from_text(kn::format_bytes(v), back) && back == v);
        EXPECT(buddy::parse_bytes(text, "fuzz") == v);
    } else {
        try {
            (void)buddy::parse_bytes(text, "fuzz");
            violated("parse_bytes accepts what bytes_from_text refuses");
        } catch (const buddy::config_error& e) {
            refused(e);
        }
    }
    try {
        const std::vector<int> cpus = kn::parse_cpu_list(text, "fuzz");
        EXPECT(!cpus.empty());
        std::vector<bool> seen(65536);
        for (int cpu : cpus) {
            EXPECT(cpu >= 0 && cpu <= 65535 && !seen[static_cast<std::size_t>(cpu)]);
            seen[static_cast<std::size_t>(cpu)] = true;
        }
    } catch (const buddy::config_error& e) {
        refused(e);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        switch (data[0] % 3) {
            case 0: fuzz_args(text); break;
            case 1: fuzz_one_knob(data[1], text.substr(1)); break;
            default: fuzz_helpers(text); break;
        }
    } catch (const buddy::config_error& e) {
        violated(e.what());  // every refusal above is caught where it is expected
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_config: unexpected exception: %s\n", e.what());
        std::abort();
    }
    return 0;
}
