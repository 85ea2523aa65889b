// Prints docs/perf.md's memory table: worst-case buffer bytes per rank and
// per router (lib/config's memory_model) for 2 to 100,000 ranks, at the
// defaults and at the granularity/depth given.
//   memory_model [--granularity 32K] [--depth 4] [--ranks-per-node 64]
#include <CLI/CLI.hpp>

#include <cstdio>

#include "buddy/config/knobs.hpp"
#include "buddy/config/memory_model.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"memory_model: worst-case buffer memory per rank and router, 2 to 100,000 ranks"};
    std::string granularity = "32K";
    std::uint32_t depth = 4;
    std::uint64_t per_node = 64;
    cli.add_option("--granularity", granularity, "batch size");
    cli.add_option("--depth", depth, "batches in flight per hop")->check(CLI::Range(1u, 1024u));
    cli.add_option("--ranks-per-node", per_node, "ranks per node")->check(CLI::Range(1ull, 1ull << 20));
    CLI11_PARSE(cli, argc, argv);
    buddy::config c;
    try {
        c.granularity = buddy::parse_bytes(granularity, "granularity");
    } catch (const buddy::config_error& e) {
        std::fprintf(stderr, "memory_model: fatal: %s\n", e.what());
        return 2;
    }
    c.depth = depth;
    namespace mm = buddy::memory_model;
    std::printf("granularity %s, depth %u, %llu ranks per node, ring-bytes %s, 1 router per node, 1 thread\n\n",
                buddy::knobs::format_bytes(c.granularity).c_str(), depth, static_cast<unsigned long long>(per_node),
                buddy::knobs::format_bytes(c.ring_bytes).c_str());
    std::printf("| ranks | inproc: batches per rank | inproc: node rings per rank | inproc: per node | host: rings per "
                "rank | host: batches per router |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (std::uint64_t ranks : {2ull, 16ull, 64ull, 256ull, 1024ull, 4096ull, 16384ull, 65536ull, 100000ull}) {
        const mm::job_shape shape{ranks, std::min(per_node, ranks)};
        c.where = buddy::placement::inproc;
        const mm::estimate in = mm::worst_case(c, shape);
        c.where = buddy::placement::host;
        const mm::estimate h = mm::worst_case(c, shape);
        std::printf("| %llu | %s | %s | %s | %s | %s |\n", static_cast<unsigned long long>(ranks),
                    mm::human_bytes(in.rank_bytes).c_str(), mm::human_bytes(in.node_ring_bytes).c_str(),
                    mm::human_bytes((in.rank_bytes + in.node_ring_bytes) * shape.ranks_per_node).c_str(),
                    mm::human_bytes(h.rank_bytes).c_str(), mm::human_bytes(h.router_bytes).c_str());
    }
    return 0;
}
