// buddy-router's control plane: one thread serves the Unix socket (poll
// loop), T router threads move data (forwarder).  The control thread changes
// what a router thread serves only through commands that thread runs between
// two passes, so the per-record path takes no locks.
#include "buddy/router/service.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "buddy/config.hpp"
#include "buddy/ring/cpu_relax.hpp"
#include "buddy/ring/shm_segment.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/router/forwarder.hpp"
#include "buddy/router/placement.hpp"
#include "buddy/wire/control.hpp"

namespace buddy::router {

namespace ctl = wire::control;

namespace {

std::atomic<int> g_signal{0};
void on_signal(int s) { g_signal.store(s); }

using clock = std::chrono::steady_clock;

std::string hex(std::uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}

std::string host_name() {
    char h[256] = {};
    gethostname(h, sizeof h - 1);
    return h;
}

bool pid_alive(std::uint32_t pid) { return pid != 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// One router thread: a forwarder and the commands queued for it.
class router_thread {
public:
    router_thread(std::uint32_t index, const std::string& name, int cpu)
        : fwd_(index, name), cpu_(cpu), thread_([this] { run(); }) {}
    ~router_thread() {
        stop_.store(true);
        thread_.join();
    }

    forwarder& fwd() { return fwd_; }
    int cpu() const { return cpu_; }

    /// Runs `fn` on the router thread between two passes and waits for it.
    void call(std::function<void(forwarder&)> fn) {
        std::packaged_task<void()> task([&] { fn(fwd_); });
        std::future<void> done = task.get_future();
        {
            std::lock_guard<std::mutex> g(mu_);
            queue_.push_back(std::move(task));
        }
        pending_.store(true, std::memory_order_release);
        done.get();
    }

private:
    void run() {
        if (cpu_ >= 0) pin_this_thread(cpu_);
        unsigned idle = 0;
        while (!stop_.load(std::memory_order_relaxed)) {
            if (pending_.load(std::memory_order_acquire)) {
                std::vector<std::packaged_task<void()>> q;
                {
                    std::lock_guard<std::mutex> g(mu_);
                    q.swap(queue_);
                    pending_.store(false, std::memory_order_relaxed);
                }
                for (auto& t : q) t();
            }
            if (fwd_.step()) {
                idle = 0;
                continue;
            }
            // Idle: spin briefly for latency, then yield, then nap (ranks may
            // share these cores when the node has no spare ones).
            ++idle;
            if (idle < 64) {
                ring::cpu_relax();  // portable spin hint: pause on x86, yield on aarch64
                continue;
            }
            if (idle < 2048) {
                sched_yield();
                continue;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

    forwarder fwd_;
    int cpu_;
    std::mutex mu_;
    std::vector<std::packaged_task<void()>> queue_;
    std::atomic<bool> pending_{false};
    std::atomic<bool> stop_{false};
    std::thread thread_;  // last: starts after everything above exists
};

struct connection {
    int fd = -1;
    bool hello = false, attached = false, detached = false;
    std::uint64_t job = 0;
    std::uint32_t rank = 0;
    std::uint32_t pid = 0;
    std::size_t ring_capacity = 0;
    ring::shm_segment out, in;
    std::string out_name, in_name;  // non-empty while the names exist
};

struct job_entry {
    job_settings s;
    std::map<std::uint32_t, connection*> ranks;
    bool active = false;
    std::shared_ptr<job_health> health = std::make_shared<job_health>();
    bool failure_sent = false;
};

class service {
public:
    explicit service(const router_options& o) : o_(o) {}

    int run();

private:
    bool setup();
    void sweep_segments();
    void accept_one();
    void handle(connection& c, std::span<const std::byte> m);
    void on_hello(connection& c, ctl::reader& r);
    void on_attached(connection& c);
    void on_table(connection& c, ctl::reader& r);
    void leave(connection& c, bool orderly, const std::string& why);
    void notify_failure(job_entry& j, std::uint32_t dead_rank, const std::string& why);
    void reply_error(connection& c, ctl::type t, const std::string& why);
    bool send(connection& c, const std::vector<std::byte>& m);
    void check_jobs();
    void close_connection(connection& c);

    router_options o_;
    std::string socket_path_;
    int listen_fd_ = -1;
    int lock_fd_ = -1;
    std::uint64_t instance_ = 0;
    std::string node_;
    std::vector<std::unique_ptr<router_thread>> threads_;
    std::vector<int> numa_;  // per thread
    std::map<int, std::unique_ptr<connection>> conns_;
    std::map<std::uint64_t, job_entry> jobs_;
    bool had_job_ = false;
    std::vector<std::byte> buffer_ = std::vector<std::byte>(ctl::max_message_bytes);
};

void log(const char* fmt, const std::string& a = {}, const std::string& b = {}) {
    std::fprintf(stderr, "buddy-router[%d]: ", static_cast<int>(getpid()));
    std::fprintf(stderr, fmt, a.c_str(), b.c_str());
    std::fputc('\n', stderr);
}

bool service::setup() {
    node_ = host_name();
    socket_path_ = o_.socket.empty() ? ctl::default_socket_path(static_cast<unsigned>(getuid()), o_.index) : o_.socket;
    if (socket_path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
        log("socket path %s is too long for a Unix socket", socket_path_);
        return false;
    }
    // The per-user directory: 0700, ours.
    const std::string dir = socket_path_.substr(0, socket_path_.rfind('/'));
    if (!dir.empty()) {
        if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
            log("cannot create %s: %s", dir, std::strerror(errno));
            return false;
        }
        struct stat st {};
        if (stat(dir.c_str(), &st) == 0 && o_.socket.empty() && (st.st_uid != getuid() || (st.st_mode & 077) != 0)) {
            log("refusing %s: it must belong to this user with mode 0700", dir);
            return false;
        }
    }
    // One router per socket: the lock is held for the router's lifetime.
    const std::string lock_path = socket_path_ + ".lock";
    lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        log("another buddy-router already serves %s", socket_path_);
        return false;
    }
    unlink(socket_path_.c_str());  // stale: its router is gone (we hold the lock)
    listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size());
    const mode_t old = umask(0177);
    const int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (rc != 0 || listen(listen_fd_, 256) != 0) {
        log("cannot listen on %s: %s", socket_path_, std::strerror(errno));
        return false;
    }
    chmod(socket_path_.c_str(), 0600);

    std::random_device rd;
    instance_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(getpid());

    // Cores: --router-cores, or the NIC-near spare cores of this router's share.
    const machine m = probe_machine();
    const node_plan plan = plan_node(m, o_.threads * o_.routers_per_node, 0, o_.cores);
    std::vector<int> cpus;
    if (!o_.cores.empty()) {
        for (unsigned t = 0; t < o_.threads; ++t) cpus.push_back(o_.cores[t % o_.cores.size()]);
    } else {
        for (unsigned t = 0; t < o_.threads; ++t) cpus.push_back(plan.router_cpus[o_.index * o_.threads + t]);
    }
    for (unsigned t = 0; t < o_.threads; ++t) {
        const std::string name = "router " + std::to_string(o_.index) + "/" + std::to_string(t) + " on " + node_;
        threads_.push_back(std::make_unique<router_thread>(t, name, cpus[t]));
        numa_.push_back(numa_node_of(cpus[t]));
    }
    sweep_segments();
    if (o_.verbose) {
        std::string numa;
        for (int n : numa_) numa += (numa.empty() ? "" : ",") + std::to_string(n);
        std::fprintf(stderr,
                     "buddy-router[%d]: socket %s, %u threads on cores %s (NUMA %s; %s), instance %s, %s\n",
                     static_cast<int>(getpid()), socket_path_.c_str(), o_.threads, format_cpu_list(cpus).c_str(),
                     numa.c_str(), o_.cores.empty() ? plan.why.c_str() : "--router-cores",
                     hex(instance_).c_str(), o_.service ? "service" : "exits after its last job");
    }
    return true;
}

// Segments left by a router that died between creating and handing them over.
void service::sweep_segments() {
    const std::string prefix = "buddy-" + std::to_string(getuid()) + "-";
    DIR* d = opendir("/dev/shm");
    if (!d) return;
    while (dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n.rfind(prefix, 0) != 0) continue;
        const unsigned long pid = std::strtoul(n.c_str() + prefix.size(), nullptr, 10);
        if (pid != 0 && !pid_alive(static_cast<std::uint32_t>(pid))) {
            shm_unlink(("/" + n).c_str());
            if (o_.verbose) log("removed orphaned segment /%s", n);
        }
    }
    closedir(d);
}

bool service::send(connection& c, const std::vector<std::byte>& m) {
    return ::send(c.fd, m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(m.size());
}

void service::reply_error(connection& c, ctl::type t, const std::string& why) {
    ctl::writer w(t, 1);
    w.put_text(why);
    send(c, w.done());
}

void service::accept_one() {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()) {
        log("refused a connection from another user");
        close(fd);
        return;
    }
    auto c = std::make_unique<connection>();
    c->fd = fd;
    c->pid = static_cast<std::uint32_t>(cred.pid);
    conns_[fd] = std::move(c);
}

void service::on_hello(connection& c, ctl::reader& r) {
    ctl::hello h{};
    if (c.hello || !r.get(h)) return reply_error(c, ctl::type::hello_reply, "malformed or repeated hello");
    using kr = knob_range;
    std::string bad;
    if (h.job == 0) bad = "job id 0";
    else if (h.job_size == 0 || h.rank >= h.job_size) bad = "rank " + std::to_string(h.rank) + " outside a job of " + std::to_string(h.job_size);
    else if (h.ring_bytes < kr::ring_bytes_min || h.ring_bytes > kr::ring_bytes_max || (h.ring_bytes & (h.ring_bytes - 1)) != 0)
        bad = "ring size " + std::to_string(h.ring_bytes) + " is not a power of two in range";
    else if (h.granularity < kr::granularity_min || h.granularity > kr::granularity_max) bad = "granularity out of range";
    else if (h.depth < kr::depth_min || h.depth > kr::depth_max) bad = "depth out of range";
    else if (h.max_message < kr::max_message_min || h.max_message > kr::max_message_max) bad = "max-message out of range";
    else if (wire::record_bytes_for(h.max_message) + wire::batch_header_bytes > ring::max_chunk_payload_for(h.ring_bytes))
        bad = "rings of " + std::to_string(h.ring_bytes) + " bytes cannot hold a message of max-message " +
              std::to_string(h.max_message) + " bytes (ring-bytes must be at least 2x max-message + 96)";
    auto it = jobs_.find(h.job);
    if (bad.empty() && it != jobs_.end()) {
        job_entry& j = it->second;
        if (j.s.size != h.job_size || j.s.granularity != h.granularity || j.s.depth != h.depth)
            bad = "job " + hex(h.job) + " is already known with other settings";
        else if (j.ranks.count(h.rank)) bad = "rank " + std::to_string(h.rank) + " of job " + hex(h.job) + " is already attached";
        else if (j.active) bad = "job " + hex(h.job) + " is already running; late ranks cannot join";
        else if (j.health->failed.load()) bad = "job " + hex(h.job) + " has failed: " + j.health->reason();
    }
    if (!bad.empty()) return reply_error(c, ctl::type::hello_reply, "buddy-router refuses: " + bad);

    const std::size_t one = ring::ring_bytes(h.ring_bytes);
    const std::size_t T = threads_.size();
    const std::string base = "/buddy-" + std::to_string(getuid()) + "-" + std::to_string(getpid()) + "-" +
                             hex(h.job) + "-" + std::to_string(h.rank);
    try {
        // Outbound rings: the router consumes them, so they go on its NUMA node;
        // inbound rings on the rank's.
        c.out = ring::shm_segment::create(base + "-out", one * T, numa_[0]);
        c.out_name = base + "-out";
        c.in = ring::shm_segment::create(base + "-in", one * T, h.numa_node);
        c.in_name = base + "-in";
        for (std::size_t t = 0; t < T; ++t) {
            ring::init_ring(static_cast<std::byte*>(c.out.data()) + t * one, h.ring_bytes);
            ring::init_ring(static_cast<std::byte*>(c.in.data()) + t * one, h.ring_bytes);
        }
    } catch (const std::exception& e) {
        if (!c.out_name.empty()) ring::shm_segment::unlink(c.out_name);
        c.out_name.clear();
        c.out = {};
        return reply_error(c, ctl::type::hello_reply, std::string("buddy-router cannot create rings: ") + e.what());
    }
    c.hello = true;
    c.job = h.job;
    c.rank = h.rank;
    c.pid = h.pid;
    c.ring_capacity = h.ring_bytes;
    job_entry& j = jobs_[h.job];
    j.s = job_settings{h.job, h.job_size, h.granularity, h.depth, h.max_message};
    j.ranks[h.rank] = &c;
    had_job_ = true;

    ctl::hello_reply rep{};
    rep.instance = instance_;
    rep.pid = static_cast<std::uint32_t>(getpid());
    rep.threads = static_cast<std::uint32_t>(T);
    ctl::set_name(rep.out_segment, c.out_name);
    ctl::set_name(rep.in_segment, c.in_name);
    ctl::set_name(rep.node, node_);
    ctl::writer w(ctl::type::hello_reply);
    w.put(rep);
    for (auto& t : threads_) w.put_blob(t->fwd().address());
    send(c, w.done());
    if (o_.verbose)
        log("job %s: %s attaching", hex(h.job), "rank " + std::to_string(h.rank) + " (pid " + std::to_string(h.pid) + ")");
}

void service::on_attached(connection& c) {
    if (!c.hello || c.attached) return reply_error(c, ctl::type::attached_reply, "attached before hello");
    // Both sides have mapped the rings: the names can go now, so nothing is
    // left behind whoever dies later.
    ring::shm_segment::unlink(c.out_name);
    ring::shm_segment::unlink(c.in_name);
    c.out_name.clear();
    c.in_name.clear();
    c.attached = true;
    ctl::writer w(ctl::type::attached_reply);
    send(c, w.done());
}

void service::on_table(connection& c, ctl::reader& r) {
    auto it = jobs_.find(c.job);
    if (!c.attached || it == jobs_.end()) return reply_error(c, ctl::type::table_reply, "table before attach");
    job_entry& j = it->second;
    ctl::table t{};
    if (!r.get(t) || t.job != c.job || t.ranks != j.s.size || t.routers == 0 || t.routers > t.ranks)
        return reply_error(c, ctl::type::table_reply, "malformed job table");
    if (j.active) return reply_error(c, ctl::type::table_reply, "the job's table was already given");
    auto table = std::make_shared<job_table>();
    table->rank_to_router.resize(t.ranks);
    for (auto& v : table->rank_to_router)
        if (!r.get(v) || v >= t.routers) return reply_error(c, ctl::type::table_reply, "malformed job table (ranks)");
    r.skip_pad();
    bool found_self = false;
    table->routers.resize(t.routers);
    for (std::uint32_t i = 0; i < t.routers; ++i) {
        auto& e = table->routers[i];
        std::uint32_t threads = 0, zero = 0;
        if (!r.get(e.instance) || !r.get(threads) || !r.get(zero) || threads == 0)
            return reply_error(c, ctl::type::table_reply, "malformed job table (routers)");
        for (std::uint32_t k = 0; k < threads; ++k) {
            std::span<const std::byte> a;
            if (!r.get_blob(a)) return reply_error(c, ctl::type::table_reply, "malformed job table (addresses)");
            e.addresses.emplace_back(a.begin(), a.end());
        }
        e.name = "buddy-router " + std::to_string(i) + " (instance " + hex(e.instance) + ")";
        if (e.instance == instance_) {
            table->self = i;
            found_self = true;
        }
    }
    if (!found_self) return reply_error(c, ctl::type::table_reply, "the job table does not list this router");
    for (std::uint32_t rank = 0; rank < t.ranks; ++rank) {
        const bool mine = table->rank_to_router[rank] == table->self;
        if (mine != (j.ranks.count(rank) != 0))
            return reply_error(c, ctl::type::table_reply,
                               "the job table disagrees with the ranks attached here (rank " + std::to_string(rank) + ")");
    }
    for (std::size_t th = 0; th < threads_.size(); ++th) {
        std::vector<forwarder::rank_rings> rings;
        for (auto& [rank, conn] : j.ranks) {
            const std::size_t one = ring::ring_bytes(conn->ring_capacity);
            rings.push_back({rank, static_cast<std::byte*>(conn->out.data()) + th * one,
                             static_cast<std::byte*>(conn->in.data()) + th * one});
        }
        threads_[th]->call([&](forwarder& f) { f.add_job(j.s, table, j.health, rings); });
    }
    j.active = true;
    ctl::writer w(ctl::type::table_reply);
    send(c, w.done());
    if (o_.verbose)
        log("job %s: routing, %s", hex(c.job),
            std::to_string(j.ranks.size()) + " local ranks, " + std::to_string(t.routers) + " routers in the job");
}

void service::notify_failure(job_entry& j, std::uint32_t dead_rank, const std::string& why) {
    if (j.failure_sent) return;
    j.failure_sent = true;
    ctl::job_failed f{dead_rank, 0};
    ctl::writer w(ctl::type::job_failed, 1);
    w.put(f);
    w.put_text(why);
    for (auto& [rank, conn] : j.ranks)
        if (rank != dead_rank) send(*conn, w.done());
}

// A rank leaves: detached (orderly) or died.  Its rings are dropped by every
// thread before their memory is unmapped.
void service::leave(connection& c, bool orderly, const std::string& why) {
    auto it = jobs_.find(c.job);
    if (c.hello && it != jobs_.end()) {
        job_entry& j = it->second;
        if (j.active)
            for (auto& t : threads_) t->call([&](forwarder& f) { f.remove_rank(c.job, c.rank); });
        j.ranks.erase(c.rank);
        if (!orderly) {
            log("job %s: %s", hex(c.job), why);
            j.health->fail(why);
            notify_failure(j, c.rank, why);
        }
        if (j.ranks.empty()) {
            if (j.active)
                for (auto& t : threads_) t->call([&](forwarder& f) { f.remove_job(c.job); });
            if (o_.verbose) log("job %s: ended%s", hex(c.job), j.health->failed.load() ? " (failed)" : "");
            jobs_.erase(it);
        }
    }
    if (!c.out_name.empty()) ring::shm_segment::unlink(c.out_name);
    if (!c.in_name.empty()) ring::shm_segment::unlink(c.in_name);
    c.out_name.clear();
    c.in_name.clear();
    c.out = {};
    c.in = {};
    c.hello = false;
}

void service::handle(connection& c, std::span<const std::byte> m) {
    ctl::reader r(m);
    ctl::message_header h{};
    if (!r.open(h)) {
        log("dropped a malformed control message (%s bytes)", std::to_string(m.size()));
        return;
    }
    switch (static_cast<ctl::type>(h.type)) {
        case ctl::type::hello: on_hello(c, r); break;
        case ctl::type::attached: on_attached(c); break;
        case ctl::type::table: on_table(c, r); break;
        case ctl::type::detach: {
            leave(c, true, {});
            c.detached = true;
            ctl::writer w(ctl::type::detach_reply);
            send(c, w.done());
            break;
        }
        default: log("dropped a control message of unexpected type %s", std::to_string(h.type));
    }
}

void service::close_connection(connection& c) {
    if (c.hello && !c.detached) {
        leave(c, false,
              "rank " + std::to_string(c.rank) + " (pid " + std::to_string(c.pid) + ") on " + node_ +
                  " died or closed its connection to buddy-router without detaching");
    } else {
        leave(c, true, {});
    }
    close(c.fd);
    conns_.erase(c.fd);
}

void service::check_jobs() {
    // Ranks whose process is gone while their socket lingers (held by a child).
    std::vector<connection*> dead;
    for (auto& [fd, c] : conns_)
        if (c->hello && !c->detached && !pid_alive(c->pid)) dead.push_back(c.get());
    for (connection* c : dead) close_connection(*c);
    // Failures found by router threads (bad data): tell the job's ranks.
    for (auto& [id, j] : jobs_)
        if (j.health->failed.load(std::memory_order_acquire) && !j.failure_sent)
            notify_failure(j, ctl::no_rank, "buddy-router on " + node_ + ": " + j.health->reason());
}

int service::run() {
    if (!setup()) return 3;
    const auto start = clock::now();
    auto last_check = start;
    while (g_signal.load() == 0) {
        std::vector<pollfd> fds;
        fds.push_back({listen_fd_, POLLIN, 0});
        for (auto& [fd, c] : conns_) fds.push_back({fd, POLLIN, 0});
        const int n = poll(fds.data(), fds.size(), 100);
        if (n < 0 && errno != EINTR) break;
        if (n > 0) {
            if (fds[0].revents & POLLIN) accept_one();
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (fds[i].revents == 0) continue;
                auto it = conns_.find(fds[i].fd);
                if (it == conns_.end()) continue;
                connection& c = *it->second;
                const ssize_t got = recv(c.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
                if (got > 0) {
                    handle(c, std::span<const std::byte>(buffer_.data(), static_cast<std::size_t>(got)));
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close_connection(c);
                }
            }
        }
        const auto now = clock::now();
        if (now - last_check > std::chrono::milliseconds(250)) {
            last_check = now;
            check_jobs();
        }
        if (!o_.service && jobs_.empty() && conns_.empty()) {
            if (had_job_) break;
            if (now - start > std::chrono::duration<double>(o_.idle_exit_seconds)) {
                if (o_.verbose) log("no job came within %s s: exiting", std::to_string(o_.idle_exit_seconds));
                break;
            }
        }
    }
    // Leaving: stop accepting first, then drop everyone (their ranks see the
    // socket close and end with an error naming this router).
    close(listen_fd_);
    unlink(socket_path_.c_str());
    while (!conns_.empty()) close_connection(*conns_.begin()->second);
    std::uint64_t local = 0, remote = 0, bad = 0;
    for (auto& t : threads_) {
        local += t->fwd().counters().records_local.load();
        remote += t->fwd().counters().records_remote.load();
        bad += t->fwd().counters().bad_batches.load() + t->fwd().counters().bad_records.load();
    }
    if (o_.verbose || bad != 0)
        std::fprintf(stderr, "buddy-router[%d]: exiting%s; records to local ranks %llu, to other routers %llu, bad input %llu\n",
                     static_cast<int>(getpid()), g_signal.load() ? " on a signal" : "",
                     static_cast<unsigned long long>(local), static_cast<unsigned long long>(remote),
                     static_cast<unsigned long long>(bad));
    threads_.clear();
    if (lock_fd_ >= 0) close(lock_fd_);
    return 0;
}

}  // namespace

int run_router(const router_options& o) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    try {
        service s(o);
        return s.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "buddy-router[%d]: fatal: %s\n", static_cast<int>(getpid()), e.what());
        return 2;
    }
}

}  // namespace buddy::router
