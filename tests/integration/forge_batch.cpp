// A forger for the cluster test: what a process on another host could do to a
// buddy-router without being part of its job.
//
//   forge_batch address SOCKET FILE
//       asks the router at SOCKET (on this host) for its worker addresses, as
//       a rank's hello does (for a job of its own, detached at once), and
//       writes thread 0's address to FILE;
//   forge_batch send FILE JOB SOURCE DEST
//       sends that router one well-formed batch claiming job JOB (hex) and
//       source router SOURCE, holding one record for rank DEST, over UCX from
//       this host, and waits (bounded, 10 s) until the endpoint is flushed:
//       the batch has reached the router's side, not only UCX's buffers here.
//
// The router delivers such a batch if it is one the route could have sent
// (source a real other router, records for ranks that source sends through
// this one); the cluster test forges one it must refuse.
//
// Exit 0 when done, 1 with a "forge_batch: fatal:" line otherwise.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "buddy/control/messages.hpp"
#include "buddy/control/unix_channel.hpp"
#include "buddy/transport/active_message.hpp"
#include "buddy/transport/endpoint.hpp"
#include "buddy/transport/worker.hpp"
#include "buddy/wire/batch.hpp"

namespace ctl = buddy::control;
using namespace buddy;

namespace {

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "forge_batch: fatal: %s\n", why.c_str());
    std::exit(1);
}

ctl::received ask(ctl::channel& c, std::span<const std::byte> m, ctl::type want) {
    const auto deadline = ctl::clock::now() + std::chrono::seconds(5);
    if (!c.send(m, deadline)) die("cannot send to the router");
    ctl::received r = c.receive(deadline);
    if (r.status != ctl::receive_status::message || r.header.type != static_cast<std::uint16_t>(want) ||
        r.header.status != 0)
        die(std::string("no ") + ctl::name_of(want) + " from the router");
    return r;
}

int address(const char* socket, const char* file) {
    auto c = ctl::unix_channel::connect(socket);
    if (!c) die(std::string("cannot connect to ") + socket);
    ctl::hello h{};
    h.job = 0x7e57f0f9e0000001ull;  // a job of the forger's own
    h.rank = 0;
    h.job_size = 1;
    h.pid = static_cast<std::uint32_t>(getpid());
    h.ring_bytes = 1 << 20;
    h.granularity = 4096;
    h.max_message = 1024;
    h.depth = 4;
    h.numa_node = -1;
    ctl::writer w(ctl::type::hello);
    w.put(h);
    ctl::received r = ask(*c, w.done(), ctl::type::hello_reply);
    ctl::hello_reply rep{};
    std::span<const std::byte> a;
    if (!r.body.get(rep) || rep.threads == 0 || !r.body.get_blob(a)) die("malformed hello reply");
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(a.data()), static_cast<std::streamsize>(a.size()));
    if (!out) die(std::string("cannot write ") + file);
    ask(*c, ctl::writer(ctl::type::detach).done(), ctl::type::detach_reply);
    std::printf("forge_batch: router at %s: worker address of %zu bytes\n", socket, a.size());
    return 0;
}

int send(const char* file, const char* job_hex, const char* source, const char* dest) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (raw.empty()) die(std::string("no address in ") + file);
    std::vector<std::byte> addr(raw.size());
    std::memcpy(addr.data(), raw.data(), raw.size());
    const std::uint64_t job = std::strtoull(job_hex, nullptr, 16);
    transport::worker w("forger");
    transport::endpoint ep(w, addr, "the router", transport::endpoint::failure_detection::by_caller);
    std::vector<std::byte> b(wire::batch_header_bytes + 16);
    wire::write_batch_header(b.data(), job, static_cast<std::uint32_t>(std::strtoul(source, nullptr, 10)), 1, 16);
    std::memset(wire::write_header(b.data() + wire::batch_header_bytes,
                                   static_cast<std::uint32_t>(std::strtoul(dest, nullptr, 10)), 0, 8),
                0, 8);
    struct outcome {
        bool done = false;
        ucs_status_t status = UCS_OK;
    } sent;
    transport::send_ticket ticket{[](void* o, ucs_status_t st) {
                                      static_cast<outcome*>(o)->done = true;
                                      static_cast<outcome*>(o)->status = st;
                                  },
                                  &sent};
    if (transport::send_batch(ep, b.data(), b.size(), &ticket) == transport::send_state::completed) sent.done = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!sent.done && std::chrono::steady_clock::now() < deadline) w.progress();
    if (!sent.done) die("the batch did not go out within 10 s");
    if (sent.status != UCS_OK) die(std::string("sending failed: ") + ucs_status_string(sent.status));
    // An eager send is "done" once UCX holds the data; a flush is done once
    // every operation on the endpoint has completed at the peer's side, so the
    // batch is not lost with the worker when this process exits.
    ucp_request_param_t fp{};
    void* flush = ucp_ep_flush_nbx(ep.handle(), &fp);
    if (UCS_PTR_IS_ERR(flush)) die(std::string("ucp_ep_flush_nbx: ") + ucs_status_string(UCS_PTR_STATUS(flush)));
    if (flush != nullptr) {
        while (ucp_request_check_status(flush) == UCS_INPROGRESS && std::chrono::steady_clock::now() < deadline)
            w.progress();
        const ucs_status_t st = ucp_request_check_status(flush);
        if (st == UCS_INPROGRESS) ucp_request_cancel(w.handle(), flush);
        ucp_request_free(flush);
        if (st != UCS_OK) die(std::string("flushing the batch to the router: ") + ucs_status_string(st));
    }
    ep.close(w, 1.0);
    std::printf("forge_batch: sent a batch claiming job %016llx from router %s\n",
                static_cast<unsigned long long>(job), source);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 4 && std::string(argv[1]) == "address") return address(argv[2], argv[3]);
        if (argc == 6 && std::string(argv[1]) == "send") return send(argv[2], argv[3], argv[4], argv[5]);
    } catch (const std::exception& e) {
        die(e.what());
    }
    std::fprintf(stderr, "usage: forge_batch address SOCKET FILE | forge_batch send FILE JOB SOURCE DEST\n");
    return 2;
}
