#include "buddy/router/thread_counters.hpp"

#ifdef BUDDY_HAVE_HW
#include <unistd.h>

#include "buddy/report/hw/json.hpp"
#include "buddy/report/hw/session.hpp"
#endif

namespace buddy::router {

#ifdef BUDDY_HAVE_HW
namespace hw = report::hw;

struct thread_counters::sample {
    hw::result counts;
};

struct thread_counters::impl {
    std::unique_ptr<hw::session> session;
};

thread_counters::thread_counters() : impl_(std::make_unique<impl>()) {}

void thread_counters::start_here() {
    impl_->session = std::make_unique<hw::session>(hw::describe_this_cpu(), hw::scope{::gettid()});
    impl_->session->start();
}

thread_counters::mark thread_counters::now() const {
    auto s = std::make_shared<sample>();
    if (impl_->session) s->counts = impl_->session->sample();
    return s;
}

thread_counters::report thread_counters::since(const mark& from) const {
    hw::result r;
    if (!impl_->session) {
        r.reason = "the router thread's counters were never started";
    } else {
        r = impl_->session->sample();
        if (from) r = hw::session::difference(r, from->counts);
    }
    const std::string fragment = hw::json_fragment(r);  // "hw_counters": {...}
    return {r.available, r.reason, fragment.substr(fragment.find('{'))};
}
#else
struct thread_counters::sample {};
struct thread_counters::impl {};

thread_counters::thread_counters() = default;
void thread_counters::start_here() {}
thread_counters::mark thread_counters::now() const { return nullptr; }

thread_counters::report thread_counters::since(const mark&) const {
    const std::string why = "this build of buddy-router has no hardware-counter support (libpfm4 was not found)";
    return {false, why, "{\"available\": false, \"reason\": \"" + why + "\"}"};
}
#endif

thread_counters::~thread_counters() = default;

}  // namespace buddy::router
