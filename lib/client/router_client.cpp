#include "router_client.hpp"

#include <numa.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "buddy/control/bodies.hpp"
#include "buddy/control/unix_channel.hpp"
#include "router_launcher.hpp"

namespace buddy::detail {

namespace ctl = control;
using clock = ctl::clock;

router_client::router_client(runtime& rt, std::string socket_path, unsigned local_index, unsigned router_index,
                             unsigned routers, bool may_start)
    : rt_(rt), timeout_(rt.settings().timeout_seconds), socket_path_(std::move(socket_path)) {
    const double limit = std::min(timeout_, 30.0);
    const auto start = clock::now();
    auto last_start = start - std::chrono::hours(1);
    for (;;) {
        try {
            channel_ = ctl::unix_channel::connect(socket_path_);
        } catch (const ctl::control_error& e) {
            throw config_error(std::string("buddy: router socket: ") + e.what());
        }
        if (channel_) {
            if (hello(local_index)) return;
            channel_.reset();
        } else if (may_start && clock::now() - last_start > std::chrono::seconds(2)) {
            started_ = start_router(rt_, socket_path_, router_index, routers);
            last_start = clock::now();
        }
        if (clock::now() - start > std::chrono::duration<double>(limit))
            rt_.fatal("no buddy-router answered on " + socket_path_ + " within " + std::to_string(limit) + " s" +
                      (started_.empty() ? std::string(" (the node's first rank starts one)")
                                        : " (started " + started_ + "; see " + socket_path_ + ".log)"));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
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

void router_client::send_table(std::span<const std::byte> table_message) {
    request(table_message, ctl::type::table_reply);
}

std::string router_client::label() const {
    return router_.name.empty() ? "buddy-router at " + socket_path_ : router_.name;
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
    h.flags = cfg.checksum ? ctl::hello_flag_checksum : 0;
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
    router_.name = "buddy-router (pid " + std::to_string(router_.pid) + ") on node " + router_.node;
    return true;
}

}  // namespace buddy::detail
