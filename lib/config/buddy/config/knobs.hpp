// The one table of knobs.  Each entry says a knob's name, unit, form,
// accepted range, description, and how to read and write its member of the
// public buddy::config.  Everything else about knobs derives from it: the
// environment variable (BUDDY_<NAME>) and flag (--buddy-<name>), parsing,
// validation and its messages, describe(), the README table
// (markdown_table(), checked against README.md by the unit test), and the
// flags of buddy-router and buddyrun.
//
// Internal (not installed): MPI-free and free of other buddy libraries, so the
// router, the launcher and the client all use it.
#pragma once

#include <cstdint>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buddy/config.hpp"

namespace buddy::knobs {

/// What text a knob accepts; decides parsing, range checks and machine checks.
enum class form : std::uint8_t {
    choice,    ///< one word of `choices`
    bytes,     ///< a byte count with optional K, M, G suffix, in [min, max]
    count,     ///< a whole number in [min, max]
    seconds,   ///< a positive finite number
    boolean,   ///< 1/0, true/false, yes/no, on/off
    path,      ///< any non-empty text naming a file to write
    socket,    ///< an absolute path whose directory exists or can be made
    cpu_list,  ///< "6,7" or "6-7" of cores that exist on this machine
    program,   ///< an executable buddy-router
    file,      ///< a file to read (checked only where the placement uses it)
};

struct knob {
    std::string_view name;         ///< "max-message": flag --buddy-max-message, variable BUDDY_MAX_MESSAGE
    form kind;
    std::string_view unit;         ///< what the number counts, or what the text is
    std::uint64_t min = 0;         ///< bytes and count: the accepted range
    std::uint64_t max = 0;
    bool power_of_two = false;     ///< bytes: the value must also be a power of two
    std::string_view choices;      ///< choice: the accepted words, ", " separated
    std::string_view unset_means;  ///< text knobs: what an empty member means ("none", "searched")
    std::string_view description;  ///< one line, for describe(), --help and the README
    /// The ranks of a job must agree on it (checked at start, lib/client/job_agreement):
    /// it shapes what one rank sends and another accepts.
    bool job_wide = false;
    /// Parses `text` into the member; throws config_error naming `spelled`.
    void (*set)(config&, std::string_view text, const knob&, std::string_view spelled);
    /// The member's value as text that `set` accepts ("" for an unset text knob).
    std::string (*get)(const config&);
    /// bytes and count: the member's value, for the range check (nullptr otherwise).
    std::uint64_t (*number)(const config&);
};

/// Every knob, in the order describe() and the README list them.
std::span<const knob> table() noexcept;
/// The knob of that name; throws std::out_of_range for a name not in the table.
const knob& find(std::string_view name);

std::string env_of(const knob& k);   ///< "BUDDY_MAX_MESSAGE"
std::string flag_of(const knob& k);  ///< "--buddy-max-message"
/// The default value as describe() shows it ("32K", "(searched)").
std::string default_text(const knob& k);
/// The words a boolean knob takes: true for 1, true, yes, on; false for 0,
/// false, no, off; nullopt for anything else.
std::optional<bool> boolean_word(std::string_view text) noexcept;
/// The same, ignoring case ("Off", "YES").
std::optional<bool> boolean_word_ignoring_case(std::string_view text) noexcept;

/// The accepted form in words, including the range: "a byte count from 64 to 64M, as 4096, 64K or 1M".
std::string accepted(const knob& k);

/// The README's knob table, one row per knob (its header included).
std::string markdown_table();

/// Sets knob `k` of `c` from text the user gave through `spelled` (a variable or
/// flag) and records it in c.given; throws config_error (empty text included).
void apply_text(config& c, const knob& k, std::string_view text, knob_source source, std::string_view spelled);

/// Where the value of `k` in force came from, and the text to echo for it.
struct origin {
    knob_source source;
    std::string spelled;  ///< the variable or flag, or the knob's name for default and explicit values
    std::string shown;    ///< the user's text when it came from them, else the formatted value
};
origin origin_of(const config& c, const knob& k);

/// Validates one knob of `c` (range, form, this machine); throws config_error.
void check(const config& c, const knob& k);

/// Reads digits with an optional K, M or G (powers of 1024); false for anything
/// else or more than 64 bits.
bool bytes_from_text(std::string_view text, std::uint64_t& out);
/// Byte counts as the table writes them: 0, 4096, 64K, 1M.
std::string format_bytes(std::uint64_t n);
/// "0-3,8" -> {0,1,2,3,8}; throws config_error naming `spelled`.
std::vector<int> parse_cpu_list(std::string_view text, std::string_view spelled);

/// Throws config_error: "buddy: invalid <spelled> '<text>' (knob <name>): <problem>".
[[noreturn]] void refuse(const knob& k, std::string_view spelled, std::string_view text, const std::string& problem);

// Checks against this machine (machine_checks.cpp).
/// Refuses a cpu in `cpus` this machine does not have.
void check_cpus_exist(const knob& k, const origin& o, const std::vector<int>& cpus);
/// Refuses a path that is not an executable regular file, and, if `probe`,
/// one that does not answer `--version` as a buddy-router within a few seconds.
void check_router_program(const knob& k, const origin& o, const std::string& path, bool probe);
/// Refuses a relative socket path, or one whose directory cannot be made.
void check_socket_path(const knob& k, const origin& o, const std::string& path);
/// Refuses a path that is not a regular file this process can read.
void check_readable_file(const knob& k, const origin& o, const std::string& path);

}  // namespace buddy::knobs
