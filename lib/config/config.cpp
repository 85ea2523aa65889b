// The public buddy::config's methods, each a walk over the knob table.
#include "buddy/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "buddy/config/knobs.hpp"
#include "buddy/config/words.hpp"

namespace buddy {

std::string_view to_string(placement p) noexcept { return knobs::word_of(p); }
std::string_view to_string(wait_policy w) noexcept { return knobs::word_of(w); }
std::string_view to_string(routing r) noexcept { return knobs::word_of(r); }

std::string_view to_string(knob_source s) noexcept {
    switch (s) {
        case knob_source::default_value: return "default";
        case knob_source::explicit_value: return "explicit";
        case knob_source::environment: return "env";
        case knob_source::flag: return "flag";
    }
    return "unknown";
}

std::size_t parse_bytes(std::string_view text, std::string_view knob_name) {
    std::uint64_t v = 0;
    if (!knobs::bytes_from_text(text, v))
        throw config_error("buddy: invalid " + std::string(knob_name) + " '" + std::string(text) +
                           "': expected a byte count such as 4096, 64K or 1M");
    return static_cast<std::size_t>(v);
}

config config::from_env() {
    config c;
    c.apply_env();
    return c;
}

void config::apply_env() {
    for (const knobs::knob& k : knobs::table()) {
        const std::string var = knobs::env_of(k);
        if (const char* v = std::getenv(var.c_str())) knobs::apply_text(*this, k, v, knob_source::environment, var);
    }
}

void config::apply_args(int* argc, char*** argv) {
    if (!argc || !argv || !*argv) return;
    int out = 1;
    char** args = *argv;
    for (int i = 1; i < *argc; ++i) {
        const std::string_view a = args[i];
        if (a == "--") {  // the rest belongs to the application
            for (; i < *argc; ++i) args[out++] = args[i];
            break;
        }
        if (a.rfind("--buddy-", 0) != 0) {
            args[out++] = args[i];
            continue;
        }
        std::string_view body = a.substr(8);
        std::string_view value;
        bool has_value = false;
        if (const auto eq = body.find('='); eq != std::string_view::npos) {
            value = body.substr(eq + 1);
            body = body.substr(0, eq);
            has_value = true;
        }
        const knobs::knob* found = nullptr;
        for (const knobs::knob& k : knobs::table())
            if (body == k.name) found = &k;
        if (!found) {
            std::string names;
            for (const knobs::knob& k : knobs::table()) names += (names.empty() ? "" : ", ") + knobs::flag_of(k);
            throw config_error("buddy: unknown flag '" + std::string(a) + "': known flags are " + names);
        }
        const std::string flag = knobs::flag_of(*found);
        if (!has_value) {
            if (found->kind == knobs::form::boolean) {
                // A bare boolean flag switches it on, unless the next word is
                // on, off, true, false, yes or no ("--buddy-checksum off", as
                // other knobs take "--buddy-depth 2"); any other word, 0 and 1
                // included, is the application's.  "Off" and the like are
                // refused: taken as the application's, they would leave the
                // knob on against the user's intent.
                const std::string_view next = i + 1 < *argc ? std::string_view(args[i + 1]) : std::string_view();
                if (knobs::boolean_word(next) && next != "0" && next != "1") {
                    value = args[++i];
                } else if (knobs::boolean_word_ignoring_case(next) && next != "0" && next != "1") {
                    throw config_error("buddy: flag " + flag + " followed by '" + std::string(next) +
                                       "': write the value in lower case (" + knobs::accepted(*found) + ")");
                } else {
                    value = "on";
                }
            } else if (i + 1 < *argc) {
                value = args[++i];
            } else {
                throw config_error("buddy: flag " + flag + " needs a value: " + knobs::accepted(*found));
            }
        }
        knobs::apply_text(*this, *found, value, knob_source::flag, flag);
    }
    args[out] = nullptr;
    *argc = out;
}

void config::validate() const {
    for (const knobs::knob& k : knobs::table()) knobs::check(*this, k);
}

std::string config::describe() const {
    std::ostringstream s;
    for (const knobs::knob& k : knobs::table()) {
        const knobs::origin o = knobs::origin_of(*this, k);
        std::string value = k.get(*this);
        if (value.empty()) value = "(" + std::string(k.unset_means) + ")";
        std::string from(to_string(o.source));
        if (o.source == knob_source::environment || o.source == knob_source::flag) from += " " + o.spelled;
        char line[320];
        std::snprintf(line, sizeof line, "%-17s %-18s %-9s %-30s %s, %s\n", std::string(k.name).c_str(),
                      value.c_str(), std::string(k.unit).c_str(), from.c_str(), knobs::env_of(k).c_str(),
                      knobs::flag_of(k).c_str());
        s << line;
    }
    return s.str();
}

}  // namespace buddy
