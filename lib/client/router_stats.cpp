#include "router_stats.hpp"

#include <iterator>

#include "runtime.hpp"

namespace buddy::detail {

namespace ctl = control;

std::vector<router_report> ask_router_stats(runtime& rt, router_client& client, std::uint32_t router_index) {
    const std::string& router_name = client.router().name;
    const std::string& node = client.router().node;
    ctl::writer w(ctl::type::stats);
    w.put(ctl::stats_request{rt.job()});
    ctl::reader r = client.request(w.done(), ctl::type::stats_reply);
    ctl::stats_reply head{};
    constexpr auto fields = static_cast<std::uint32_t>(std::size(router_counter_fields));
    if (!r.get(head) || head.threads == 0)
        rt.fatal("malformed stats reply from " + router_name);
    if (head.fields != fields)
        rt.fatal(router_name + " reports " + std::to_string(head.fields) + " counters per thread, this rank knows " +
                 std::to_string(fields) + ": the router and the application are different builds");
    std::vector<router_report> out(head.threads);
    for (std::uint32_t t = 0; t < head.threads; ++t) {
        out[t].router = router_index;
        out[t].thread = t;
        out[t].node = node;
        for (const auto& f : router_counter_fields)
            if (!r.get(out[t].c.*f.member)) rt.fatal("truncated stats reply from " + router_name);
        std::uint64_t links = 0;
        if (!r.get(links) || links > 1u << 20) rt.fatal("truncated stats reply from " + router_name);
        for (std::uint64_t i = 0; i < links; ++i) {
            std::uint64_t to = 0;
            link_report l;
            if (!r.get(to) || !r.get(l.batches) || !r.get(l.bytes))
                rt.fatal("truncated stats reply from " + router_name);
            l.to = static_cast<std::uint32_t>(to);
            out[t].links.push_back(l);
        }
    }
    return out;
}

}  // namespace buddy::detail
