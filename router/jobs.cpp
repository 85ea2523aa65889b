#include "buddy/router/jobs.hpp"

#include <unistd.h>

#include <iterator>

#include "buddy/control/bodies.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/router/hello_validation.hpp"
#include "buddy/router/log.hpp"

namespace buddy::router {

namespace ctl = control;

job_registry::job_registry(router_identity self, std::vector<std::unique_ptr<router_thread>>& threads,
                           const std::vector<int>& thread_numa, bool verbose)
    : self_(std::move(self)), threads_(threads), thread_numa_(thread_numa), verbose_(verbose) {}

void job_registry::send(rank_session& s, std::span<const std::byte> m) {
    // A deadline already reached: the router never waits on one rank.  A
    // reply that does not go is the rank's loss: it times out naming us.
    (void)s.channel->send(m, ctl::clock::now());
}

void job_registry::reply_error(rank_session& s, ctl::type t, const std::string& why) {
    ctl::writer w(t, 1);
    w.put_text(why);
    send(s, w.done());
}

void job_registry::handle(rank_session& s, ctl::received& m) {
    switch (static_cast<ctl::type>(m.header.type)) {
        case ctl::type::hello: on_hello(s, m.body); break;
        case ctl::type::attached: on_attached(s, m.body); break;
        case ctl::type::table: on_table(s, m.body); break;
        case ctl::type::stats: on_stats(s, m.body); break;
        case ctl::type::detach: on_detach(s); break;
        default: log("dropped a control message of unexpected type %s", std::to_string(m.header.type));
    }
}

std::string job_registry::secret_refusal(rank_session& s, const ctl::hello& h) {
    std::string why;
    switch (secrets_.check(h.job, h.secret, !s.remote)) {
        case job_secrets::verdict::accepted: return {};
        case job_secrets::verdict::missing:
            why = "a hello over TCP must carry its job's secret, and this one carries none";
            break;
        case job_secrets::verdict::wrong:
            why = "job " + hex_id(h.job) + " is bound to another secret: this connection is not one of its ranks";
            break;
    }
    ++refused_secrets_;
    // Logged without the secret: the log may be read by others than the job's owner.
    log("refused a hello for job %s", hex_id(h.job) + " (rank " + std::to_string(h.rank) + ") from " +
                                          s.channel->peer() + ": " + why + " (" + std::to_string(refused_secrets_) +
                                          " refused for their secret so far)");
    return why;
}

void job_registry::on_hello(rank_session& s, ctl::reader& r) {
    ctl::hello h{};
    if (s.hello || !r.get(h)) return reply_error(s, ctl::type::hello_reply, "malformed or repeated hello");
    std::string bad = hello_settings_refusal(h);
    // The secret before anything about the job: a peer that is not one of its
    // ranks learns nothing about it (which ranks are attached, its settings).
    if (bad.empty()) bad = secret_refusal(s, h);
    if (auto it = jobs_.find(h.job); bad.empty() && it != jobs_.end()) bad = hello_job_refusal(h, it->second);
    if (!bad.empty()) return reply_error(s, ctl::type::hello_reply, "buddy-router refuses: " + bad);

    const std::size_t threads = threads_.size();
    const bool rma = (h.flags & ctl::hello_flag_rma) != 0;
    // Placement dpu: the rank cannot map our memory, so each thread makes the
    // rank's rings over RMA (its copy of the outbound ring, its staging copy
    // of the inbound ring) and their sides go in the reply.  Otherwise two
    // shared memory segments, which a remote peer that did not ask for RMA
    // gets too (and cannot map: its rank says so).
    std::vector<ctl::rma_thread_rings> offers;
    try {
        if (rma) {
            s.job = h.job;
            s.rank = h.rank;
            s.rma = true;
            for (auto& t : threads_)
                t->call([&](forwarder& f) { offers.push_back(f.offer_rma_rings(h.job, h.rank, h.ring_bytes)); });
        } else {
            s.rings =
                rank_segments::create(self_.node, h.job, h.rank, h.ring_bytes, threads, thread_numa_[0], h.numa_node);
        }
    } catch (const std::exception& e) {
        drop_rma_rings(s);
        return reply_error(s, ctl::type::hello_reply, std::string("buddy-router cannot create rings: ") + e.what());
    }
    ctl::hello_reply rep{};
    rep.instance = self_.instance;
    rep.pid = static_cast<std::uint32_t>(getpid());
    rep.threads = static_cast<std::uint32_t>(threads);
    if (!ctl::set_name(rep.out_segment, s.rings.out_name()) || !ctl::set_name(rep.in_segment, s.rings.in_name()) ||
        !ctl::set_name(rep.node, self_.node)) {
        s.rings = {};
        drop_rma_rings(s);
        return reply_error(s, ctl::type::hello_reply,
                           "buddy-router cannot name its segments: host name " + self_.node + " is too long");
    }
    secrets_.bind(h.job, h.secret);
    s.hello = true;
    s.job = h.job;
    s.rank = h.rank;
    s.pid = h.pid;
    job_entry& j = jobs_[h.job];
    j.s = job_settings{h.job, h.job_size, h.granularity, h.depth, h.max_message,
                       (h.flags & ctl::hello_flag_checksum) != 0};
    j.ranks[h.rank] = &s;
    had_job_ = true;

    std::vector<std::span<const std::byte>> addresses;
    for (auto& t : threads_) addresses.emplace_back(t->fwd().address());
    send(s, ctl::hello_reply_message(rep, addresses, offers));
    if (verbose_)
        log("job %s: %s attaching", hex_id(h.job),
            "rank " + std::to_string(h.rank) + " (pid " + std::to_string(h.pid) + ", " + s.channel->peer() + ")");
}

void job_registry::drop_rma_rings(rank_session& s) {
    if (!s.rma) return;
    for (auto& t : threads_) t->call([&](forwarder& f) { f.drop_rma_rings(s.job, s.rank); });
    s.rma = false;
}

void job_registry::on_attached(rank_session& s, ctl::reader& r) {
    if (!s.hello || s.attached) return reply_error(s, ctl::type::attached_reply, "attached before hello");
    if (s.rma) {
        // The rank's sides: its worker and its copies (outbound staging,
        // inbound ring), per thread; each thread connects to them.
        std::vector<ctl::rma_thread_rings> theirs;
        if (std::string bad = ctl::read_rma_rings(r, static_cast<std::uint32_t>(threads_.size()), theirs); !bad.empty())
            return reply_error(s, ctl::type::attached_reply, "malformed attached: " + bad);
        const std::size_t depth = 1024;  // RMA operations in flight per rank and thread (about 3 per chunk)
        const std::string name = "rank " + std::to_string(s.rank) + " of job " + hex_id(s.job) + " at " + s.channel->peer();
        transport::carrier how = transport::carrier::messages;
        try {
            for (std::size_t th = 0; th < threads_.size(); ++th)
                threads_[th]->call(
                    [&](forwarder& f) { how = f.connect_rma_rings(s.job, s.rank, theirs[th], name, depth, 30.0); });
        } catch (const std::exception& e) {
            return reply_error(s, ctl::type::attached_reply,
                               std::string("buddy-router cannot reach the rank's rings over RMA: ") + e.what());
        }
        if (verbose_)
            log("job %s: rank %s", hex_id(s.job),
                std::to_string(s.rank) + ": rings over RMA, the router's writes carried by " + transport::to_string(how));
    }
    // Both sides have mapped the rings: the names can go now, so nothing is
    // left behind whoever dies later.
    s.rings.unlink_names();
    s.attached = true;
    send(s, ctl::writer(ctl::type::attached_reply).done());
}

// A rank asks for this router's counters for its job (end-of-job report);
// each thread reads its own, between two passes.
void job_registry::on_stats(rank_session& s, ctl::reader& r) {
    ctl::stats_request q{};
    auto it = jobs_.find(s.job);
    if (!s.attached || !r.get(q) || q.job != s.job || it == jobs_.end() || !it->second.active)
        return reply_error(s, ctl::type::stats_reply, "stats asked before the job runs, or for another job");
    constexpr auto fields = static_cast<std::uint32_t>(std::size(router_counter_fields));
    const job_entry& j = it->second;
    std::vector<ctl::stats_thread> threads(threads_.size());
    for (std::size_t th = 0; th < threads_.size(); ++th) {
        router_counters mine;
        std::vector<link_report> links;
        threads_[th]->call([&](forwarder& f) {
            mine = f.job_counters(q.job);
            links = f.job_links(q.job);
        });
        ctl::stats_thread& out = threads[th];
        for (const auto& f : router_counter_fields) out.counters.push_back(mine.*f.member);
        for (const link_report& l : links) out.links.push_back({l.to, l.batches, l.bytes});
        auto hw = threads_[th]->counters().since(th < j.hw_from.size() ? j.hw_from[th] : nullptr);
        out.hw_available = hw.available;
        out.hw_reason = std::move(hw.reason);
        out.hw_counters = std::move(hw.json);
    }
    send(s, ctl::stats_reply_message(fields, threads));
}

void job_registry::on_table(rank_session& s, ctl::reader& r) {
    auto it = jobs_.find(s.job);
    if (!s.attached || it == jobs_.end()) return reply_error(s, ctl::type::table_reply, "table before attach");
    job_entry& j = it->second;
    ctl::table_body t;
    if (std::string bad = ctl::read_table(r, t); !bad.empty()) return reply_error(s, ctl::type::table_reply, bad);
    if (t.job != s.job || t.rank_to_router.size() != j.s.size)
        return reply_error(s, ctl::type::table_reply, "malformed job table (another job, or another size)");
    if (t.route > static_cast<std::uint32_t>(routing::mesh2d))
        return reply_error(s, ctl::type::table_reply,
                           "job table names route " + std::to_string(t.route) + ", which this router does not know");
    const auto scheme = engine::scheme_of(static_cast<routing>(t.route));
    if (j.active) return reply_error(s, ctl::type::table_reply, "the job's table was already given");
    auto table = std::make_shared<job_table>();
    table->rank_to_router = std::move(t.rank_to_router);
    bool found_self = false;
    table->routers.resize(t.routers.size());
    for (std::uint32_t i = 0; i < t.routers.size(); ++i) {
        auto& e = table->routers[i];
        e.instance = t.routers[i].instance;
        e.addresses = std::move(t.routers[i].addresses);
        e.name = "buddy-router " + std::to_string(i) + " (instance " + hex_id(e.instance) + ")";
        if (e.instance == self_.instance) {
            table->self = i;
            found_self = true;
        }
    }
    if (!found_self) return reply_error(s, ctl::type::table_reply, "the job table does not list this router");
    for (std::uint32_t rank = 0; rank < j.s.size; ++rank) {
        const bool mine = table->rank_to_router[rank] == table->self;
        if (mine != (j.ranks.count(rank) != 0))
            return reply_error(s, ctl::type::table_reply,
                               "the job table disagrees with the ranks attached here (rank " + std::to_string(rank) + ")");
    }
    for (std::size_t th = 0; th < threads_.size(); ++th) {
        std::vector<forwarder::rank_rings> rings;
        for (auto& [rank, session] : j.ranks)
            rings.push_back(session->rma ? forwarder::rank_rings{rank, nullptr, nullptr, true}
                                         : forwarder::rank_rings{rank, session->rings.outbound_ring(th),
                                                                 session->rings.inbound_ring(th)});
        threads_[th]->call([&](forwarder& f) { f.add_job(j.s, table, j.health, rings, scheme); });
    }
    j.active = true;
    j.hw_from.clear();
    for (auto& thread : threads_) j.hw_from.push_back(thread->counters().now());
    send(s, ctl::writer(ctl::type::table_reply).done());
    if (verbose_)
        log("job %s: routing, %s", hex_id(s.job),
            std::to_string(j.ranks.size()) + " local ranks, " + std::to_string(table->routers.size()) +
                " routers in the job, route " + std::string(to_string(static_cast<routing>(t.route))));
}

void job_registry::on_detach(rank_session& s) {
    leave(s, true, {});
    s.detached = true;
    send(s, ctl::writer(ctl::type::detach_reply).done());
}

void job_registry::notify_failure(job_entry& j, std::uint32_t dead_rank, const std::string& why) {
    if (j.failure_sent) return;
    j.failure_sent = true;
    ctl::writer w(ctl::type::job_failed, 1);
    w.put(ctl::job_failed{dead_rank, 0});
    w.put_text(why);
    for (auto& [rank, session] : j.ranks)
        if (rank != dead_rank) send(*session, w.done());
}

// A rank leaves: detached (orderly) or died.  Its rings are dropped by every
// thread before their memory is unmapped.
void job_registry::leave(rank_session& s, bool orderly, const std::string& why) {
    auto it = jobs_.find(s.job);
    if (s.hello && it != jobs_.end()) {
        job_entry& j = it->second;
        if (j.active)
            for (auto& t : threads_) t->call([&](forwarder& f) { f.remove_rank(s.job, s.rank); });
        j.ranks.erase(s.rank);
        if (!orderly) {
            log("job %s: %s", hex_id(s.job), why);
            j.health->fail(why);
            notify_failure(j, s.rank, why);
        }
        if (j.ranks.empty()) {
            if (j.active)
                for (auto& t : threads_) t->call([&](forwarder& f) { f.remove_job(s.job); });
            // Acquire: pairs with job_health::fail()'s release (only the flag is read here).
            if (verbose_) log("job %s: ended%s", hex_id(s.job), j.health->failed.load(std::memory_order_acquire) ? " (failed)" : "");
            secrets_.job_ended(s.job);
            jobs_.erase(it);
        }
    }
    drop_rma_rings(s);
    s.rings = {};
    s.hello = false;
}

void job_registry::session_closed(rank_session& s) {
    if (s.hello && !s.detached)
        leave(s, false,
              "rank " + std::to_string(s.rank) + " (pid " + std::to_string(s.pid) + ") " +
                  (s.remote ? "at " + s.channel->peer() : "on " + self_.node) +
                  " died or closed its connection to buddy-router without detaching");
    else
        leave(s, true, {});
}

void job_registry::report_thread_failures() {
    for (auto& [id, j] : jobs_)
        // Acquire: pairs with job_health::fail()'s release on the router thread.
        if (j.health->failed.load(std::memory_order_acquire) && !j.failure_sent)
            notify_failure(j, ctl::no_rank, "buddy-router on " + self_.node + ": " + j.health->reason());
}

}  // namespace buddy::router
