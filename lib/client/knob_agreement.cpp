#include "knob_agreement.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "buddy/config/knobs.hpp"

namespace buddy::detail {

namespace {
std::uint64_t fnv1a(const std::string& text) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char ch : text) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
    return h;
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
}  // namespace

void check_job_wide_knobs(MPI_Comm world, const config& settings) {
    const std::string mine = job_wide_values(settings);
    const std::uint64_t h = fnv1a(mine);
    // min(~h) is ~max(h): one reduction gives every rank both ends, and so
    // the same answer.
    const std::uint64_t sent[2] = {h, ~h};
    std::uint64_t low[2];
    MPI_Allreduce(sent, low, 2, MPI_UINT64_T, MPI_MIN, world);
    if (low[0] == ~low[1]) return;
    // Someone differs: find the first rank that differs from rank 0, and
    // which knobs, so every rank prints the same useful line.
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
            const char* sep = which.empty() ? "" : ", ";
            which += sep + std::string(k.name) + " (rank 0: " + a[i] + ", rank " + std::to_string(culprit) + ": " +
                     b[i] + ")";
            variables += sep + knobs::env_of(k);
        }
        ++i;
    }
    throw config_error("buddy: the ranks of this job disagree on " + which +
                       "; these knobs must be the same on every rank: set " + variables + " for the whole job");
}

}  // namespace buddy::detail
