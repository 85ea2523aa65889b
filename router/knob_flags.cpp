#include "buddy/router/knob_flags.hpp"

#include <cctype>
#include <cstdio>

namespace buddy::router {

std::string knob_help(const knobs::knob& k) {
    // A boolean's flag takes no value, so its accepted words would mislead here.
    const std::string form = k.kind == knobs::form::boolean ? "" : "; " + knobs::accepted(k);
    return std::string(k.description) + form + " (ranks: " + knobs::env_of(k) + ")";
}

CLI::Option* knob_flags::add(CLI::App& cli, const std::string& flag, std::string_view knob) {
    const knobs::knob& k = knobs::find(knob);
    given& g = flags_.emplace_back(given{&k, flag, {}, nullptr});
    if (k.kind == knobs::form::boolean) {
        // Alone it switches the knob on (CLI11 stores "true"); --NAME=off,
        // or any other boolean word, sets it.
        g.option = cli.add_flag(flag, g.text,
                                knob_help(k) + "; default " + knobs::default_text(k) + ", " + flag + "=off turns it off");
        return g.option;
    }
    g.option = cli.add_option(flag, g.text, knob_help(k));
    g.option->default_str(knobs::default_text(k));
    std::string unit(k.unit);
    for (char& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    g.option->type_name(unit);
    return g.option;
}

void knob_flags::apply(config& c) const {
    for (const given& g : flags_)
        if (g.option->count() != 0) knobs::apply_text(c, *g.k, g.text, knob_source::flag, g.flag);
    for (const given& g : flags_) knobs::check(c, *g.k);
}

int refuse_command_line(const CLI::App& cli, const char* program, const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help, --version
    std::fprintf(stderr, "%s: fatal: %s (see --help)\n", program, e.what());
    return 2;
}

int refuse_command_line(const char* program, const config_error& e) {
    std::string_view why = e.what();
    if (why.rfind("buddy: ", 0) == 0) why.remove_prefix(7);
    std::fprintf(stderr, "%s: fatal: %.*s\n", program, static_cast<int>(why.size()), why.data());
    return 2;
}

}  // namespace buddy::router
