// Placement host: rings to a buddy-router on this node.
//
// The rank has one outbound and one inbound ring per router thread.  The
// lanes async() writes into are windows into the chunk currently reserved in
// each outbound ring (lane = router thread = dest % threads); make_room()
// commits that chunk and reserves the next, flush() commits partial chunks.
// Inbound ring chunks are complete batches (batch header + records for this
// rank), copied out and handed to runtime::deliver().  Copying them out first
// frees the ring before handlers run, so a handler that waits for outbound
// room never waits on a ring it is itself holding.
//
// Setup: find (or start) the router over its Unix socket, get the rings,
// exchange router worker addresses with MPI, and let the first rank of each
// router hand the job's table to it.  Every wait checks that the router is
// alive (its socket and its pid) and ends with an error naming it.
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "buddy/launch/router_binary.hpp"
#include "buddy/ring/shm_segment.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/wire/control.hpp"
#include "runtime.hpp"

namespace buddy::detail {

namespace {

namespace ctl = wire::control;
using clock = std::chrono::steady_clock;

std::string dir_of(const std::string& p) {
    const auto at = p.rfind('/');
    return at == std::string::npos ? "." : p.substr(0, at);
}

class host_backend final : public backend {
public:
    explicit host_backend(runtime& rt) : rt_(rt), timeout_(rt.settings().timeout_seconds) {
        const config& cfg = rt.settings();
        MPI_Comm node;
        MPI_Comm_split_type(rt.mpi(), MPI_COMM_TYPE_SHARED, rt.rank(), MPI_INFO_NULL, &node);
        int local = 0, locals = 0;
        MPI_Comm_rank(node, &local);
        MPI_Comm_size(node, &locals);
        MPI_Comm_free(&node);
        local_index_ = static_cast<unsigned>(local);
        routers_ = cfg.routers_per_node;
        router_index_ = local_index_ % routers_;
        socket_path_ = ctl::socket_path_for(cfg.router_socket, static_cast<unsigned>(getuid()), router_index_);

        connect_and_hello(local_index_ < routers_);
        open_rings();
        request(ctl::writer(ctl::type::attached).done(), ctl::type::attached_reply);
        exchange_table();
        lane_of_.resize(static_cast<std::size_t>(rt.size()));
        for (std::size_t d = 0; d < lane_of_.size(); ++d) lane_of_[d] = static_cast<std::uint32_t>(d % threads_);
        // Outbound chunks: the granularity, within sensible bounds for a ring.
        chunk_target_ = std::clamp<std::size_t>(cfg.granularity, 4096, out_[0].max_chunk_payload() / 4);
        last_check_ = clock::now();
        // Nobody sends before every router of the job has its table.
        MPI_Barrier(rt.mpi());
    }

    ~host_backend() override {
        if (fd_ < 0) return;
        // Orderly goodbye; a router that does not answer is not waited for long.
        ctl::writer detach(ctl::type::detach);
        const std::vector<std::byte>& m = detach.done();
        if (::send(fd_, m.data(), m.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(m.size())) {
            pollfd p{fd_, POLLIN, 0};
            const auto deadline = clock::now() + std::chrono::seconds(2);
            while (clock::now() < deadline) {
                if (::poll(&p, 1, 100) > 0) {
                    std::vector<std::byte> buf(ctl::max_message_bytes);
                    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
                    ctl::reader r(std::span<const std::byte>(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0));
                    ctl::message_header h{};
                    if (n <= 0 || (r.open(h) && static_cast<ctl::type>(h.type) == ctl::type::detach_reply)) break;
                }
            }
        }
        ::close(fd_);
    }

    wire::window* lanes() noexcept override { return lanes_.data(); }
    const std::uint32_t* lane_of() const noexcept override { return lane_of_.data(); }

    void make_room(std::uint32_t lane, std::size_t bytes) override {
        if ((++room_calls_ & 63) == 0) check_router(false);
        const auto start = clock::now();
        unsigned idle = 0;
        bool counted = false;
        for (;;) {
            wire::window& w = lanes_[lane];
            if (begin_[lane] != nullptr) {
                // A handler run by the wait below may have opened this lane again.
                if (static_cast<std::size_t>(w.limit - w.cursor) >= bytes) return;
                commit(lane);
            }
            std::size_t granted = 0;
            std::byte* p = out_[lane].try_reserve(bytes, std::max(chunk_target_, bytes), granted);
            if (p != nullptr) {
                begin_[lane] = p;
                lanes_[lane] = wire::window{p, p + granted, 0};
                return;
            }
            if (bytes > out_[lane].max_chunk_payload())
                rt_.fatal("a record of " + std::to_string(bytes) + " bytes cannot fit a ring of " +
                          std::to_string(out_[lane].capacity()) + " bytes (raise BUDDY_RING_BYTES)");
            // The router has not drained this ring yet: run our own inbound
            // handlers meanwhile (what keeps two flooding ranks from deadlocking).
            if (!counted) {
                ++waits_;
                counted = true;
            }
            if (poll(rt_.handlers_allowed())) idle = 0;
            else rt_.idle_pause(idle);
            check_router(true);
            if (clock::now() - start > std::chrono::duration<double>(timeout_))
                rt_.fatal("waited " + std::to_string(timeout_) + " s for " + router_name_ +
                          " to drain an outbound ring (BUDDY_TIMEOUT); it is alive but makes no progress");
        }
    }

    void flush(engine::flush_reason why) override {
        for (std::uint32_t l = 0; l < threads_; ++l) {
            if (begin_[l] == nullptr || lanes_[l].records == 0) continue;
            commit(l);
            if (why == engine::flush_reason::barrier) ++flush_barrier_;
            else if (why == engine::flush_reason::idle) ++flush_idle_;
        }
    }

    bool has_unsent() const noexcept override {
        for (const wire::window& w : lanes_)
            if (w.records != 0) return true;
        return false;
    }

    std::uint64_t messages_written() const noexcept override {
        std::uint64_t n = committed_records_;
        for (const wire::window& w : lanes_) n += w.records;
        return n;
    }

    bool poll(bool run_handlers) override {
        if ((++poll_calls_ & 255) == 0) check_router(false);
        bool moved = false;
        if (run_handlers) {
            // Chunks queued by nested polls first (they are older).
            for (std::size_t n = queued_.size(); n > 0 && !queued_.empty(); --n) {
                std::vector<std::byte> b = std::move(queued_.front());
                queued_.pop_front();
                deliver(b);
                moved = true;
            }
        }
        for (std::uint32_t t = 0; t < threads_; ++t) {
            const std::span<const std::byte> c = in_[t].front();
            if (c.data() == nullptr) {
                if (in_[t].corrupted()) rt_.fatal("the inbound ring from " + router_name_ + " is corrupted");
                continue;
            }
            std::vector<std::byte> b = take_buffer();
            b.assign(c.begin(), c.end());
            in_[t].pop();
            moved = true;
            if (run_handlers && queued_.empty()) {
                deliver(b);
            } else {
                queued_.push_back(std::move(b));
            }
        }
        return moved;
    }

    void drain() override {
        flush(engine::flush_reason::barrier);
        // Wait (bounded) until the router has taken everything we published.
        const auto start = clock::now();
        unsigned idle = 0;
        for (;;) {
            bool empty = true;
            for (std::uint32_t t = 0; t < threads_; ++t) {
                auto* h = static_cast<ring::ring_header*>(out_ring(t));
                const auto head = std::atomic_ref<std::uint64_t>(h->head).load(std::memory_order_acquire);
                const auto tail = std::atomic_ref<std::uint64_t>(h->tail).load(std::memory_order_acquire);
                if (head != tail) empty = false;
            }
            if (empty) return;
            if (poll(true)) idle = 0;
            else rt_.idle_pause(idle);
            check_router(true);
            if (clock::now() - start > std::chrono::duration<double>(timeout_))
                rt_.fatal("shutdown: " + router_name_ + " did not drain the outbound rings within " +
                          std::to_string(timeout_) + " s");
        }
    }

    void add_counters(counters& c) const noexcept override {
        std::uint64_t open_bytes = 0;
        for (std::uint32_t l = 0; l < threads_; ++l)
            if (begin_[l]) open_bytes += static_cast<std::uint64_t>(lanes_[l].cursor - begin_[l]);
        c.messages_sent += messages_written();
        c.bytes_sent += committed_bytes_ + open_bytes;
        c.batches_sent += chunks_;
        c.batch_bytes_sent += committed_bytes_;
        c.flush_full += chunks_ - flush_barrier_ - flush_idle_;
        c.flush_barrier += flush_barrier_;
        c.flush_idle += flush_idle_;
        c.backpressure_waits += waits_;
    }

    std::string describe() const override {
        return "router: host, " + router_name_ + ", socket " + socket_path_ + ", " + std::to_string(threads_) +
               " router threads (lane = dest % " + std::to_string(threads_) + "), rings of " +
               std::to_string(ring_capacity_) + " bytes, outbound chunks of " + std::to_string(chunk_target_) +
               " bytes, router " + std::to_string(router_index_) + " of " + std::to_string(routers_) +
               " on this node, " + std::to_string(job_routers_) + " routers in the job";
    }

private:
    // ------------------------------------------------------------ setup

    bool try_connect() {
        const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (socket_path_.size() >= sizeof a.sun_path)
            throw config_error("buddy: router socket path " + socket_path_ + " is too long");
        std::memcpy(a.sun_path, socket_path_.c_str(), socket_path_.size());
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            return false;
        }
        fd_ = fd;
        return true;
    }

    void spawn_router() {
        const std::string bin = launch::find_router_binary(rt_.settings().router_bin);
        if (bin.empty())
            rt_.fatal("no buddy-router listens on " + socket_path_ +
                      " and none was found to start (set BUDDY_ROUTER_BIN, put buddy-router next to the "
                      "application or on PATH, or start one: buddy-router --socket " + socket_path_ + ")");
        const std::string threads = std::to_string(rt_.settings().router_threads);
        const std::string index = std::to_string(router_index_);
        const std::string count = std::to_string(routers_);
        const std::string& cores = rt_.settings().router_cores;
        const std::string log = socket_path_ + ".log";
        std::vector<std::string> args = {bin, "--socket", socket_path_, "--threads", threads, "--index", index,
                                         "--routers-per-node", count};
        if (!cores.empty()) {
            args.push_back("--router-cores");
            args.push_back(cores);
        }
        if (rt_.settings().verbose) args.push_back("--verbose");
        // The socket's directory (0700) must exist for the log.
        const std::string dir = dir_of(socket_path_);
        ::mkdir(dir.c_str(), 0700);
        const pid_t child = ::fork();
        if (child < 0) rt_.fatal(std::string("fork for buddy-router failed: ") + std::strerror(errno));
        if (child == 0) {
            // Detach twice: the router outlives this rank and is nobody's zombie.
            ::setsid();
            if (::fork() != 0) ::_exit(0);
            const int nul = ::open("/dev/null", O_RDONLY);
            const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (nul >= 0) ::dup2(nul, 0);
            if (out >= 0) {
                ::dup2(out, 1);
                ::dup2(out, 2);
            }
            ::closefrom(3);
            cpu_set_t all;  // the rank's binding must not confine the router
            CPU_ZERO(&all);
            for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
            ::sched_setaffinity(0, sizeof all, &all);
            std::vector<char*> argv;
            for (auto& s : args) argv.push_back(s.data());
            argv.push_back(nullptr);
            ::execv(bin.c_str(), argv.data());
            std::fprintf(stderr, "buddy: cannot run %s: %s\n", bin.c_str(), std::strerror(errno));
            ::_exit(127);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        spawned_ = bin;
    }

    // Connects (starting the router if this rank is its node's first and none
    // listens) and says hello.  A router that is just exiting drops the
    // connection: try again.
    void connect_and_hello(bool spawner) {
        const double limit = std::min(timeout_, 30.0);
        const auto start = clock::now();
        auto last_spawn = start - std::chrono::hours(1);
        for (;;) {
            if (try_connect()) {
                if (hello()) return;
                ::close(fd_);
                fd_ = -1;
            } else if (spawner && clock::now() - last_spawn > std::chrono::seconds(2)) {
                spawn_router();
                last_spawn = clock::now();
            }
            if (clock::now() - start > std::chrono::duration<double>(limit))
                rt_.fatal("no buddy-router answered on " + socket_path_ + " within " + std::to_string(limit) + " s" +
                          (spawned_.empty() ? std::string(" (the node's first rank starts one)")
                                            : " (started " + spawned_ + "; see " + socket_path_ + ".log)"));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    // Sends a request and waits (bounded) for its reply; fatal on refusal.
    // Returns the reply body reader over reply_.
    ctl::reader request(const std::vector<std::byte>& m, ctl::type want, bool tolerate_eof = false) {
        if (::send(fd_, m.data(), m.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(m.size())) {
            if (tolerate_eof) return ctl::reader();
            rt_.fatal("cannot reach " + router_label() + ": " + std::strerror(errno));
        }
        const auto start = clock::now();
        for (;;) {
            pollfd p{fd_, POLLIN, 0};
            const int n = ::poll(&p, 1, 100);
            if (n > 0) {
                reply_.resize(ctl::max_message_bytes);
                const ssize_t got = ::recv(fd_, reply_.data(), reply_.size(), 0);
                if (got <= 0) {
                    if (tolerate_eof) return ctl::reader();
                    rt_.fatal(router_label() + " closed the connection during setup (it died?)");
                }
                reply_.resize(static_cast<std::size_t>(got));
                ctl::reader r(reply_);
                ctl::message_header h{};
                if (!r.open(h)) rt_.fatal("malformed reply from " + router_label());
                const auto t = static_cast<ctl::type>(h.type);
                if (t == ctl::type::job_failed || (t == want && h.status != 0)) {
                    ctl::job_failed f{};
                    if (t == ctl::type::job_failed) r.get(f);
                    rt_.fatal(router_label() + ": " + r.rest_text());
                }
                if (t == want) return r;
                rt_.fatal("unexpected " + std::string(ctl::name_of(t)) + " from " + router_label());
            }
            if (clock::now() - start > std::chrono::duration<double>(timeout_))
                rt_.fatal(router_label() + " did not answer " + ctl::name_of(want) + " within " +
                          std::to_string(timeout_) + " s (BUDDY_TIMEOUT)");
        }
    }

    std::string router_label() const {
        return router_name_.empty() ? "buddy-router at " + socket_path_ : router_name_;
    }

    bool hello() {
        const config& cfg = rt_.settings();
        ctl::hello h{};
        h.job = rt_.job();
        h.rank = static_cast<std::uint32_t>(rt_.rank());
        h.job_size = static_cast<std::uint32_t>(rt_.size());
        h.local_index = local_index_;
        h.pid = static_cast<std::uint32_t>(getpid());
        h.ring_bytes = cfg.ring_bytes;
        h.granularity = cfg.granularity;
        h.max_message = cfg.max_message;
        h.depth = cfg.depth;
        const int cpu = sched_getcpu();
        h.numa_node = (numa_available() >= 0 && cpu >= 0) ? numa_node_of_cpu(cpu) : -1;
        ctl::writer w(ctl::type::hello);
        w.put(h);
        ctl::reader r = request(w.done(), ctl::type::hello_reply, true);
        ctl::hello_reply rep{};
        if (!r.get(rep)) return false;  // EOF: the router was exiting
        if (rep.threads == 0) rt_.fatal("malformed hello reply from " + router_label());
        threads_ = rep.threads;
        router_pid_ = rep.pid;
        instance_ = rep.instance;
        node_ = ctl::get_name(rep.node);
        out_name_ = ctl::get_name(rep.out_segment);
        in_name_ = ctl::get_name(rep.in_segment);
        addresses_ = ctl::writer(ctl::type::hello);
        for (std::uint32_t t = 0; t < threads_; ++t) {
            std::span<const std::byte> a;
            if (!r.get_blob(a)) rt_.fatal("malformed hello reply from " + router_label());
            addresses_.put_blob(a);
        }
        ring_capacity_ = cfg.ring_bytes;
        router_name_ = "buddy-router (pid " + std::to_string(router_pid_) + ") on node " + node_;
        return true;
    }

    void open_rings() {
        try {
            out_seg_ = ring::shm_segment::open(out_name_);
            in_seg_ = ring::shm_segment::open(in_name_);
            const std::size_t one = ring::ring_bytes(ring_capacity_);
            if (out_seg_.size() < one * threads_ || in_seg_.size() < one * threads_)
                rt_.fatal("the ring segments of " + router_name_ + " are too small");
            for (std::uint32_t t = 0; t < threads_; ++t) {
                ring::check_ring(out_ring(t), one);
                ring::check_ring(static_cast<std::byte*>(in_seg_.data()) + t * one, one);
                out_.emplace_back(out_ring(t));
                in_.emplace_back(static_cast<std::byte*>(in_seg_.data()) + t * one);
            }
        } catch (const std::exception& e) {
            rt_.fatal("cannot attach the rings of " + router_name_ + ": " + e.what());
        }
        lanes_.assign(threads_, wire::window{});
        begin_.assign(threads_, nullptr);
    }

    void* out_ring(std::uint32_t t) const {
        return static_cast<std::byte*>(out_seg_.data()) + t * ring::ring_bytes(ring_capacity_);
    }

    // Every rank learns every router's addresses; the first rank of each router
    // hands the table to it.
    void exchange_table() {
        const int n = rt_.size();
        const MPI_Comm c = rt_.mpi();
        std::vector<std::uint64_t> instances(static_cast<std::size_t>(n));
        MPI_Allgather(&instance_, 1, MPI_UINT64_T, instances.data(), 1, MPI_UINT64_T, c);
        std::vector<std::uint32_t> rank_to_router(static_cast<std::size_t>(n));
        std::vector<int> leader_of;  // router index -> its first rank
        std::map<std::uint64_t, std::uint32_t> index_of;
        for (int r = 0; r < n; ++r) {
            auto [it, fresh] = index_of.emplace(instances[r], static_cast<std::uint32_t>(leader_of.size()));
            if (fresh) leader_of.push_back(r);
            rank_to_router[static_cast<std::size_t>(r)] = it->second;
        }
        const bool leader = leader_of[rank_to_router[static_cast<std::size_t>(rt_.rank())]] == rt_.rank();
        job_routers_ = static_cast<std::uint32_t>(leader_of.size());

        // Per router: instance, threads, then the address blobs (only leaders contribute).
        ctl::writer mine(ctl::type::table);  // used as a byte builder; header stripped below
        if (leader) {
            mine.put(instance_).put(threads_).put(std::uint32_t{0});
            const auto& blobs = addresses_.done();
            mine.put_bytes(std::span<const std::byte>(blobs).subspan(sizeof(ctl::message_header)));
        }
        const std::vector<std::byte>& built = mine.done();
        const std::span<const std::byte> section(built.data() + sizeof(ctl::message_header),
                                                 built.size() - sizeof(ctl::message_header));
        const int len = static_cast<int>(section.size());
        std::vector<int> lens(static_cast<std::size_t>(n)), offs(static_cast<std::size_t>(n) + 1, 0);
        MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, c);
        for (int r = 0; r < n; ++r) offs[static_cast<std::size_t>(r) + 1] = offs[static_cast<std::size_t>(r)] + lens[static_cast<std::size_t>(r)];
        std::vector<std::byte> all(static_cast<std::size_t>(offs.back()));
        MPI_Allgatherv(section.data(), len, MPI_BYTE, all.data(), lens.data(), offs.data(), MPI_BYTE, c);
        if (!leader) return;

        ctl::writer w(ctl::type::table);
        w.put(ctl::table{rt_.job(), job_routers_, static_cast<std::uint32_t>(n)});
        for (std::uint32_t v : rank_to_router) w.put(v);
        w.pad();
        for (int r : leader_of)  // router order = order of their first ranks
            w.put_bytes(std::span<const std::byte>(all.data() + offs[static_cast<std::size_t>(r)],
                                                   static_cast<std::size_t>(lens[static_cast<std::size_t>(r)])));
        request(w.done(), ctl::type::table_reply);
    }

    // ------------------------------------------------------------ data path

    void commit(std::uint32_t lane) {
        wire::window& w = lanes_[lane];
        const auto used = static_cast<std::size_t>(w.cursor - begin_[lane]);
        if (w.records != 0) {
            out_[lane].commit(used);
            committed_records_ += w.records;
            committed_bytes_ += used;
            ++chunks_;
        } else {
            out_[lane].commit(0);
        }
        begin_[lane] = nullptr;
        w = wire::window{};
    }

    std::vector<std::byte> take_buffer() {
        if (free_.empty()) return {};
        std::vector<std::byte> b = std::move(free_.back());
        free_.pop_back();
        return b;
    }

    void deliver(std::vector<std::byte>& b) {
        rt_.deliver(std::span<const std::byte>(b.data(), b.size()), router_name_.c_str());
        if (free_.size() < 16) free_.push_back(std::move(b));
    }

    // Is the router still there?  At most every 50 ms (5 ms inside waits).
    void check_router(bool waiting) {
        const auto t = clock::now();
        if (t - last_check_ < std::chrono::milliseconds(waiting ? 5 : 50)) return;
        last_check_ = t;
        std::byte buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            rt_.fatal(router_name_ + " (socket " + socket_path_ + ") died or closed the connection");
        if (n > 0) {
            ctl::reader r(std::span<const std::byte>(buf, static_cast<std::size_t>(n)));
            ctl::message_header h{};
            ctl::job_failed f{};
            if (r.open(h) && static_cast<ctl::type>(h.type) == ctl::type::job_failed && r.get(f))
                rt_.fatal("the job failed: " + r.rest_text() + " (reported by " + router_name_ + ")");
            rt_.fatal("unexpected control message from " + router_name_);
        }
        if (::kill(static_cast<pid_t>(router_pid_), 0) != 0 && errno == ESRCH)
            rt_.fatal(router_name_ + " (socket " + socket_path_ + ") died");
    }

    runtime& rt_;
    double timeout_;
    unsigned local_index_ = 0, routers_ = 1, router_index_ = 0;
    std::string socket_path_, spawned_;
    int fd_ = -1;
    std::uint32_t threads_ = 0, router_pid_ = 0, job_routers_ = 0;
    std::uint64_t instance_ = 0;
    std::string node_, out_name_, in_name_, router_name_;
    ctl::writer addresses_{ctl::type::hello};  // our router's address blobs (after a dummy header)
    std::vector<std::byte> reply_;
    std::size_t ring_capacity_ = 0, chunk_target_ = 4096;
    ring::shm_segment out_seg_, in_seg_;
    std::vector<ring::producer> out_;
    std::vector<ring::consumer> in_;
    std::vector<wire::window> lanes_;
    std::vector<std::byte*> begin_;
    std::vector<std::uint32_t> lane_of_;
    std::deque<std::vector<std::byte>> queued_;
    std::vector<std::vector<std::byte>> free_;
    std::uint64_t committed_records_ = 0, committed_bytes_ = 0, chunks_ = 0;
    std::uint64_t flush_barrier_ = 0, flush_idle_ = 0, waits_ = 0;
    std::uint64_t room_calls_ = 0, poll_calls_ = 0;
    clock::time_point last_check_ = clock::now();
};

}  // namespace

std::unique_ptr<backend> make_host_backend(runtime& rt) { return std::make_unique<host_backend>(rt); }

}  // namespace buddy::detail
