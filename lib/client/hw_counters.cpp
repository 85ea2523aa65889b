#include "hw_counters.hpp"

#ifdef BUDDY_HAVE_HW
#include "buddy/report/hw/json.hpp"
#include "buddy/report/hw/session.hpp"
#endif

namespace buddy::detail {

// Bytes per last-level miss and per memory-controller CAS: one cache line.
constexpr std::uint64_t line_bytes = 64;

#ifdef BUDDY_HAVE_HW
struct hw_counters::impl {
    report::hw::session session;
};

hw_counters::hw_counters() : impl_(std::make_unique<impl>()) { impl_->session.start(); }

hw_report hw_counters::finish() {
    if (finished_) return result_;
    finished_ = true;
    impl_->session.stop();
    const report::hw::result& r = impl_->session.result();
    result_.measured = true;
    result_.available = r.available;
    result_.reason = r.reason;
    std::string fragment = report::hw::json_fragment(r);  // "hw_counters": {...}
    const std::size_t brace = fragment.find('{');
    result_.json = brace == std::string::npos ? "{}" : fragment.substr(brace);
    for (const report::hw::reading& v : r.values) {
        if (v.label == "llc_misses" || v.label == "ll_cache_miss_rd") result_.llc_miss_bytes += v.value * line_bytes;
        else if (v.label.find("_cas_") != std::string::npos) result_.dram_bytes += v.value * line_bytes;
    }
    return result_;
}
#else
struct hw_counters::impl {};

hw_counters::hw_counters() = default;

hw_report hw_counters::finish() {
    finished_ = true;
    result_.measured = true;
    result_.reason = "this build of buddy has no hardware-counter support (libpfm4 was not found)";
    result_.json = "{\"available\": false, \"reason\": \"" + result_.reason + "\"}";
    return result_;
}
#endif

hw_counters::~hw_counters() = default;

}  // namespace buddy::detail
