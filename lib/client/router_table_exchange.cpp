#include "router_table_exchange.hpp"

#include <map>
#include <vector>

#include "buddy/control/bodies.hpp"

namespace buddy::detail {

namespace ctl = control;

unsigned local_index_on_node(runtime& rt) {
    MPI_Comm node;
    MPI_Comm_split_type(rt.mpi(), MPI_COMM_TYPE_SHARED, rt.rank(), MPI_INFO_NULL, &node);
    int local = 0;
    MPI_Comm_rank(node, &local);
    MPI_Comm_free(&node);
    return static_cast<unsigned>(local);
}

job_routers exchange_router_table(runtime& rt, router_client& client) {
    const router_attachment& mine = client.router();
    const int n = rt.size();
    const MPI_Comm c = rt.mpi();
    // Routers are told apart by their instance id; router order = order of their first ranks.
    std::vector<std::uint64_t> instances(static_cast<std::size_t>(n));
    std::uint64_t my_instance = mine.instance;
    MPI_Allgather(&my_instance, 1, MPI_UINT64_T, instances.data(), 1, MPI_UINT64_T, c);
    std::vector<std::uint32_t> rank_to_router(static_cast<std::size_t>(n));
    std::vector<int> leader_of;  // router index -> its first rank
    std::map<std::uint64_t, std::uint32_t> index_of;
    for (int r = 0; r < n; ++r) {
        auto [it, fresh] = index_of.emplace(instances[static_cast<std::size_t>(r)], static_cast<std::uint32_t>(leader_of.size()));
        if (fresh) leader_of.push_back(r);
        rank_to_router[static_cast<std::size_t>(r)] = it->second;
    }
    job_routers result;
    result.index = rank_to_router[static_cast<std::size_t>(rt.rank())];
    result.leader = leader_of[result.index] == rt.rank();
    result.count = static_cast<std::uint32_t>(leader_of.size());
    const bool leader = result.leader;
    const std::uint32_t job_routers = result.count;

    // The table's entry for our router (only leaders contribute one):
    // instance, threads, 0, then the address blobs.
    ctl::writer entry(ctl::type::table);  // only its body is shipped
    if (leader) ctl::put_table_router(entry, mine.instance, mine.addresses);
    const std::span<const std::byte> section = entry.body();
    const int len = static_cast<int>(section.size());
    std::vector<int> lens(static_cast<std::size_t>(n)), offs(static_cast<std::size_t>(n) + 1, 0);
    MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, c);
    for (std::size_t r = 0; r < static_cast<std::size_t>(n); ++r) offs[r + 1] = offs[r] + lens[r];
    std::vector<std::byte> all(static_cast<std::size_t>(offs.back()));
    MPI_Allgatherv(section.data(), len, MPI_BYTE, all.data(), lens.data(), offs.data(), MPI_BYTE, c);
    if (!leader) return result;

    ctl::writer w(ctl::type::table);
    ctl::put_table_head(w, rt.job(), job_routers, static_cast<std::uint32_t>(rt.settings().route), rank_to_router);
    for (int r : leader_of)
        w.put_bytes(std::span<const std::byte>(all.data() + offs[static_cast<std::size_t>(r)],
                                               static_cast<std::size_t>(lens[static_cast<std::size_t>(r)])));
    client.send_table(w.done());
    return result;
}

}  // namespace buddy::detail
