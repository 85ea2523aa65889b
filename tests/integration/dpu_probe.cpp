// A rank's control session over TCP without the rest of a rank (no MPI, no
// data path): what test_dpu_control.sh uses to present chosen secrets to a
// TCP router and to wait on it like a rank that is set up.
//
//   dpu_probe ADDRESS JOB RANK SIZE SECRET [WAIT]
//
// ADDRESS tcp://HOST:PORT; JOB in hex; SECRET up to 64 hex digits (the rest
// zero) or "none".  Exit status: 0 accepted (and, with WAIT, still connected
// after WAIT seconds, then detached), 1 refused, 2 not reachable, 3 the
// router closed the connection while waiting, 4 job_failed while waiting.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "buddy/control/bodies.hpp"
#include "buddy/control/messages.hpp"
#include "buddy/control/tcp_channel.hpp"

namespace ctl = buddy::control;

namespace {

int usage() {
    std::fprintf(stderr, "usage: dpu_probe tcp://HOST:PORT JOB RANK SIZE SECRET|none [WAIT]\n");
    return 64;
}

bool secret_from_hex(const std::string& text, std::uint8_t (&out)[ctl::secret_bytes]) {
    std::fill(std::begin(out), std::end(out), std::uint8_t{0});
    if (text == "none") return true;
    if (text.size() > 2 * ctl::secret_bytes || text.size() % 2 != 0) return false;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        char* end = nullptr;
        const std::string byte = text.substr(i, 2);
        const unsigned long v = std::strtoul(byte.c_str(), &end, 16);
        if (*end != '\0') return false;
        out[i / 2] = static_cast<std::uint8_t>(v);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6 && argc != 7) return usage();
    const std::string address = argv[1];
    ctl::hello h{};
    h.job = std::strtoull(argv[2], nullptr, 16);
    h.rank = static_cast<std::uint32_t>(std::atoi(argv[3]));
    h.job_size = static_cast<std::uint32_t>(std::atoi(argv[4]));
    if (!secret_from_hex(argv[5], h.secret)) return usage();
    const double wait = argc == 7 ? std::atof(argv[6]) : 0.0;
    h.pid = static_cast<std::uint32_t>(getpid());
    h.ring_bytes = 1u << 20;
    h.granularity = 32 << 10;
    h.max_message = 64 << 10;
    h.depth = 4;
    h.numa_node = -1;

    std::string why;
    std::unique_ptr<ctl::tcp_channel> c;
    try {
        c = ctl::tcp_channel::connect(ctl::parse_tcp_address(address, false),
                                      ctl::clock::now() + std::chrono::seconds(5), why);
    } catch (const ctl::control_error& e) {
        why = e.what();
    }
    if (!c) {
        std::printf("unreachable: %s: %s\n", address.c_str(), why.c_str());
        return 2;
    }
    ctl::writer w(ctl::type::hello);
    w.put(h);
    if (!c->send(w.done(), ctl::clock::now() + std::chrono::seconds(5))) {
        std::printf("unreachable: %s: the hello could not be sent\n", address.c_str());
        return 2;
    }
    ctl::received r = c->receive(ctl::clock::now() + std::chrono::seconds(10));
    if (r.status != ctl::receive_status::message || static_cast<ctl::type>(r.header.type) != ctl::type::hello_reply) {
        std::printf("unreachable: %s: no hello reply\n", address.c_str());
        return 2;
    }
    if (r.header.status != 0) {
        std::printf("refused: %s\n", r.body.rest_text().c_str());
        return 1;
    }
    ctl::hello_reply_body rep;
    if (std::string bad = ctl::read_hello_reply(r.body, rep); !bad.empty()) {
        std::printf("malformed hello reply: %s\n", bad.c_str());
        return 2;
    }
    std::printf("ok: hello accepted by buddy-router (pid %u) on %s at %s\n", rep.head.pid,
                ctl::get_name(rep.head.node).c_str(), address.c_str());
    std::fflush(stdout);
    if (wait > 0) {
        // Waits as a set-up rank does: for job_failed or the close.
        const auto until = ctl::clock::now() + std::chrono::duration_cast<ctl::clock::duration>(
                                                   std::chrono::duration<double>(wait));
        for (;;) {
            ctl::received m = c->receive(until);
            if (m.status == ctl::receive_status::timed_out) break;
            if (m.status == ctl::receive_status::closed) {
                std::printf("ended: buddy-router at %s closed the connection (it died?)\n", address.c_str());
                return 3;
            }
            if (m.status == ctl::receive_status::message && static_cast<ctl::type>(m.header.type) == ctl::type::job_failed) {
                ctl::job_failed f{};
                m.body.get(f);
                std::printf("ended: job failed: %s\n", m.body.rest_text().c_str());
                return 4;
            }
        }
        std::printf("ok: still connected after %g s\n", wait);
    }
    (void)c->send(ctl::writer(ctl::type::detach).done(), ctl::clock::now() + std::chrono::seconds(2));
    (void)c->receive(ctl::clock::now() + std::chrono::seconds(2));
    return 0;
}
