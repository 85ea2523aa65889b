// Router forwarding rate per router thread: 16-byte records (8-byte header +
// 8-byte payload), ring to ring on one node, no network.  One forwarder (one
// router thread's data path) serves `ranks` local ranks; each rank's outbound
// ring gets chunks of records for all ranks, and only the time spent inside
// forwarder::step() is counted (filling outbound rings and draining inbound
// rings is the ranks' work).  Prints the median of 5 runs.
//
//   router_forward [ranks=4] [records-per-run=50000000] [granularity=32768]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "buddy/router/forwarder.hpp"

using namespace buddy;

int main(int argc, char** argv) {
    const std::uint32_t ranks = argc > 1 ? static_cast<std::uint32_t>(std::atoi(argv[1])) : 4;
    const std::uint64_t total = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 50'000'000ull;
    const std::size_t granularity = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 32768;
    constexpr std::size_t cap = 1 << 22;
    constexpr std::size_t chunk_records = 2048;  // 32 KiB outbound chunks
    constexpr std::uint64_t job = 0xbeef;

    std::vector<double> rates;
    for (int run = 0; run < 5; ++run) {
        router::forwarder f(0, "bench");
        std::vector<void*> outs(ranks), ins(ranks);
        std::vector<ring::producer> prod;
        std::vector<ring::consumer> cons;
        std::vector<router::forwarder::rank_rings> rings;
        for (std::uint32_t r = 0; r < ranks; ++r) {
            outs[r] = std::aligned_alloc(64, ring::ring_bytes(cap));
            ins[r] = std::aligned_alloc(64, ring::ring_bytes(cap));
            ring::init_ring(outs[r], cap);
            ring::init_ring(ins[r], cap);
            rings.push_back({r, outs[r], ins[r]});
        }
        for (std::uint32_t r = 0; r < ranks; ++r) {
            prod.emplace_back(outs[r]);
            cons.emplace_back(ins[r]);
        }
        auto table = std::make_shared<router::job_table>();
        table->rank_to_router.assign(ranks, 0);
        table->routers.resize(1);
        table->routers[0].addresses.push_back(f.address());
        f.add_job(router::job_settings{job, ranks, granularity, 4, 1024}, table,
                  std::make_shared<router::job_health>(), rings);

        std::uint64_t produced = 0, delivered = 0, seq = 0;
        std::chrono::nanoseconds in_router{0};
        while (delivered < total) {
            // Ranks: fill outbound rings while there is room.
            for (std::uint32_t r = 0; r < ranks && produced < total; ++r) {
                std::size_t granted = 0;
                std::byte* p = prod[r].try_reserve(chunk_records * 16, chunk_records * 16, granted);
                if (!p) continue;
                for (std::size_t i = 0; i < chunk_records; ++i, ++seq) {
                    std::byte* body = wire::write_header(p + i * 16, static_cast<std::uint32_t>(seq % ranks), 1, 8);
                    std::memcpy(body, &seq, 8);
                }
                prod[r].commit(chunk_records * 16);
                produced += chunk_records;
            }
            const auto t0 = std::chrono::steady_clock::now();
            f.step();
            in_router += std::chrono::steady_clock::now() - t0;
            // Ranks: take their batches.
            for (std::uint32_t r = 0; r < ranks; ++r) {
                for (auto c = cons[r].front(); c.data() != nullptr; c = cons[r].front()) {
                    wire::batch_header h;
                    std::memcpy(&h, c.data(), sizeof h);
                    delivered += h.records;
                    cons[r].pop();
                }
            }
        }
        const double s = std::chrono::duration<double>(in_router).count();
        rates.push_back(static_cast<double>(delivered) / s);
        std::printf("run %d: %.3g records/s (%llu records, %.3f s inside the router thread's pass)\n", run,
                    rates.back(), static_cast<unsigned long long>(delivered), s);
        for (std::uint32_t r = 0; r < ranks; ++r) {
            std::free(outs[r]);
            std::free(ins[r]);
        }
    }
    std::sort(rates.begin(), rates.end());
    std::printf("{\"bench\": \"router_forward\", \"ranks\": %u, \"record_bytes\": 16, \"granularity\": %zu, "
                "\"median_records_per_s\": %.4g, \"target\": 1e8}\n",
                ranks, granularity, rates[2]);
    return 0;
}
