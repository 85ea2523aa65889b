// What test_isolation.sh runs as a second user (and as the first): the
// library's own socket and segment code, so the test checks what a rank does.
//
//   isolation_probe connect PATH          connect to a router socket
//   isolation_probe hello PATH JOB RANK [SIZE]  connect and say hello for that job (hex id), rank, job size
//   isolation_probe create NAME           create a segment, keep it until stdin closes
//   isolation_probe open NAME             open (map) a segment
//
// Prints one line: "ok: ..." (exit 0) or "refused: <the library's message>" (exit 1).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "buddy/control/messages.hpp"
#include "buddy/control/unix_channel.hpp"
#include "buddy/ring/shm_segment.hpp"

namespace ctl = buddy::control;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: isolation_probe connect|hello|create|open ARG...\n");
        return 2;
    }
    const std::string what = argv[1], arg = argv[2];
    try {
        if (what == "connect" || what == "hello") {
            auto ch = ctl::unix_channel::connect(arg);
            if (!ch) {
                std::printf("refused: nothing listens on %s\n", arg.c_str());
                return 1;
            }
            if (what == "connect") {
                std::printf("ok: connected to %s\n", arg.c_str());
                return 0;
            }
            if (argc < 5) return 2;
            ctl::hello h{};
            h.job = std::strtoull(argv[3], nullptr, 16);
            h.rank = static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10));
            h.job_size = argc > 5 ? static_cast<std::uint32_t>(std::strtoul(argv[5], nullptr, 10)) : h.rank + 1;
            h.pid = static_cast<std::uint32_t>(getpid());
            h.ring_bytes = 4 << 20;
            h.granularity = 32 << 10;
            h.max_message = 1 << 20;
            h.depth = 4;
            h.numa_node = -1;
            ctl::writer w(ctl::type::hello);
            w.put(h);
            const auto deadline = ctl::clock::now() + std::chrono::seconds(5);
            if (!ch->send(w.done(), deadline)) {
                std::printf("refused: the router closed the connection\n");
                return 1;
            }
            ctl::received r = ch->receive(deadline);
            if (r.status != ctl::receive_status::message) {
                std::printf("refused: no reply (the router closed the connection)\n");
                return 1;
            }
            if (r.header.status != 0) {
                std::printf("refused: %s\n", r.body.rest_text().c_str());
                return 1;
            }
            std::printf("ok: hello accepted\n");
            return 0;
        }
        if (what == "create") {
            buddy::ring::shm_segment s = buddy::ring::shm_segment::create(arg, 4096);
            std::printf("ok: created %s\n", arg.c_str());
            std::fflush(stdout);
            char c;
            while (::read(0, &c, 1) > 0) {
            }
            buddy::ring::shm_segment::unlink(arg);
            return 0;
        }
        if (what == "open") {
            buddy::ring::shm_segment s = buddy::ring::shm_segment::open(arg);
            std::printf("ok: mapped %s (%zu bytes)\n", arg.c_str(), s.size());
            return 0;
        }
    } catch (const std::exception& e) {
        std::printf("refused: %s\n", e.what());
        return 1;
    }
    return 2;
}
