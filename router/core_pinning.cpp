#include "buddy/router/core_pinning.hpp"

#include <hwloc.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "buddy/config/knobs.hpp"

namespace buddy::router {

namespace {

int first_pu(hwloc_const_cpuset_t set) { return hwloc_bitmap_first(set); }

// The NIC to place routers near: an OpenFabrics device (RDMA) first, then a
// network interface other than loopback.
hwloc_obj_t find_nic(hwloc_topology_t topo) {
    hwloc_obj_t best = nullptr;
    for (hwloc_obj_t o = hwloc_get_next_osdev(topo, nullptr); o; o = hwloc_get_next_osdev(topo, o)) {
        if (o->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS) return o;
        if (o->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK && !best && o->name && std::string_view(o->name) != "lo")
            best = o;
    }
    return best;
}

}  // namespace

machine probe_machine() {
    machine m;
    hwloc_topology_t topo = nullptr;
    if (hwloc_topology_init(&topo) == 0) {
        hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
        if (hwloc_topology_load(topo) == 0) {
            const int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
            for (int i = 0; i < n; ++i) {
                hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i));
                const int pu = first_pu(core->cpuset);
                if (pu >= 0) m.cores.push_back(pu);
            }
            if (hwloc_obj_t nic = find_nic(topo)) {
                hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, nic);
                if (anc && anc->cpuset) {
                    m.nic = nic->name ? nic->name : "nic";
                    for (int i = 0; i < n; ++i) {
                        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i));
                        if (hwloc_bitmap_isincluded(core->cpuset, anc->cpuset)) m.nic_cores.push_back(first_pu(core->cpuset));
                    }
                }
            }
        }
        hwloc_topology_destroy(topo);
    }
    if (m.cores.empty()) {
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long i = 0; i < std::max(1L, n); ++i) m.cores.push_back(static_cast<int>(i));
    }
    return m;
}

node_plan plan_node(const machine& m, unsigned router_threads, unsigned ranks, const std::vector<int>& forced) {
    node_plan p;
    std::vector<int> chosen;
    if (!forced.empty()) {
        chosen = forced;
        p.why = "router cores given by --router-cores";
    } else {
        // NIC-near cores from their end, then the machine's last cores.
        std::vector<int> order(m.nic_cores.rbegin(), m.nic_cores.rend());
        for (auto it = m.cores.rbegin(); it != m.cores.rend(); ++it)
            if (std::find(order.begin(), order.end(), *it) == order.end()) order.push_back(*it);
        const std::size_t want = std::min<std::size_t>(router_threads, order.size());
        chosen.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(want));
        p.why = m.nic.empty() ? "no NIC found: routers on the last cores"
                              : "routers on the cores nearest NIC " + m.nic;
    }
    // Router threads beyond the chosen cores share them round-robin.
    for (unsigned t = 0; t < router_threads; ++t) p.router_cpus.push_back(chosen[t % chosen.size()]);
    for (int c : m.cores)
        if (std::find(chosen.begin(), chosen.end(), c) == chosen.end()) p.rank_cpus.push_back(c);
    p.disjoint = !p.rank_cpus.empty() && p.rank_cpus.size() >= ranks && chosen.size() >= router_threads;
    if (!p.disjoint) {
        p.why += "; only " + std::to_string(m.cores.size()) + " cores for " + std::to_string(ranks) + " ranks and " +
                 std::to_string(router_threads) + " router threads: ranks are not bound and share cores with routers";
        p.rank_cpus.clear();
    }
    return p;
}

std::vector<int> parse_cpu_list(std::string_view text) {
    return knobs::parse_cpu_list(text, "CPU list");  // one parser, the knob table's
}

std::string format_cpu_list(const std::vector<int>& cpus) {
    std::string s;
    for (std::size_t i = 0; i < cpus.size();) {
        std::size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
        if (!s.empty()) s += ',';
        s += std::to_string(cpus[i]);
        if (j > i) {
            // Two appends, not "-" + to_string(): GCC 12 for aarch64 warns on the
            // inlined operator+ (-Wrestrict false positive, GCC bug 105329).
            s += '-';
            s += std::to_string(cpus[j]);
        }
        i = j + 1;
    }
    return s;
}

int numa_node_of(int cpu) noexcept {
    if (numa_available() < 0) return -1;
    return numa_node_of_cpu(cpu);
}

bool pin_this_thread(int cpu) noexcept {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace buddy::router
