#include "buddy/comm.hpp"

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <ostream>
#include <stdexcept>
#include <string>

#include "buddy/report/writers.hpp"
#include "runtime.hpp"

namespace buddy {

namespace {
bool initialise_mpi(int* argc, char*** argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised) return false;
    int provided = 0;
    // FUNNELED: applications may run threads (oneTBB), but only the thread that
    // made the comm calls MPI and buddy.
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    return true;
}

// A bad knob is the user's mistake, not the program's: every rank (each reads
// the same settings) says so and ends cleanly, with no core dump.  A program
// that wants to handle a bad setting itself calls config::validate() first.
[[noreturn]] void refuse_settings(const config_error& e) {
    std::string_view why = e.what();
    if (why.rfind("buddy: ", 0) == 0) why.remove_prefix(7);
    std::fflush(stdout);
    std::fprintf(stderr, "buddy: fatal: %.*s\n", static_cast<int>(why.size()), why.data());
    std::fflush(stderr);
    // _Exit: neither MPI nor the application's static objects are in a state
    // worth tearing down; mpirun ends the other ranks on a non-zero exit.
    std::_Exit(2);
}

// The settings given are the base; BUDDY_* variables that are set override
// them (an operator tunes without recompiling); --buddy-* flags override both.
void settle(config& settings, int* argc, char*** argv) {
    try {
        settings.apply_env();
        if (argc) settings.apply_args(argc, argv);
        settings.validate();
    } catch (const config_error& e) {
        refuse_settings(e);
    }
}

void finalise_if_owned(bool own) {
    if (!own) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}
}  // namespace

comm::comm(int* argc, char*** argv) : comm(argc, argv, config{}) {}

comm::comm(int* argc, char*** argv, config settings) {
    // Before MPI starts: a bad knob then ends the rank before the job does anything.
    settle(settings, argc, argv);
    const bool own = initialise_mpi(argc, argv);
    try {
        start(MPI_COMM_WORLD, std::move(settings), own);
    } catch (const config_error& e) {
        refuse_settings(e);  // a setting this job cannot use (e.g. placement dpu without a DPU router)
    } catch (...) {
        finalise_if_owned(own);
        throw;
    }
}

comm::comm(MPI_Comm world) : comm(world, config{}) {}

comm::comm(MPI_Comm world, config settings) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) throw std::logic_error("buddy::comm(MPI_Comm): MPI is not initialised");
    settle(settings, nullptr, nullptr);
    try {
        start(world, std::move(settings), false);
    } catch (const config_error& e) {
        refuse_settings(e);
    }
}

void comm::start(MPI_Comm world, config settings, bool own_mpi) {
    runtime_ = std::make_unique<detail::runtime>(*this, world, std::move(settings), own_mpi);
    rank_ = runtime_->rank();
    size_ = runtime_->size();
    max_payload_ = runtime_->settings().max_message;
    lanes_ = nullptr;
    runtime_->attach_lanes(lanes_, lane_for_);
}

comm::~comm() {
    if (runtime_) runtime_->finish();
}

void comm::barrier() { runtime_->barrier(); }
void comm::progress() { runtime_->progress(); }

void comm::make_room(std::uint32_t lane_index, std::size_t record_bytes) {
    runtime_->make_room(lane_index, record_bytes);
}

void comm::bad_destination(int dest) const {
    throw std::out_of_range("buddy::comm::async: destination rank " + std::to_string(dest) +
                            " is outside the job (ranks 0 to " + std::to_string(size_ - 1) + ")");
}

void comm::oversized(std::size_t payload) const {
    throw std::length_error("buddy::comm::async: message of " + std::to_string(payload) +
                            " bytes exceeds the maximum message size of " + std::to_string(max_payload_) +
                            " bytes (BUDDY_MAX_MESSAGE / --buddy-max-message)");
}

counters comm::stats() const noexcept { return runtime_->snapshot(); }

std::vector<rank_report> comm::gather_stats() {
    const counters mine = stats();
    // A counters struct is nothing but its uint64 fields (buddy/stats.hpp).
    constexpr int words = static_cast<int>(std::size(rank_counter_fields));
    std::vector<counters> all(static_cast<std::size_t>(size_));
    MPI_Allgather(&mine, words, MPI_UINT64_T, all.data(), words, MPI_UINT64_T, runtime_->mpi());
    // Host names, fixed width for one allgather.
    char host[64] = {};
    runtime_->host().copy(host, sizeof host - 1);
    std::vector<char> hosts(static_cast<std::size_t>(size_) * sizeof host);
    MPI_Allgather(host, sizeof host, MPI_CHAR, hosts.data(), sizeof host, MPI_CHAR, runtime_->mpi());
    std::vector<rank_report> out(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) {
        out[static_cast<std::size_t>(r)].rank = r;
        out[static_cast<std::size_t>(r)].host = std::string(&hosts[static_cast<std::size_t>(r) * sizeof host]);
        out[static_cast<std::size_t>(r)].c = all[static_cast<std::size_t>(r)];
    }
    return out;
}

void comm::print_stats(std::ostream& out) {
    const job_report all = runtime_->gather_report();
    if (rank_ == 0) out << report::format_table(all) << std::flush;
}

const config& comm::settings() const noexcept { return runtime_->settings(); }
MPI_Comm comm::mpi_comm() const noexcept { return runtime_->mpi(); }
const char* comm::placement_name() const noexcept { return to_string(runtime_->settings().where).data(); }

}  // namespace buddy
