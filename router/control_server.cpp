#include "buddy/router/control_server.hpp"

#include <poll.h>

#include <cerrno>
#include <vector>

#include "buddy/router/log.hpp"
#include "buddy/router/process_alive.hpp"

namespace buddy::router {

namespace ctl = control;

control_server::control_server(std::unique_ptr<ctl::listener> listener, job_registry& jobs)
    : listener_(std::move(listener)), jobs_(jobs) {}

control_server::~control_server() { shut_down(); }

void control_server::accept_one() {
    ctl::listener::accepted a = listener_->accept();
    if (!a.refused.empty()) log("%s", a.refused);
    if (!a.peer) return;
    auto s = std::make_unique<rank_session>();
    s->remote = !a.peer->peer_checked_by_kernel();
    const int key = a.peer->readiness_fd();
    s->channel = std::move(a.peer);
    sessions_[key] = std::move(s);
}

void control_server::close_session(int key) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    jobs_.session_closed(*it->second);
    sessions_.erase(it);  // closes the channel
}

bool control_server::serve(int timeout_ms) {
    std::vector<pollfd> fds;
    fds.push_back({listener_->readiness_fd(), POLLIN, 0});
    for (auto& [key, s] : sessions_) fds.push_back({key, POLLIN, 0});
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) return errno == EINTR;
    if (n == 0) return true;
    if (fds[0].revents & POLLIN) accept_one();
    for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto it = sessions_.find(fds[i].fd);
        if (it == sessions_.end()) continue;
        rank_session& s = *it->second;
        ctl::received m = s.channel->receive(ctl::clock::now());  // readable: does not wait
        switch (m.status) {
            case ctl::receive_status::message: jobs_.handle(s, m); break;
            case ctl::receive_status::closed: close_session(fds[i].fd); break;
            // Over TCP the stream is closed with it (the next receive says so).
            case ctl::receive_status::malformed: log("dropped a malformed control message from %s", s.channel->peer()); break;
            case ctl::receive_status::timed_out: break;
        }
    }
    return true;
}

void control_server::close_dead_ranks() {
    std::vector<int> dead;
    const auto now = ctl::clock::now();
    for (auto& [key, s] : sessions_) {
        // A remote rank's pid is a process of another machine: its death
        // shows as the connection's close (or the keepalive's end) instead.
        if (s->hello && !s->detached && !s->remote && !pid_alive(s->pid)) dead.push_back(key);
        // A rank says hello as soon as it connects; a connection silent for
        // this long is not a rank (over TCP: anyone may connect) and must not
        // hold a descriptor for ever.
        if (!s->hello && !s->detached && now - s->opened > hello_wait) {
            log("closed a connection from %s: no accepted hello within %s s", s->channel->peer(),
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(hello_wait).count()));
            dead.push_back(key);
        }
    }
    for (int key : dead) close_session(key);
}

void control_server::shut_down() {
    listener_.reset();
    while (!sessions_.empty()) close_session(sessions_.begin()->first);
}

}  // namespace buddy::router
