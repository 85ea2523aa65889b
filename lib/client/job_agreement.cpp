#include "job_agreement.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buddy/config/knobs.hpp"
#include "buddy/detail/handlers.hpp"

namespace buddy::detail {

namespace {
/// FNV-1a, 64 bits: a cheap digest of start-up facts that ranks compare.  It
/// guards against mistakes (a stray variable, a rebuilt binary), not against
/// anyone forging a match.
class fingerprint {
public:
    void add_byte(unsigned char byte) noexcept { h_ = (h_ ^ byte) * 0x100000001b3ull; }
    void add_text(std::string_view text) noexcept {
        for (const char ch : text) add_byte(static_cast<unsigned char>(ch));
    }
    void add_word(std::uint64_t word) noexcept {  // little-endian, whatever the host
        for (int b = 0; b < 8; ++b) add_byte(static_cast<unsigned char>(word >> (8 * b)));
    }
    std::uint64_t value() const noexcept { return h_; }

private:
    std::uint64_t h_ = 0xcbf29ce484222325ull;
};

/// The handler registry: names in registration order, and where each
/// trampoline sits in the code (two builds of one source with a different
/// layout must not pass for one binary: function handlers travel as code
/// offsets).
std::uint64_t registry_fingerprint() noexcept {
    fingerprint f;
    const handler_entry* table = handler_table();
    const std::uintptr_t base = main_code().base;
    for (std::size_t i = 0; i < handler_count(); ++i) {
        f.add_text(table[i].name);
        f.add_byte(0);
        f.add_word(reinterpret_cast<std::uintptr_t>(table[i].call) - base);
    }
    return f.value();
}

/// Every job-wide knob's value as text, in table order, NUL-separated.
std::string job_wide_values(const config& settings) {
    std::string out;
    for (const knobs::knob& k : knobs::table())
        if (k.job_wide) out += k.get(settings) + '\0';
    return out;
}

std::vector<std::string> split_values(const std::string& text) {
    std::vector<std::string> out(1);
    for (const char ch : text) {
        if (ch == '\0') out.emplace_back();
        else out.back() += ch;
    }
    out.pop_back();  // after the last separator
    return out;
}

std::string broadcast_text(std::string text, int root, MPI_Comm world) {
    int size = static_cast<int>(text.size());
    MPI_Bcast(&size, 1, MPI_INT, root, world);
    text.resize(static_cast<std::size_t>(size));
    MPI_Bcast(text.data(), size, MPI_CHAR, root, world);
    return text;
}

/// Collective, called by every rank once they know some knob differs: finds
/// the first rank that differs from rank 0, and which knobs, so that every
/// rank prints the same useful line.
[[noreturn]] void refuse_knob_mismatch(MPI_Comm world, const std::string& mine) {
    int rank = 0, size = 1;
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &size);
    const std::string first = broadcast_text(mine, 0, world);
    int differs = first == mine ? size : rank;
    int culprit = size;
    MPI_Allreduce(&differs, &culprit, 1, MPI_INT, MPI_MIN, world);
    const std::string theirs = broadcast_text(mine, culprit, world);
    const std::vector<std::string> a = split_values(first), b = split_values(theirs);
    std::string which, variables;
    std::size_t i = 0;
    for (const knobs::knob& k : knobs::table()) {
        if (!k.job_wide) continue;
        if (i < a.size() && i < b.size() && a[i] != b[i]) {
            if (!which.empty()) {
                which += ", ";
                variables += ", ";
            }
            which.append(k.name).append(" (rank 0: ").append(a[i]);
            which.append(", rank ").append(std::to_string(culprit)).append(": ").append(b[i]).append(")");
            variables += knobs::env_of(k);
        }
        ++i;
    }
    throw config_error("buddy: the ranks of this job disagree on " + which +
                       "; these knobs must be the same on every rank: set " + variables + " for the whole job");
}
}  // namespace

void check_job_agreement(MPI_Comm world, const config& settings) {
    const std::string knob_text = job_wide_values(settings);
    fingerprint knob_digest;
    knob_digest.add_text(knob_text);
    enum fact { registry, handlers, knobs_in_force, facts };
    std::uint64_t mine[facts];
    mine[registry] = registry_fingerprint();
    mine[handlers] = handler_count();
    mine[knobs_in_force] = knob_digest.value();
    // Each fact and its complement under one MIN: min(~x) is ~max(x), so one
    // reduction gives every rank both ends of every fact, and so the same verdict.
    std::uint64_t sent[2 * facts], low[2 * facts];
    for (int f = 0; f < facts; ++f) {
        sent[2 * f] = mine[f];
        sent[2 * f + 1] = ~mine[f];
    }
    MPI_Allreduce(sent, low, 2 * facts, MPI_UINT64_T, MPI_MIN, world);
    const auto least = [&](fact f) { return low[2 * f]; };
    const auto most = [&](fact f) { return ~low[2 * f + 1]; };
    if (least(registry) != most(registry) || least(handlers) != most(handlers)) {
        throw config_error("buddy: ranks disagree about the registered handlers (" +
                           std::to_string(least(handlers)) + " to " + std::to_string(most(handlers)) +
                           " handlers); every rank of a job must run the same binary");
    }
    if (least(knobs_in_force) != most(knobs_in_force)) refuse_knob_mismatch(world, knob_text);
}

}  // namespace buddy::detail
