#include "router_stats.hpp"

#include <iterator>

#include "buddy/control/bodies.hpp"
#include "runtime.hpp"

namespace buddy::detail {

namespace ctl = control;

std::vector<router_report> ask_router_stats(runtime& rt, router_client& client, std::uint32_t router_index) {
    const std::string& router_name = client.router().name;
    const std::string& node = client.router().node;
    ctl::writer w(ctl::type::stats);
    w.put(ctl::stats_request{rt.job()});
    ctl::reader r = client.request(w.done(), ctl::type::stats_reply);
    constexpr auto fields = static_cast<std::uint32_t>(std::size(router_counter_fields));
    std::vector<ctl::stats_thread> threads;
    if (std::string bad = ctl::read_stats_reply(r, fields, threads); !bad.empty())
        rt.fatal("stats reply from " + router_name + ": " + bad);
    std::vector<router_report> out(threads.size());
    for (std::uint32_t t = 0; t < threads.size(); ++t) {
        out[t].router = router_index;
        out[t].thread = t;
        out[t].node = node;
        std::size_t i = 0;
        for (const auto& f : router_counter_fields) out[t].c.*f.member = threads[t].counters[i++];
        for (const ctl::stats_link& l : threads[t].links)
            out[t].links.push_back({static_cast<std::uint32_t>(l.to), l.batches, l.bytes});
        out[t].hw_available = threads[t].hw_available;
        out[t].hw_reason = std::move(threads[t].hw_reason);
        out[t].hw_json = std::move(threads[t].hw_counters);
    }
    return out;
}

}  // namespace buddy::detail
