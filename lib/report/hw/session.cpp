// Opening chosen events with libpfm4 + perf_event_open (cold code: once per job).
#include "buddy/report/hw/session.hpp"

#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace buddy::report::hw {

namespace {

int perf_event_open(perf_event_attr* attr, pid_t pid, int cpu) {
    return static_cast<int>(syscall(SYS_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

// The first CPU an uncore PMU counts on (its cpumask lists one CPU per socket).
int first_cpu_of(const std::string& pmu) {
    std::ifstream f("/sys/bus/event_source/devices/" + pmu + "/cpumask");
    int cpu = 0;
    if (!(f >> cpu)) cpu = 0;
    return cpu;
}

// libpfm4's own initialisation, once per process; its status is kept so every
// session reports the same failure.
int pfm_status() {
    static const int status = pfm_initialize();
    return status;
}

std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

struct counter_value {
    std::uint64_t value, enabled_ns, running_ns;
};

}  // namespace

session::session(cpu_description cpu, hw::scope what)
    : cpu_(std::move(cpu)), scope_(what), chosen_(choose_events(cpu_)) {
    result_.cpu = describe(cpu_);
}

session::~session() { close_all(); }

void session::close_all() {
    for (auto& e : open_)
        if (e.fd >= 0) ::close(e.fd);
    open_.clear();
}

int session::open_one(const event_spec& spec, const std::string& name, int init, std::string& error) const {
    if (init != PFM_SUCCESS) {
        error = std::string("pfm_initialize: ") + pfm_strerror(init);
        return -1;
    }
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    pfm_perf_encode_arg_t arg;
    std::memset(&arg, 0, sizeof arg);
    arg.attr = &attr;
    arg.size = sizeof arg;
    // User level only: what an unprivileged user may count (perf_event_paranoid 2).
    const int enc = pfm_get_os_event_encoding(name.c_str(), PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    if (enc != PFM_SUCCESS) {
        error = std::string("libpfm4 cannot encode it: ") + pfm_strerror(enc);
        return -1;
    }
    attr.size = sizeof attr;
    attr.disabled = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    int fd = -1;
    if (spec.uncore) {
        fd = perf_event_open(&attr, -1, first_cpu_of(spec.pmu));  // per socket, any process
    } else if (scope_.thread != 0) {
        fd = perf_event_open(&attr, scope_.thread, -1);  // that thread alone, on any CPU
    } else {
        attr.inherit = 1;  // threads and children created after start() count too
        fd = perf_event_open(&attr, 0, -1);
    }
    if (fd < 0)
        error = "perf_event_open (type " + std::to_string(attr.type) + ", config " + hex(attr.config) +
                "): " + std::strerror(errno);
    return fd;
}

void session::start() {
    close_all();
    result_ = hw::result{};
    result_.cpu = describe(cpu_);
    started_ = true;
    const int init = pfm_status();
    for (const auto& spec : chosen_) {
        const std::string pmu = spec.pmu.empty() ? "(no core PMU in sysfs)" : spec.pmu;
        if (!spec.skipped.empty()) {
            result_.failures.push_back({spec.label, (spec.pfm_event.empty() ? "(no libpfm4 name)" : spec.pfm_event) +
                                                        " on PMU " + pmu, spec.skipped});
            continue;
        }
        std::string tried, errors;
        bool opened = false;
        for (const std::string& name : {spec.pfm_event, spec.fallback}) {
            if (name.empty() || opened) continue;
            tried += (tried.empty() ? "" : ", then ") + name;
            std::string error;
            const int fd = open_one(spec, name, init, error);
            if (fd >= 0) {
                open_.push_back({spec, name, fd});
                opened = true;
            } else {
                errors += (errors.empty() ? "" : "; ") + name + ": " + error;
            }
        }
        if (!opened) result_.failures.push_back({spec.label, tried + " on PMU " + pmu, errors});
    }
    for (auto& e : open_) ioctl(e.fd, PERF_EVENT_IOC_ENABLE, 0);
}

void session::read_all(hw::result& into) const {
    for (const auto& e : open_) {
        counter_value v{};
        const ssize_t n = ::read(e.fd, &v, sizeof v);
        if (n != static_cast<ssize_t>(sizeof v)) {
            into.failures.push_back({e.spec.label, e.event,
                                     std::string("read: ") + (n < 0 ? std::strerror(errno) : "short read")});
            continue;
        }
        into.values.push_back({e.spec.label, e.event, v.value, v.enabled_ns, v.running_ns, e.spec.uncore});
    }
}

void session::conclude(hw::result& r) {
    r.available = !r.values.empty();
    r.reason.clear();
    if (r.available) return;
    r.reason = "no hardware event could be counted on " + r.cpu + ":";
    for (const auto& f : r.failures) r.reason += " " + f.label + " [" + f.tried + "]: " + f.error + ";";
    if (r.failures.empty()) r.reason += " no events chosen";
    if (r.reason.back() == ';') r.reason.pop_back();
}

void session::stop() {
    if (!started_) return;
    started_ = false;
    for (auto& e : open_) ioctl(e.fd, PERF_EVENT_IOC_DISABLE, 0);
    read_all(result_);
    close_all();
    conclude(result_);
}

hw::result session::sample() const {
    hw::result r;
    r.cpu = result_.cpu;
    r.failures = result_.failures;  // the events that never opened
    if (started_) read_all(r);
    conclude(r);
    return r;
}

hw::result session::difference(const hw::result& later, const hw::result& earlier) {
    hw::result d = later;
    for (reading& v : d.values)
        for (const reading& e : earlier.values)
            if (e.label == v.label && e.event == v.event) {
                // Counters only grow; a smaller later value (a counter reset
                // by someone else) gives 0, not a wrapped huge number.
                v.value = v.value >= e.value ? v.value - e.value : 0;
                v.enabled_ns = v.enabled_ns >= e.enabled_ns ? v.enabled_ns - e.enabled_ns : 0;
                v.running_ns = v.running_ns >= e.running_ns ? v.running_ns - e.running_ns : 0;
                break;
            }
    return d;
}

}  // namespace buddy::report::hw
