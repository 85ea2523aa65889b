// Command-line flags of buddy-router and buddyrun that set knobs: their help
// text, default and accepted form come from the knob table (lib/config), and
// their values are parsed and validated by it, so both programs refuse exactly
// what a rank would refuse, with the same message.
#pragma once

#include <CLI/CLI.hpp>

#include <deque>
#include <string>
#include <string_view>

#include "buddy/config.hpp"
#include "buddy/config/knobs.hpp"

namespace buddy::router {

class knob_flags {
public:
    /// Adds `flag` (e.g. "--threads") for the knob named `knob` (e.g. "router-threads").
    CLI::Option* add(CLI::App& cli, const std::string& flag, std::string_view knob);
    /// Sets, in `c`, each knob whose flag was given, then validates those knobs;
    /// throws config_error naming the flag.
    void apply(config& c) const;
    /// Each flag given, with its knob and the text as given (buddyrun forwards them).
    struct given {
        const knobs::knob* k;
        std::string flag;
        std::string text;
        CLI::Option* option;
    };
    const std::deque<given>& all() const noexcept { return flags_; }

private:
    std::deque<given> flags_;  // a deque: CLI11 writes into `text` through a pointer kept from add()
};

/// The help line of a knob's flag: description, accepted form, the ranks' variable.
std::string knob_help(const knobs::knob& k);

/// Reports a bad command line as "<program>: fatal: <why>" and returns the exit
/// status (2); --help and --version keep CLI11's output and status 0.
int refuse_command_line(const CLI::App& cli, const char* program, const CLI::ParseError& e);
int refuse_command_line(const char* program, const config_error& e);

}  // namespace buddy::router
