#include "buddy/router/forwarder.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace buddy::router {

namespace {
constexpr std::size_t chunks_per_slot_per_pass = 8;  // fairness between ranks

std::string hex(std::uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}
}  // namespace

forwarder::forwarder(std::uint32_t index, std::string name)
    : index_(index),
      name_(std::move(name)),
      worker_(name_),
      receive_pool_(wire::batch_header_bytes + 64 * 1024),
      receiver_(worker_, receive_pool_.as_source()) {}

forwarder::~forwarder() {
    std::vector<std::uint64_t> ids;
    for (auto& [id, j] : jobs_) ids.push_back(id);
    for (std::uint64_t id : ids) remove_job(id);
}

void forwarder::add_job(const job_settings& s, std::shared_ptr<const job_table> table,
                        std::shared_ptr<job_health> health, const std::vector<rank_rings>& rings,
                        engine::next_hop_scheme scheme) {
    auto j = std::make_unique<job_state>();
    j->settings = s;
    j->table = std::move(table);
    j->health = std::move(health);
    j->owner = this;
    const auto routers = static_cast<std::uint32_t>(j->table->routers.size());
    j->agg = std::make_unique<engine::aggregator>(
        engine::aggregator_settings{s.granularity, s.depth, s.job, j->table->self, s.checksum}, routers);
    j->peers.resize(routers);
    j->window_of.assign(s.size, nullptr);
    j->hop_of.assign(s.size, -1);
    j->local_of.assign(s.size, nullptr);
    j->limits.job = s.job;
    j->limits.ranks = s.size;
    j->limits.handlers = 0;  // the router never looks at handlers
    j->limits.max_payload = s.max_message;
    j->record_limits = j->limits.records();
    // The next hop of every destination this router does not serve, once, so
    // that the per-record path is one table lookup whatever the scheme.
    j->scheme = scheme;
    j->via_here.resize(routers);
    const engine::route route(j->table->rank_to_router, routers, scheme);
    for (std::uint32_t d = 0; d < s.size; ++d) {
        if (route.serves(j->table->self, d)) continue;
        const std::uint32_t hop = route.next_hop(j->table->self, d);
        j->hop_of[d] = static_cast<std::int32_t>(hop);
        j->window_of[d] = &j->agg->windows()[hop];
    }
    auto attach = [&](auto& slots, auto slot, std::uint32_t rank) {
        slot->job = j.get();
        slot->rank = rank;
        const std::size_t room =
            slot->in.max_chunk_payload() - wire::batch_header_bytes - wire::trailer_bytes(s.checksum);
        j->inbound_target = std::min(s.granularity, room);
        j->local_of[rank] = slot.get();
        j->window_of[rank] = &slot->win;
        slots.push_back(std::move(slot));
    };
    for (const rank_rings& rr : rings) {
        if (rr.rma) {
            const auto mine = rma_links_.find({s.job, rr.rank});
            if (mine == rma_links_.end() || !mine->second->connected())
                throw std::logic_error("forwarder::add_job: rank " + std::to_string(rr.rank) +
                                       " has no connected rings over RMA on " + name_);
            auto slot = std::make_unique<rma_rank>();
            slot->rma = true;
            slot->channel = &mine->second->channel();
            slot->out = transport::rma_consumer(mine->second->outbound(), mine->second->release());
            slot->in = transport::rma_producer(mine->second->inbound(), mine->second->publish());
            attach(rma_slots_, std::move(slot), rr.rank);
        } else {
            auto slot = std::make_unique<host_rank>();
            slot->out = ring::consumer(rr.outbound);
            slot->in = ring::producer(rr.inbound);
            attach(slots_, std::move(slot), rr.rank);
        }
    }
    j->passes_at_start = totals_.passes;  // this thread's own fields: plain reads
    j->passes_idle_at_start = totals_.passes_idle;
    j->idle_ns_at_start = totals_.time_idle_ns;
    jobs_[s.job] = std::move(j);
}

void forwarder::remove_rank(std::uint64_t job, std::uint32_t rank) {
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return;
    job_state& j = *it->second;
    if (rank >= j.settings.size || !j.local_of[rank]) return;
    rank_slot* s = j.local_of[rank];
    j.local_of[rank] = nullptr;
    j.window_of[rank] = nullptr;  // records still addressed to it are refused and counted
    std::erase_if(slots_, [&](const std::unique_ptr<host_rank>& p) { return p.get() == s; });
    std::erase_if(rma_slots_, [&](const std::unique_ptr<rma_rank>& p) { return p.get() == s; });
}

control::rma_thread_rings forwarder::offer_rma_rings(std::uint64_t job, std::uint32_t rank, std::size_t capacity) {
    if (!rma_worker_) {
        rma_worker_.emplace(name_ + " rma", 0, transport::worker_features::am_and_rma);
        rma_writes_.emplace(*rma_worker_);
    }
    auto& rings = rma_links_[{job, rank}];
    rings = std::make_unique<rma_rank_rings>(*rma_worker_, *rma_writes_, capacity);
    return rings->offer();
}

transport::carrier forwarder::connect_rma_rings(std::uint64_t job, std::uint32_t rank, const control::rma_thread_rings& theirs,
                                  const std::string& rank_name, std::size_t depth, double stall_timeout_s) {
    const auto it = rma_links_.find({job, rank});
    if (it == rma_links_.end()) throw std::logic_error("connect_rma_rings: no rings offered for " + rank_name);
    it->second->connect(theirs, rank_name, depth, stall_timeout_s);
    return it->second->how();
}

void forwarder::drop_rma_rings(std::uint64_t job, std::uint32_t rank) {
    // Its slot (if any) went first: remove_rank or remove_job.
    rma_links_.erase({job, rank});
}

void forwarder::remove_job(std::uint64_t job) {
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return;
    job_state* j = it->second.get();
    std::erase_if(slots_, [&](const std::unique_ptr<host_rank>& p) { return p->job == j; });
    std::erase_if(rma_slots_, [&](const std::unique_ptr<rma_rank>& p) { return p->job == j; });
    for (auto a = arrived_.begin(); a != arrived_.end();) {
        if (a->job == j) {
            receiver_.release(a->rb);
            a = arrived_.erase(a);
        } else {
            ++a;
        }
    }
    for (auto& p : j->peers)
        if (p) p->close(worker_, 1.0);
    // Sends still pending after the close hold batch buffers of the aggregator:
    // wait (bounded) for their callbacks, and leak the job rather than free
    // memory UCX may still write to.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (j->agg->total_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) worker_.progress();
    if (j->agg->total_in_flight() > 0) {
        std::fprintf(stderr, "buddy-router %s: job %s: %llu batches still in flight at job end; keeping their memory\n",
                     name_.c_str(), hex(job).c_str(), static_cast<unsigned long long>(j->agg->total_in_flight()));
        (void)it->second.release();
    }
    jobs_.erase(job);
}

void forwarder::bad_input(job_state& j, const std::string& why, counter_of which) {
    count(j, which);
    if (j.health->failed.load(std::memory_order_relaxed)) return;  // logged once per job
    std::fprintf(stderr, "buddy-router %s: job %s: %s\n", name_.c_str(), hex(j.settings.job).c_str(), why.c_str());
    j.health->fail(why);
}

// ---------------------------------------------------------------- outbound rings

template <class Slot>
bool forwarder::make_room_local(Slot& s, std::size_t bytes) {
    if (!can_publish(s)) [[unlikely]]
        return false;  // RMA window nearly full: retried next pass, after progress retired some
    if (s.in_begin != nullptr) {
        if (s.win.records != 0) {
            commit_inbound(s);
            count(*s.job, &router_counters::flush_full);
        } else {
            s.in.commit(0);  // empty and too small (only for a record above the target)
        }
        s.in_begin = nullptr;
        s.win = wire::window{};
    }
    const std::size_t target = std::max(s.job->inbound_target, bytes);
    // Header and trailer (checksum on) around the records: the window stops short of the trailer.
    const std::size_t frame = wire::batch_header_bytes + wire::trailer_bytes(s.job->settings.checksum);
    std::size_t granted = 0;
    std::byte* p = s.in.try_reserve(frame + bytes, frame + target, granted);
    if (p == nullptr) return false;  // inbound ring full: the rank has not drained it yet
    s.in_begin = p;
    s.win = wire::window{p + wire::batch_header_bytes, p + granted - (frame - wire::batch_header_bytes), 0};
    return true;
}

template <class Slot>
void forwarder::commit_inbound(Slot& s) {
    const auto used = static_cast<std::size_t>(s.win.cursor - (s.in_begin + wire::batch_header_bytes));
    // A new batch: sealed afresh (checksum on), after the records were checked
    // against the checksum of the chunk or batch they came in.
    s.in.commit(wire::finish_batch(s.in_begin, s.job->settings.job, s.job->table->self,
                                   static_cast<std::uint32_t>(s.win.records), used, s.job->settings.checksum));
    count(*s.job, &router_counters::records_local, s.win.records);
    count(*s.job, &router_counters::chunks_out);
    s.in_begin = nullptr;
    s.win = wire::window{};
}

bool forwarder::make_room(job_state& j, std::uint32_t dest, std::size_t bytes) {
    const std::int32_t hop = j.hop_of[dest];
    if (hop < 0) {
        // Per chunk, not per record: the one place the slot's kind is a branch.
        rank_slot* s = j.local_of[dest];
        if (s == nullptr) return false;
        return s->rma ? make_room_local(static_cast<rma_rank&>(*s), bytes)
                      : make_room_local(static_cast<host_rank&>(*s), bytes);
    }
    const auto h = static_cast<std::uint32_t>(hop);
    engine::aggregator& agg = *j.agg;
    if (agg.has_records(h) && agg.in_flight(h) >= j.settings.depth) return false;  // no credit: pause
    link l{this, &j};
    const std::uint64_t full_before = agg.counters().flush_full;
    agg.make_room(h, bytes, l);
    count(j, &router_counters::flush_full, agg.counters().flush_full - full_before);
    return true;
}

// The per-record path: read the header, find the destination's window, copy.
bool forwarder::forward_chunk(rank_slot& s) {
    job_state& j = *s.job;
    wire::router_record_cursor cursor(s.chunk, j.record_limits, s.offset);
    wire::window* const* const window_of = j.window_of.data();
    for (wire::record_view v; cursor.next(v);) {
        wire::window* w = window_of[v.header.dest];
        if (w == nullptr || static_cast<std::size_t>(w->limit - w->cursor) < v.record_bytes) [[unlikely]] {
            if (w == nullptr) {
                bad_input(j, "rank " + std::to_string(s.rank) + " sent to rank " + std::to_string(v.header.dest) +
                                 ", which has left this router",
                          &router_counters::bad_records);
                continue;
            }
            if (!make_room(j, v.header.dest, v.record_bytes)) {
                s.offset = static_cast<std::size_t>(v.record - s.chunk.data());
                return false;
            }
        }
        w->copy_in(v.record, v.record_bytes);
    }
    s.offset = cursor.offset();
    if (cursor.error().error != wire::parse_errc::ok) [[unlikely]] {
        bad_input(j,
                  "rank " + std::to_string(s.rank) + " wrote a malformed record into its outbound ring: " +
                      wire::describe(wire::batch_error(cursor.error())),
                  &router_counters::bad_records);
        s.broken = true;
    }
    return true;
}

// Checksum on: every outbound chunk ends with a trailer over its records.  A
// chunk that fails is dropped whole (none of its records moves) and the job
// fails; the slot stops, as after a malformed record.
template <class Slot>
bool forwarder::open_sealed_chunk(Slot& s) {
    std::uint32_t found = 0, expected = 0;
    if (wire::check_checksum_trailer(s.chunk.data(), s.chunk.size(), found, expected)) [[likely]] {
        s.chunk = s.chunk.first(s.chunk.size() - wire::checksum_trailer_bytes);
        return true;
    }
    char values[64];
    std::snprintf(values, sizeof values, "stored %08x, computed %08x", found, expected);
    bad_input(*s.job,
              "the outbound ring of rank " + std::to_string(s.rank) + " holds a chunk of " +
                  std::to_string(s.chunk.size()) + " bytes whose checksum does not match (" + values +
                  "): payload corrupted in the ring; the chunk was dropped",
              &router_counters::bad_records);
    s.out.pop();
    s.chunk = {};
    s.broken = true;
    return false;
}

template <class Slot>
bool forwarder::forward(Slot& s, bool& moved) {
    if (s.broken) return true;
    if (s.job->health->failed.load(std::memory_order_relaxed)) [[unlikely]] {
        // The job cannot finish correctly: drop what its ranks still send so
        // none of them blocks on a full ring before it hears of the failure.
        for (std::span<const std::byte> c = s.out.front(); c.data() != nullptr; c = s.out.front()) s.out.pop();
        s.chunk = {};
        return true;
    }
    for (std::size_t n = 0; n < chunks_per_slot_per_pass; ++n) {
        if (s.chunk.data() == nullptr) {
            s.chunk = s.out.front();
            s.offset = 0;
            if (s.chunk.data() == nullptr) {
                if (s.out.corrupted()) {
                    bad_input(*s.job, "the outbound ring of rank " + std::to_string(s.rank) + " is corrupted",
                              &router_counters::bad_records);
                    s.broken = true;
                }
                return true;
            }
            if (s.job->settings.checksum && !open_sealed_chunk(s)) return true;
        }
        const std::size_t before = s.offset;
        const bool done = forward_chunk(s);
        if (s.offset != before) moved = true;
        if (!done) return false;
        s.out.pop();
        s.chunk = {};
        moved = true;
        count(*s.job, &router_counters::chunks_in);
    }
    return true;
}

// ---------------------------------------------------------------- network

transport::endpoint& forwarder::peer(job_state& j, std::uint32_t hop) {
    auto& slot = j.peers[hop];
    if (!slot) {
        const job_table::router_entry& r = j.table->routers[hop];
        // Thread t of every router of a job forwards the records of lane t
        // (engine::lane_of), so it sends to thread t of the next hop; a router
        // with fewer threads takes them modulo its count.  Any thread of the
        // destination's router may deliver: a rank polls all its inbound rings.
        const auto& address = r.addresses[index_ % r.addresses.size()];
        // by_caller: routers of one node reach each other over shared memory,
        // which UCX 1.13 offers only without transport failure detection; a
        // dead router is noticed by its ranks (control socket), which end the job.
        slot.emplace(worker_, std::span<const std::byte>(address.data(), address.size()), r.name,
                     transport::endpoint::failure_detection::by_caller);
    }
    return *slot;
}

void forwarder::on_sent(void* token, ucs_status_t status) {
    auto* b = static_cast<engine::batch_buffer*>(token);
    auto* j = static_cast<job_state*>(b->owner);
    if (status != UCS_OK && status != UCS_ERR_CANCELED) {
        j->owner->bad_input(*j, "sending a batch to " + j->table->routers[b->hop].name + " failed: " +
                                    ucs_status_string(status),
                            &router_counters::bad_batches);
    }
    j->agg->completed(b);
}

void forwarder::link::send(engine::batch_buffer* b) {
    b->owner = job;
    b->ticket = transport::send_ticket{&forwarder::on_sent, b};
    transport::send_state st = transport::send_state::completed;
    try {
        st = transport::send_batch(self->peer(*job, b->hop), b->data(), b->bytes, &b->ticket);
    } catch (const std::exception& e) {
        self->bad_input(*job, e.what(), &router_counters::bad_batches);
    }
    self->count(*job, &router_counters::batches_sent);
    self->count(*job, &router_counters::batch_bytes_sent, b->bytes);
    self->count(*job, &router_counters::records_remote, b->records);
    if (st == transport::send_state::completed) job->agg->completed(b);
}

void forwarder::link::wait_for_credit(std::uint32_t, std::chrono::steady_clock::time_point) {
    // Not reached: make_room() pauses a source instead of flushing a hop without credit.
    self->worker_.progress();
}

bool forwarder::receive() {
    bool moved = false;
    if (receiver_.failure() != UCS_OK) {
        std::fprintf(stderr, "buddy-router %s: receiving a batch failed: %s\n", name_.c_str(),
                     ucs_status_string(receiver_.failure()));
    }
    transport::received_batch rb;
    while (receiver_.take(rb)) {
        moved = true;
        const std::span<const std::byte> bytes(rb.data, rb.bytes);
        wire::batch_header h{};
        if (rb.bytes >= sizeof h) std::memcpy(&h, rb.data, sizeof h);
        auto it = rb.bytes >= sizeof h ? jobs_.find(h.job) : jobs_.end();
        if (it == jobs_.end()) {
            bump(totals_.batches_received, 1);  // no job to charge it to
            bump(totals_.batch_bytes_received, rb.bytes);
            bump(totals_.bad_batches, 1);
            std::fprintf(stderr, "buddy-router %s: dropped a batch of %zu bytes for unknown job %s\n",
                         name_.c_str(), rb.bytes, hex(h.job).c_str());
            receiver_.release(rb);
            continue;
        }
        job_state& j = *it->second;
        count(j, &router_counters::batches_received);
        count(j, &router_counters::batch_bytes_received, rb.bytes);
        // The batch names the router that sent it: one of the job's, not this
        // one.  UCX does not authenticate a sender, so this and the route
        // check below are what stands between the job and a forged batch that
        // is well formed: it catches a wrong or made-up source, and records
        // that the route would never send from that source through here.
        const auto routers = static_cast<std::uint32_t>(j.table->routers.size());
        if (h.source >= routers || h.source == j.table->self) {
            bad_input(j,
                      "dropped a forged or misrouted batch from the network: it claims to come from router " +
                          std::to_string(h.source) +
                          (h.source == j.table->self ? " (this router itself)"
                                                     : ", but the job has " + std::to_string(routers) + " routers"),
                      &router_counters::bad_batches);
            receiver_.release(rb);
            continue;
        }
        const std::uint8_t* const from_source = via_here(j, h.source);
        const std::uint32_t* const router_of = j.table->rank_to_router.data();
        // Check the whole batch before any record moves: a bad batch changes
        // nothing.  A record for a rank another router serves is in transit
        // and goes on to its next hop; one for a rank this router should
        // serve but does not (never attached, or left) is refused.
        bool foreign = false, off_route = false;
        std::uint32_t foreign_dest = 0;
        const wire::parse_result r = wire::for_each_checked_record(
            bytes, j.limits, [&](const wire::record_header& rh, const std::byte*, std::size_t) {
                if (foreign) return;
                if (from_source[router_of[rh.dest]] == 0) {
                    foreign = off_route = true;
                    foreign_dest = rh.dest;
                } else if (j.hop_of[rh.dest] < 0 && j.local_of[rh.dest] == nullptr) {
                    foreign = true;
                    foreign_dest = rh.dest;
                }
            });
        if (!r || foreign) {
            // The link: the sending router as the header names it (the
            // transport does not say which endpoint an active message came by).
            const std::string sender = h.source < j.table->routers.size()
                                         ? j.table->routers[h.source].name
                                         : "an unknown router (source " + std::to_string(h.source) + ")";
            const std::string batch = "batch of " + std::to_string(rb.bytes) + " bytes from " + sender;
            std::string why;
            if (!r) why = "dropped a malformed " + batch + ": " + wire::describe(r);
            else if (off_route)
                why = "dropped a forged or misrouted " + batch + ": its record for rank " +
                      std::to_string(foreign_dest) + " (router " + std::to_string(router_of[foreign_dest]) +
                      ") would not pass through this router from router " + std::to_string(h.source);
            else
                why = "dropped a malformed " + batch + ": record for rank " + std::to_string(foreign_dest) +
                      ", which is not served here";
            bad_input(j, why, &router_counters::bad_batches);
            receiver_.release(rb);
            continue;
        }
        arrived_.push_back(arrived{rb, &j, wire::batch_header_bytes,
                                   wire::batch_header_bytes + static_cast<std::size_t>(r.header.bytes)});
    }
    // Deliver in arrival order, but a batch whose destination ring is full waits
    // alone: later batches (for other ranks) go past it, so one slow rank does
    // not stall delivery to the rest of the node.
    for (auto it = arrived_.begin(); it != arrived_.end();) {
        const std::size_t before = it->offset;
        if (distribute(*it)) {
            receiver_.release(it->rb);
            it = arrived_.erase(it);
            moved = true;
        } else {
            moved |= it->offset != before;
            ++it;
        }
    }
    return moved;
}

// Made once per (job, source router), on the source's first batch: the rare
// path, so the per-record check is one load.
const std::uint8_t* forwarder::via_here(job_state& j, std::uint32_t source) {
    std::vector<std::uint8_t>& row = j.via_here[source];
    if (row.empty()) {
        const auto routers = static_cast<std::uint32_t>(j.table->routers.size());
        row.resize(routers, 0);
        for (std::uint32_t t = 0; t < routers; ++t)
            row[t] = t != source && j.scheme(source, t, routers) == j.table->self ? 1 : 0;
    }
    return row.data();
}

// The batch was checked whole by receive(); records go to their ranks' inbound
// rings here, or (transit) into the batch for their next hop.
bool forwarder::distribute(arrived& a) {
    job_state& j = *a.job;
    const std::span<const std::byte> batch(a.rb.data, a.end);  // without the trailer
    wire::trusted_record_cursor cursor(batch, a.offset);
    wire::window* const* const window_of = j.window_of.data();
    const std::int32_t* const hop_of = j.hop_of.data();
    std::uint64_t transit = 0;
    bool done = true;
    for (wire::record_view v; cursor.next(v);) {
        wire::window* w = window_of[v.header.dest];
        if (w == nullptr) continue;  // its rank left meanwhile (died): the job has failed anyway
        if (static_cast<std::size_t>(w->limit - w->cursor) < v.record_bytes &&
            !make_room(j, v.header.dest, v.record_bytes)) {
            a.offset = static_cast<std::size_t>(v.record - batch.data());
            done = false;
            break;
        }
        w->copy_in(v.record, v.record_bytes);
        transit += hop_of[v.header.dest] >= 0 ? 1 : 0;
    }
    if (done) a.offset = cursor.offset();
    if (transit != 0) count(j, &router_counters::records_transit, transit);
    return done;
}

// ---------------------------------------------------------------- the pass

template <class Slot>
void forwarder::flush_inbound(std::vector<std::unique_ptr<Slot>>& slots) {
    for (auto& s : slots) {
        if (s->in_begin != nullptr && s->win.records != 0 && can_publish(*s)) {
            commit_inbound(*s);
            count(*s->job, &router_counters::flush_idle);
        }
    }
}

template <class Slot>
void forwarder::forward_all(std::vector<std::unique_ptr<Slot>>& slots, bool& moved) {
    for (auto& s : slots)
        if (!forward(*s, moved)) count(*s->job, &router_counters::stalls);
}

// Placement dpu: the ranks' puts and atomics land when this worker
// progresses (UCX over tcp carries RMA in software), and each rank's channel
// retires its completed operations.
bool forwarder::progress_rma() {
    bool moved = rma_worker_->progress();
    if (rma_writes_->refused() != refusals_reported_) [[unlikely]]
        report_refused_writes();
    for (auto& [key, rings] : rma_links_) {
        moved |= rings->progress();
        if (rings->failed()) [[unlikely]] {
            // Operations are dropped once a channel failed: the job cannot be
            // correct.  Charged to the job while the rank is still served
            // (a rank that left already failed or finished it).
            const auto it = jobs_.find(key.first);
            const std::string why = rings->take_failure();
            if (!why.empty() && it != jobs_.end() && key.second < it->second->settings.size &&
                it->second->local_of[key.second] != nullptr)
                bad_input(*it->second, why, &router_counters::bad_batches);
        }
    }
    return moved;
}

void forwarder::report_refused_writes() {
    // Logged at 1, 2, 4, 8 ... refusals: visible, and bounded however many arrive.
    const std::uint64_t n = rma_writes_->refused();
    if ((n & (n - 1)) == 0)
        std::fprintf(stderr,
                     "buddy-router %s: refused %llu remote write%s that fell outside every ring of this thread "
                     "(first: %s); none was applied\n",
                     name_.c_str(), static_cast<unsigned long long>(n), n == 1 ? "" : "s",
                     rma_writes_->first_refusal().c_str());
    refusals_reported_ = n;
}

void forwarder::flush_all() {
    flush_inbound(slots_);
    flush_inbound(rma_slots_);
    for (auto& [id, j] : jobs_) {
        engine::aggregator& agg = *j->agg;
        link l{this, j.get()};
        for (std::uint32_t h = 0; h < agg.hops(); ++h)
            if (agg.has_records(h) && agg.in_flight(h) < j->settings.depth &&
                agg.flush(h, engine::flush_reason::idle, l))
                count(*j, &router_counters::flush_idle);
    }
}

bool forwarder::step() {
    bool moved = worker_.progress();
    if (rma_worker_) [[unlikely]]  // placement dpu served here (once per pass)
        moved |= progress_rma();
    moved |= receive();
    forward_all(slots_, moved);
    if (!rma_slots_.empty()) forward_all(rma_slots_, moved);
    bump(totals_.passes, 1);
    if (!moved) {
        bump(totals_.passes_idle, 1);
        flush_all();
    }
    return moved;
}

router_counters forwarder::counters() const noexcept {
    router_counters c;
    for (const auto& f : router_counter_fields)
        c.*f.member = std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(totals_.*f.member))
                          .load(std::memory_order_relaxed);  // see bump(): the owner's latest store, or one before
    return c;
}

router_counters forwarder::job_counters(std::uint64_t job) const noexcept {
    const auto it = jobs_.find(job);
    if (it == jobs_.end()) return router_counters{};
    // On the owning thread: plain reads.
    const job_state& j = *it->second;
    router_counters c = j.counters;
    c.in_flight_max = j.agg->counters().in_flight_max;
    c.passes = totals_.passes - j.passes_at_start;
    c.passes_idle = totals_.passes_idle - j.passes_idle_at_start;
    c.time_idle_ns = totals_.time_idle_ns - j.idle_ns_at_start;
    c.time_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - j.started).count());
    // The idle stretch open when the job arrived began before it: its part
    // before the job is not the job's (clamped, not split: one clock pair per stretch).
    c.time_idle_ns = std::min(c.time_idle_ns, c.time_ns);
    return c;
}

std::vector<link_report> forwarder::job_links(std::uint64_t job) const {
    std::vector<link_report> out;
    const auto it = jobs_.find(job);
    if (it == jobs_.end()) return out;
    const std::vector<engine::hop_counters>& hops = it->second->agg->hops_sent();
    for (std::uint32_t h = 0; h < hops.size(); ++h)
        if (hops[h].batches) out.push_back(link_report{h, hops[h].batches, hops[h].bytes});
    return out;
}

}  // namespace buddy::router
