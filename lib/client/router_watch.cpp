#include "router_watch.hpp"

#include <signal.h>

#include <cerrno>

namespace buddy::detail {

namespace ctl = control;

router_watch::router_watch(runtime& rt, control::channel& channel, std::uint32_t router_pid, std::string name,
                           std::string socket_path)
    : rt_(rt), channel_(channel), router_pid_(router_pid), name_(std::move(name)),
      // Over TCP the name says the address already.
      where_(channel.peer_checked_by_kernel() ? " (socket " + socket_path + ")" : std::string()) {}

void router_watch::check(bool waiting) {
    const auto t = std::chrono::steady_clock::now();
    if (t - last_check_ < std::chrono::milliseconds(waiting ? 5 : 50)) return;
    last_check_ = t;
    // After setup the router sends only job_failed; anything else is wrong.
    ctl::received r = channel_.receive(t);  // a deadline already reached: never waits
    switch (r.status) {
        case ctl::receive_status::timed_out: break;
        case ctl::receive_status::closed:
            rt_.fatal(name_ + where_ + " died or closed the connection");
        case ctl::receive_status::malformed: rt_.fatal("unexpected control message from " + name_);
        case ctl::receive_status::message: {
            ctl::job_failed f{};
            if (static_cast<ctl::type>(r.header.type) == ctl::type::job_failed && r.body.get(f))
                rt_.fatal("the job failed: " + r.body.rest_text() + " (reported by " + name_ + ")");
            rt_.fatal("unexpected control message from " + name_);
        }
    }
    // A router reached over TCP runs on another machine (a DPU): its pid means
    // nothing here, and its death shows as the close above.
    if (channel_.peer_checked_by_kernel() && ::kill(static_cast<pid_t>(router_pid_), 0) != 0 && errno == ESRCH)
        rt_.fatal(name_ + where_ + " died");
}

}  // namespace buddy::detail
