#include "router_client.hpp"

#include <numa.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "buddy/control/bodies.hpp"
#include "buddy/control/tcp_channel.hpp"
#include "buddy/control/unix_channel.hpp"
#include "router_launcher.hpp"

namespace buddy::detail {

namespace ctl = control;
using clock = ctl::clock;

router_client::router_client(runtime& rt, router_endpoint where, unsigned local_index)
    : rt_(rt), timeout_(rt.settings().timeout_seconds), address_(std::move(where.address)),
      tcp_(ctl::is_tcp_address(address_)), rma_(where.rma) {
    // A local router is started by a rank and answers within a second or two;
    // a remote one is a service that should be there already, and the user's
    // BUDDY_TIMEOUT says how long to wait for it.
    const double limit = tcp_ ? timeout_ : std::min(timeout_, 30.0);
    const auto start = clock::now();
    const auto give_up = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(limit));
    auto last_start = start - std::chrono::hours(1);
    std::string why_not;
    bool busy = false;
    for (;;) {
        try {
            channel_ = connect_once(give_up, why_not, busy);
        } catch (const ctl::control_error& e) {
            throw config_error(std::string(tcp_ ? "buddy: router address: " : "buddy: router socket: ") + e.what());
        }
        if (channel_) {
            if (hello(local_index)) return;
            channel_.reset();
            why_not = "it closed the connection at hello";
        } else if (where.may_start && !busy && clock::now() - last_start > std::chrono::seconds(2)) {
            started_ = start_router(rt_, address_, where.router_index, where.routers);
            last_start = clock::now();
        }
        if (clock::now() >= give_up) {
            if (tcp_) {
                char secs[32];
                std::snprintf(secs, sizeof secs, "%g", limit);
                rt_.fatal("no buddy-router answered at " + address_ + " within " + secs +
                          " s (BUDDY_TIMEOUT; last attempt: " + why_not + ")");
            }
            rt_.fatal("no buddy-router answered on " + address_ + " within " + std::to_string(limit) + " s" +
                      (started_.empty() ? std::string(" (the node's first rank starts one)")
                                        : " (started " + started_ + "; see " + address_ + ".log)") +
                      "; last attempt: " + why_not);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(tcp_ ? 50 : 10));
    }
}

std::unique_ptr<ctl::channel> router_client::connect_once(clock_deadline give_up, std::string& why_not, bool& busy) {
    busy = false;
    if (!tcp_) {
        auto channel = ctl::unix_channel::connect(address_, &busy);
        if (!channel)
            why_not = busy ? "a router listens there but is not accepting (its queue of connections is full)"
                           : "nobody listens there";
        return channel;
    }
    // Each attempt is bounded by a second as well as by the whole wait, so a
    // router that comes up late is still found in time.
    const auto deadline = std::min(give_up, clock::now() + std::chrono::seconds(1));
    return ctl::tcp_channel::connect(ctl::parse_tcp_address(address_, false), deadline, why_not);
}

router_client::~router_client() {
    ctl::writer detach(ctl::type::detach);
    const auto deadline = clock::now() + std::chrono::seconds(2);
    if (!channel_->send(detach.done(), deadline)) return;
    for (;;) {
        const ctl::received r = channel_->receive(deadline);
        if (r.status == ctl::receive_status::timed_out || r.status == ctl::receive_status::closed) return;
        if (r.status == ctl::receive_status::message && static_cast<ctl::type>(r.header.type) == ctl::type::detach_reply)
            return;
    }
}

void router_client::attached() { request(ctl::writer(ctl::type::attached).done(), ctl::type::attached_reply); }

void router_client::attached(std::span<const std::byte> message) { request(message, ctl::type::attached_reply); }

void router_client::send_table(std::span<const std::byte> table_message) {
    request(table_message, ctl::type::table_reply);
}

std::string router_client::label() const {
    return router_.name.empty() ? "buddy-router at " + address_ : router_.name;
}

ctl::reader router_client::request(std::span<const std::byte> m, ctl::type want, bool tolerate_close) {
    const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_));
    if (!channel_->send(m, deadline)) {
        if (tolerate_close) return ctl::reader();
        rt_.fatal("cannot reach " + label() + ": " + std::strerror(errno));
    }
    ctl::received r = channel_->receive(deadline);
    switch (r.status) {
        case ctl::receive_status::timed_out:
            rt_.fatal(label() + " did not answer " + ctl::name_of(want) + " within " + std::to_string(timeout_) +
                      " s (BUDDY_TIMEOUT)");
        case ctl::receive_status::closed:
            if (tolerate_close) return ctl::reader();
            rt_.fatal(label() + " closed the connection during setup (it died?)");
        case ctl::receive_status::malformed: rt_.fatal("malformed reply from " + label());
        case ctl::receive_status::message: break;
    }
    const auto t = static_cast<ctl::type>(r.header.type);
    if (t == ctl::type::job_failed || (t == want && r.header.status != 0)) {
        ctl::job_failed f{};
        if (t == ctl::type::job_failed) r.body.get(f);
        rt_.fatal(label() + ": " + r.body.rest_text());
    }
    if (t != want) rt_.fatal("unexpected " + std::string(ctl::name_of(t)) + " from " + label());
    return r.body;
}

bool router_client::hello(unsigned local_index) {
    const config& cfg = rt_.settings();
    ctl::hello h{};
    h.job = rt_.job();
    h.rank = static_cast<std::uint32_t>(rt_.rank());
    h.job_size = static_cast<std::uint32_t>(rt_.size());
    h.local_index = local_index;
    h.pid = static_cast<std::uint32_t>(getpid());
    h.ring_bytes = cfg.ring_bytes;
    h.granularity = cfg.granularity;
    h.max_message = cfg.max_message;
    h.depth = cfg.depth;
    const int cpu = sched_getcpu();
    h.numa_node = (numa_available() >= 0 && cpu >= 0) ? numa_node_of_cpu(cpu) : -1;
    h.flags = (cfg.checksum ? ctl::hello_flag_checksum : 0) | (rma_ ? ctl::hello_flag_rma : 0);
    const ctl::secret_view secret = rt_.job_secret();
    std::copy(secret.begin(), secret.end(), h.secret);
    ctl::writer w(ctl::type::hello);
    w.put(h);
    ctl::reader r = request(w.done(), ctl::type::hello_reply, true);
    ctl::hello_reply_body rep;
    if (r.left() == 0) return false;  // closed: the router was exiting
    if (std::string bad = ctl::read_hello_reply(r, rep); !bad.empty())
        rt_.fatal("malformed hello reply from " + label() + ": " + bad);
    router_.threads = rep.head.threads;
    router_.pid = rep.head.pid;
    router_.instance = rep.head.instance;
    router_.node = ctl::get_name(rep.head.node);
    router_.out_segment = ctl::get_name(rep.head.out_segment);
    router_.in_segment = ctl::get_name(rep.head.in_segment);
    router_.addresses = std::move(rep.addresses);
    router_.rma = std::move(rep.rma);
    router_.name = "buddy-router (pid " + std::to_string(router_.pid) + ") on node " + router_.node +
                   (tcp_ ? " at " + address_ : std::string());
    if (rma_ && router_.rma.size() != router_.threads)
        rt_.fatal(router_.name + " answered without rings over RMA (placement dpu needs a router of this build)");
    return true;
}

}  // namespace buddy::detail
