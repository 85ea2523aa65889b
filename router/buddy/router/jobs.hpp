// The jobs a router serves, and the control protocol's state machine.
//
// Each rank's session goes hello -> attached -> (the first rank of each
// router: table, which starts routing the job) -> detach, or dies on the way.
// A rank that leaves without detaching fails its job: the router threads drop
// its rings, the job's other ranks get job_failed, and the router keeps
// serving every other job.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "buddy/control/channel.hpp"
#include "buddy/router/forwarder.hpp"
#include "buddy/router/job_secrets.hpp"
#include "buddy/router/ring_segments.hpp"
#include "buddy/router/router_thread.hpp"
#include "buddy/router/thread_counters.hpp"

namespace buddy::router {

/// One rank's control session: its channel, how far it got, its rings.
struct rank_session {
    std::unique_ptr<control::channel> channel;
    /// The kernel did not vouch for the peer (TCP): its hello must carry the
    /// job's secret, and its pid is not a process of this machine.
    bool remote = false;
    control::clock::time_point opened = control::clock::now();  ///< a silent connection is closed after a while
    bool hello = false, attached = false, detached = false;
    std::uint64_t job = 0;
    std::uint32_t rank = 0;
    std::uint32_t pid = 0;  ///< the rank's process (from its hello)
    /// Placement dpu (hello_flag_rma): its rings are over RMA, one pair per
    /// router thread, held by the threads (forwarder::offer_rma_rings); no segments.
    bool rma = false;
    rank_segments rings;
};

struct job_entry {
    job_settings s;
    std::map<std::uint32_t, rank_session*> ranks;  ///< the job's ranks served here
    bool active = false;                            ///< its table came: being routed
    std::shared_ptr<job_health> health = std::make_shared<job_health>();
    bool failure_sent = false;
    /// Each router thread's hardware counts when the job started routing:
    /// its report gets the counts from there (thread_counters.hpp).
    std::vector<thread_counters::mark> hw_from;
};

/// What this router says about itself in replies and messages.
struct router_identity {
    std::uint64_t instance = 0;  ///< random: tells routers apart across a job
    std::string node;            ///< host name
};

class job_registry {
public:
    /// `threads` and `thread_numa` (NUMA node of each thread) outlive the registry.
    job_registry(router_identity self, std::vector<std::unique_ptr<router_thread>>& threads,
                 const std::vector<int>& thread_numa, bool verbose);

    /// One message from `s` (already checked by the channel: magic, version, length).
    void handle(rank_session& s, control::received& m);
    /// `s` is going away (channel closed, process gone, router stopping).
    void session_closed(rank_session& s);
    /// Tells the ranks of jobs that router threads found failed (bad data).
    void report_thread_failures();

    bool empty() const noexcept { return jobs_.empty(); }
    bool had_job() const noexcept { return had_job_; }
    /// Hellos refused for a missing or wrong job secret since the start.
    std::uint64_t refused_secrets() const noexcept { return refused_secrets_; }
    /// Ranks of every job attached to this router now.
    std::size_t ranks_served() const noexcept {
        std::size_t n = 0;
        for (const auto& [id, j] : jobs_) n += j.ranks.size();
        return n;
    }

private:
    void on_hello(rank_session& s, control::reader& r);
    void on_attached(rank_session& s, control::reader& r);
    /// Placement dpu: every thread forgets the session's rings over RMA.
    void drop_rma_rings(rank_session& s);
    void on_table(rank_session& s, control::reader& r);
    void on_stats(rank_session& s, control::reader& r);
    void on_detach(rank_session& s);
    void leave(rank_session& s, bool orderly, const std::string& why);
    void notify_failure(job_entry& j, std::uint32_t dead_rank, const std::string& why);
    void reply_error(rank_session& s, control::type t, const std::string& why);
    void send(rank_session& s, std::span<const std::byte> m);
    /// Empty when `h`'s secret may join its job; else the refusal (logged and counted).
    std::string secret_refusal(rank_session& s, const control::hello& h);

    router_identity self_;
    std::vector<std::unique_ptr<router_thread>>& threads_;
    const std::vector<int>& thread_numa_;
    bool verbose_;
    std::map<std::uint64_t, job_entry> jobs_;
    job_secrets secrets_;
    std::uint64_t refused_secrets_ = 0;
    bool had_job_ = false;
};

}  // namespace buddy::router
