// Core pinning: which cores routers and ranks run on within one node (hwloc, libnuma).
//
// Routers go on the cores nearest the NIC that ranks do not use: the NIC's
// locality set (hwloc PCI / OS device ancestry) is taken from its end, and if
// it has too few cores, the machine's last cores follow; without a NIC, the
// machine's last cores.  Ranks get the remaining cores from the start.  CPU
// numbers are OS indices (what taskset, sched_setaffinity and mpirun
// --cpu-set use), one per core (its first hardware thread).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace buddy::router {

struct machine {
    std::vector<int> cores;      ///< first PU (OS index) of each core, topology order
    std::vector<int> nic_cores;  ///< the subset near the NIC (empty: no NIC found)
    std::string nic;             ///< the NIC's name ("mlx5_0", "eth0"), empty if none
};

/// Reads this node's topology.  Never throws: on failure, one core per online CPU.
machine probe_machine();

struct node_plan {
    std::vector<int> router_cpus;  ///< routers_per_node * threads entries, router-major
    std::vector<int> rank_cpus;    ///< the cores left for ranks (may be empty)
    bool disjoint = true;          ///< false: too few cores, routers and ranks share
    std::string why;               ///< one sentence for --verbose and the report
};

/// Chooses cores for `router_threads` router threads (all routers of the node)
/// and `ranks` ranks.  `forced`: the user's --router-cores (empty: choose).
node_plan plan_node(const machine& m, unsigned router_threads, unsigned ranks, const std::vector<int>& forced);

/// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; throws config_error (a std::invalid_argument) naming the text.
std::vector<int> parse_cpu_list(std::string_view text);
/// The inverse, with ranges.
std::string format_cpu_list(const std::vector<int>& cpus);

/// NUMA node of a CPU (libnuma), or -1 when unknown.
int numa_node_of(int cpu) noexcept;
/// Pins the calling thread to one CPU; returns false (and changes nothing) if refused.
bool pin_this_thread(int cpu) noexcept;

}  // namespace buddy::router
