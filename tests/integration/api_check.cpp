// The API's promises, checked end to end under mpirun: containers arrive
// intact, function handlers work, a message at the size limit goes through, a
// larger one and a bad destination are refused at the call with a clear error,
// and none of that disturbs the messages around it.
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "buddy/comm.hpp"

namespace {
struct tally {
    std::uint64_t vectors = 0, strings = 0, spans = 0, functions = 0, big = 0, views = 0, grown = 0, errors = 0;
} g;

// Grown by a handler while the main loop keeps sending it: async() must encode
// what the vector holds when the record is written, never overrun its space.
std::vector<std::uint32_t> g_frontier;

void function_handler(buddy::comm&, int from, std::uint64_t check) {
    if (check == static_cast<std::uint64_t>(from) * 1000 + 7) ++g.functions;
    else ++g.errors;
}
}  // namespace

int main(int argc, char** argv) {
    buddy::comm world(&argc, &argv);
    if (argc > 1 && std::string(argv[1]) == "--throw") {
        // A handler that throws ends the job with its name and the reason.
        world.async((world.rank() + 1) % world.size(), [](buddy::comm&, int v) {
            if (v == 3) throw std::runtime_error("bad input 3");
        }, 3);
        world.barrier();
        return 0;
    }
    if (argc > 1 && std::string(argv[1]) == "--unwind") {
        // Rank 1 leaves the comm's scope by an exception that main() catches;
        // the others wait in barrier(): the job must end, not hang.
        try {
            buddy::comm inner(world.mpi_comm());
            if (inner.rank() == 1 % inner.size()) throw std::runtime_error("left early");
            inner.barrier();
        } catch (const std::exception& e) {
            std::printf("rank %d caught: %s\n", world.rank(), e.what());
        }
        world.barrier();
        return 0;
    }
    const int me = world.rank(), n = world.size();
    const int next = (me + 1) % n;
    const std::size_t max_message = world.settings().max_message;
    bool ok = true;
    auto expect = [&](bool cond, const char* what) {
        if (!cond) {
            std::printf("rank %d: FAILED: %s\n", me, what);
            ok = false;
        }
    };

    for (int i = 0; i < 100; ++i) {
        std::vector<std::int64_t> v(static_cast<std::size_t>(i + me));
        std::iota(v.begin(), v.end(), std::int64_t{-5});
        world.async(next, [](buddy::comm&, int len, const std::vector<std::int64_t>& got) {
            bool good = got.size() == static_cast<std::size_t>(len);
            for (std::size_t k = 0; good && k < got.size(); ++k) good = got[k] == static_cast<std::int64_t>(k) - 5;
            good ? ++g.vectors : ++g.errors;
        }, i + me, v);
        const std::string s = "message " + std::to_string(i) + " from " + std::to_string(me);
        world.async(next, [](buddy::comm&, const std::string& got, int from, int idx) {
            got == "message " + std::to_string(idx) + " from " + std::to_string(from) ? ++g.strings : ++g.errors;
        }, s, me, i);
        const double values[3] = {1.5, -2.25, static_cast<double>(i)};
        world.async(next, [](buddy::comm&, char tag, std::span<const double> got, int idx) {
            const bool good = tag == 'q' && got.size() == 3 && got[0] == 1.5 && got[1] == -2.25 &&
                              got[2] == static_cast<double>(idx) &&
                              reinterpret_cast<std::uintptr_t>(got.data()) % alignof(double) == 0;
            good ? ++g.spans : ++g.errors;
        }, 'q', std::span<const double>(values), i);
        world.async(next, function_handler, me, static_cast<std::uint64_t>(me) * 1000 + 7);
        const std::string text = "view " + std::to_string(i);
        world.async(next, [](buddy::comm&, std::string_view got, int idx) {
            got == "view " + std::to_string(idx) ? ++g.views : ++g.errors;
        }, std::string_view(text), i);
    }
    // Each delivery appends to the frontier the sender keeps sending.
    std::uint64_t frontier_sends = 0;
    for (int i = 0; i < 300; ++i) {
        world.async(next, [](buddy::comm&, const std::vector<std::uint32_t>& got) {
            bool good = true;
            for (std::size_t k = 0; k < got.size(); ++k) good = good && got[k] == k;
            good ? ++g.grown : ++g.errors;
            g_frontier.push_back(static_cast<std::uint32_t>(g_frontier.size()));
        }, g_frontier);
        ++frontier_sends;
    }

    // Exactly at the limit: the payload is the vector's 8-byte count plus its bytes.
    std::vector<char> at_limit(max_message - 8, 'z');
    world.async(next, [](buddy::comm&, const std::vector<char>& got) {
        bool good = true;
        for (char ch : got) good = good && ch == 'z';
        good ? ++g.big : ++g.errors;
    }, at_limit);

    std::string oversize_error, destination_error;
    try {
        std::vector<char> too_big(max_message - 7, 'x');
        world.async(next, [](buddy::comm&, const std::vector<char>&) { ++g.errors; }, too_big);
    } catch (const std::length_error& e) {
        oversize_error = e.what();
    }
    try {
        world.async(n, [](buddy::comm&, int) { ++g.errors; }, 1);
    } catch (const std::out_of_range& e) {
        destination_error = e.what();
    }
    world.barrier();

    expect(g.vectors == 100, "vectors delivered intact");
    expect(g.strings == 100, "strings delivered intact");
    expect(g.spans == 100, "spans delivered intact and aligned");
    expect(g.functions == 100, "function handlers ran");
    expect(g.big == 1, "a message of exactly the maximum size was delivered");
    expect(g.views == 100, "string_views delivered as text, not as pointers");
    expect(g.grown == frontier_sends, "a vector grown by handlers during async() arrived consistent");
    expect(g.errors == 0, "no handler saw a wrong value, no refused message was delivered");
    expect(oversize_error.find("exceeds the maximum message size") != std::string::npos, "oversize error text");
    expect(destination_error.find("outside the job") != std::string::npos, "destination error text");
    if (me == 0) {
        std::printf("oversize: %s\n", oversize_error.c_str());
        std::printf("destination: %s\n", destination_error.c_str());
    }
    int mine = ok ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, world.mpi_comm());
    if (me == 0) std::printf("api_check: %s\n", all ? "ok" : "FAILED");
    return all ? 0 : 1;
}
