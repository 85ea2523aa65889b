#include "buddy/control/bodies.hpp"

namespace buddy::control {

void put_table_head(writer& w, std::uint64_t job, std::uint32_t routers, std::uint32_t route,
                    std::span<const std::uint32_t> rank_to_router) {
    w.put(table{job, routers, static_cast<std::uint32_t>(rank_to_router.size()), route, 0});
    for (std::uint32_t v : rank_to_router) w.put(v);
    w.pad();
}

void put_table_router(writer& w, std::uint64_t instance, std::span<const address_blob> addresses) {
    w.put(instance).put(static_cast<std::uint32_t>(addresses.size())).put(std::uint32_t{0});
    for (const auto& a : addresses) w.put_blob(a);
}

std::vector<std::byte> table_message(const table_body& t) {
    writer w(type::table);
    put_table_head(w, t.job, static_cast<std::uint32_t>(t.routers.size()), t.route, t.rank_to_router);
    for (const auto& r : t.routers) put_table_router(w, r.instance, r.addresses);
    return w.done();
}

std::string read_table(reader& r, table_body& out) {
    table t{};
    if (!r.get(t)) return "malformed job table (truncated head)";
    if (t.routers == 0 || t.routers > t.ranks) return "malformed job table (" + std::to_string(t.routers) +
                                                      " routers for " + std::to_string(t.ranks) + " ranks)";
    // Counts are checked against the bytes present before anything is sized by them.
    if (r.left() / sizeof(std::uint32_t) < t.ranks) return "malformed job table (ranks)";
    if (t.zero != 0) return "malformed job table (reserved word " + std::to_string(t.zero) + ", expected 0)";
    out.job = t.job;
    out.route = t.route;
    out.rank_to_router.resize(t.ranks);
    for (auto& v : out.rank_to_router)
        if (!r.get(v) || v >= t.routers) return "malformed job table (ranks)";
    r.skip_pad();
    constexpr std::size_t smallest_entry = 16 + 8;  // instance, threads, 0, one empty blob
    if (r.left() / smallest_entry < t.routers) return "malformed job table (routers)";
    out.routers.resize(t.routers);
    for (auto& e : out.routers) {
        std::uint32_t threads = 0, zero = 0;
        if (!r.get(e.instance) || !r.get(threads) || !r.get(zero) || threads == 0 || zero != 0 ||
            r.left() / 8 < threads)
            return "malformed job table (routers)";
        e.addresses.resize(threads);
        for (auto& a : e.addresses) {
            std::span<const std::byte> b;
            if (!r.get_blob(b)) return "malformed job table (addresses)";
            a.assign(b.begin(), b.end());
        }
    }
    if (r.left() != 0) return "malformed job table (" + std::to_string(r.left()) + " bytes after the last router)";
    return {};
}

void put_rma_rings(writer& w, std::span<const rma_thread_rings> threads) {
    w.put(static_cast<std::uint32_t>(threads.size())).put(std::uint32_t{0});
    for (const rma_thread_rings& t : threads) w.put_blob(t.worker).put_blob(t.outbound).put_blob(t.inbound);
}

std::string read_rma_rings(reader& r, std::uint32_t threads, std::vector<rma_thread_rings>& out) {
    std::uint32_t count = 0, zero = 0;
    if (!r.get(count) || !r.get(zero)) return "truncated rings over RMA";
    if (count != threads || zero != 0)
        return "rings over RMA for " + std::to_string(count) + " threads, expected " + std::to_string(threads);
    // Counts are checked against the bytes present before anything is sized by them.
    constexpr std::size_t smallest_entry = 3 * 8;  // three blobs of at least one byte (u32 length, byte, padding)
    if (r.left() / smallest_entry < count) return "rings over RMA: no room for " + std::to_string(count) + " threads";
    out.resize(count);
    for (rma_thread_rings& t : out) {
        for (address_blob* b : {&t.worker, &t.outbound, &t.inbound}) {
            std::span<const std::byte> s;
            if (!r.get_blob(s) || s.empty()) return "truncated or empty ring side over RMA";
            b->assign(s.begin(), s.end());
        }
    }
    if (r.left() != 0) return "rings over RMA: " + std::to_string(r.left()) + " bytes after the last thread";
    return {};
}

std::vector<std::byte> hello_reply_message(const hello_reply& head, std::span<const std::span<const std::byte>> addresses,
                                           std::span<const rma_thread_rings> rma) {
    writer w(type::hello_reply);
    hello_reply h = head;
    h.threads = static_cast<std::uint32_t>(addresses.size());
    h.flags = rma.empty() ? 0 : hello_reply_flag_rma;
    h.reserved = 0;
    w.put(h);
    for (auto a : addresses) w.put_blob(a);
    if (!rma.empty()) put_rma_rings(w, rma);
    return w.done();
}

std::string read_hello_reply(reader& r, hello_reply_body& out) {
    if (!r.get(out.head)) return "truncated";
    const hello_reply& h = out.head;
    if (h.threads == 0) return "no router threads";
    if ((h.flags & ~hello_reply_flag_rma) != 0 || h.reserved != 0) return "unknown hello reply flags";
    // A name fills its field only if NUL-padded: get_name() would read one that does not as 128 bytes.
    for (const char* name : {h.out_segment, h.in_segment, h.node})
        if (name[name_bytes - 1] != '\0') return "a segment or node name is not NUL-terminated";
    if (r.left() / 8 < h.threads) return std::to_string(h.threads) + " threads but no room for their addresses";
    out.addresses.resize(h.threads);
    for (auto& a : out.addresses) {
        std::span<const std::byte> b;
        if (!r.get_blob(b)) return "truncated worker addresses";
        a.assign(b.begin(), b.end());
    }
    out.rma.clear();
    if ((h.flags & hello_reply_flag_rma) != 0) return read_rma_rings(r, h.threads, out.rma);
    return {};
}

std::vector<std::byte> stats_reply_message(std::uint32_t fields, std::span<const stats_thread> threads) {
    writer w(type::stats_reply);
    w.put(stats_reply{static_cast<std::uint32_t>(threads.size()), fields});
    for (const stats_thread& t : threads) {
        for (std::uint32_t i = 0; i < fields; ++i) w.put(i < t.counters.size() ? t.counters[i] : std::uint64_t{0});
        w.put(static_cast<std::uint64_t>(t.links.size()));
        for (const stats_link& l : t.links) w.put(l.to).put(l.batches).put(l.bytes);
        w.put(std::uint64_t{t.hw_available ? 1u : 0u});
        w.put_blob(std::as_bytes(std::span<const char>(t.hw_reason.data(), t.hw_reason.size())));
        w.put_blob(std::as_bytes(std::span<const char>(t.hw_counters.data(), t.hw_counters.size())));
    }
    return w.done();
}

std::string read_stats_reply(reader& r, std::uint32_t fields, std::vector<stats_thread>& out) {
    stats_reply head{};
    if (!r.get(head) || head.threads == 0) return "malformed stats reply (head)";
    if (head.fields != fields)
        return "it reports " + std::to_string(head.fields) + " counters per thread, this build knows " +
               std::to_string(fields) + ": the router and the application are different builds";
    // Counts are checked against the bytes present before anything is sized by them.
    const std::size_t smallest_thread = 8 * (std::size_t{fields} + 2) + 16;  // counters, links, flag, 2 empty blobs
    if (r.left() / smallest_thread < head.threads) return "malformed stats reply (threads)";
    out.assign(head.threads, {});
    for (stats_thread& t : out) {
        t.counters.resize(fields);
        for (auto& v : t.counters)
            if (!r.get(v)) return "truncated stats reply";
        std::uint64_t links = 0;
        if (!r.get(links) || r.left() / 24 < links) return "malformed stats reply (links)";
        t.links.resize(links);
        for (stats_link& l : t.links)
            if (!r.get(l.to) || !r.get(l.batches) || !r.get(l.bytes)) return "truncated stats reply";
        std::uint64_t available = 0;
        std::span<const std::byte> reason, hw;
        if (!r.get(available) || available > 1 || !r.get_blob(reason) || !r.get_blob(hw))
            return "truncated stats reply (hardware counters)";
        if (hw.empty() || hw.front() != std::byte{'{'} || hw.back() != std::byte{'}'})
            return "malformed stats reply (hardware counters are not a JSON object)";
        t.hw_available = available == 1;
        t.hw_reason.assign(reinterpret_cast<const char*>(reason.data()), reason.size());
        t.hw_counters.assign(reinterpret_cast<const char*>(hw.data()), hw.size());
    }
    if (r.left() != 0) return "malformed stats reply (" + std::to_string(r.left()) + " bytes after the last thread)";
    return {};
}

}  // namespace buddy::control
