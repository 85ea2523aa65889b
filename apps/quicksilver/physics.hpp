// Physics of the quicksilver proxy: the mesh and its decomposition over ranks,
// the material layout, the per-material cross-section tables, the particle and
// the segment-by-segment tracking of one particle.
//
// Everything here is a pure function of the problem (flags and seed) and of the
// particle's own state, so one particle follows exactly the same path whichever
// rank, thread or decomposition tracks it.  That is what lets the driver compare
// tallies between 1, 2 and 4 ranks bit for bit, and replay sampled histories
// serially to check the distributed run.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "common/app.hpp"

namespace qs {

// ---------------------------------------------------------------------------
// Particle

/// One particle in flight.  96 bytes, trivially copyable: it travels between
/// ranks as a single async() argument (or as an element of an MPI buffer).
struct particle {
    double x, y, z;       ///< position (cell (ix,iy,iz) is [ix,ix+1) x [iy,iy+1) x [iz,iz+1))
    double u, v, w;       ///< unit direction
    double t_rem;         ///< time left before census in the current cycle
    double weight;        ///< statistical weight (children inherit it)
    std::uint64_t id;     ///< global id: the key of its random-number stream
    std::uint64_t root;   ///< id of the source particle whose history this belongs to
    std::uint32_t seg;    ///< segment counter: the other half of the random-number key
    std::uint16_t ix, iy, iz;
    std::uint16_t group;  ///< energy group, 0 = fastest
    std::uint32_t flags;  ///< bit 0: the root is sampled for the serial replay check
};
static_assert(std::is_trivially_copyable_v<particle>);
static_assert(sizeof(particle) == 96);

inline constexpr std::uint32_t flag_sampled = 1u;

// ---------------------------------------------------------------------------
// Random numbers: counter-based, keyed by (particle id, segment, slot).

inline std::uint64_t stream_key(std::uint64_t seed, std::uint64_t id) noexcept {
    return apps::splitmix64(apps::splitmix64(seed) ^ id);
}
/// The `slot`-th random word of segment `seg` of the particle with key `key`.
inline std::uint64_t rnd(std::uint64_t key, std::uint32_t seg, std::uint32_t slot) noexcept {
    return apps::splitmix64(key + (static_cast<std::uint64_t>(seg) << 20) + slot);
}
/// Uniform double in [0, 1).
inline double unit(std::uint64_t r) noexcept { return static_cast<double>(r >> 11) * 0x1.0p-53; }
/// Uniform integer in [0, n).
inline std::uint64_t below(std::uint64_t r, std::uint64_t n) noexcept {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>(r) * n) >> 64);
}

/// Fixed-point path length (2^-32 cell units): integer sums are exact and
/// independent of the order in which ranks and threads add them.
inline std::uint64_t fixed_length(double d) noexcept {
    return static_cast<std::uint64_t>(d * 4294967296.0 + 0.5);
}

// ---------------------------------------------------------------------------
// Mesh and decomposition

enum material_id : std::uint8_t { moderator = 0, fuel = 1, absorber = 2, n_materials = 3 };

struct mesh {
    int nx = 0, ny = 0, nz = 0;
    std::uint64_t cells() const noexcept {
        return static_cast<std::uint64_t>(nx) * static_cast<std::uint64_t>(ny) * static_cast<std::uint64_t>(nz);
    }
    std::uint64_t index(int i, int j, int k) const noexcept {
        return (static_cast<std::uint64_t>(k) * static_cast<std::uint64_t>(ny) + static_cast<std::uint64_t>(j)) *
                   static_cast<std::uint64_t>(nx) +
               static_cast<std::uint64_t>(i);
    }
};

/// Blocks of cells over a px x py x pz grid of ranks.  owner() depends only on
/// the cell, the mesh and the number of ranks.
struct decomposition {
    mesh m;
    int px = 1, py = 1, pz = 1;

    /// Slabs along z (px = py = 1), or the 3-D block grid with the least cut
    /// surface (ties broken by the first found), each dimension at most the
    /// number of cells along it.
    static decomposition make(const mesh& m, int ranks, bool slabs) {
        decomposition d;
        d.m = m;
        if (slabs) {
            if (ranks > m.nz) throw std::invalid_argument("slab decomposition needs nz >= ranks");
            d.pz = ranks;
            return d;
        }
        double best = std::numeric_limits<double>::infinity();
        for (int a = 1; a <= ranks; ++a) {
            if (ranks % a || a > m.nx) continue;
            for (int b = 1; b <= ranks / a; ++b) {
                if ((ranks / a) % b || b > m.ny) continue;
                const int c = ranks / a / b;
                if (c > m.nz) continue;
                const double cut = double(a - 1) * m.ny * m.nz + double(b - 1) * m.nx * m.nz + double(c - 1) * m.nx * m.ny;
                if (cut < best) {
                    best = cut;
                    d.px = a;
                    d.py = b;
                    d.pz = c;
                }
            }
        }
        if (!std::isfinite(best)) throw std::invalid_argument("mesh too small for this many ranks");
        return d;
    }

    int block_x(int i) const noexcept { return static_cast<int>(static_cast<std::int64_t>(i) * px / m.nx); }
    int block_y(int j) const noexcept { return static_cast<int>(static_cast<std::int64_t>(j) * py / m.ny); }
    int block_z(int k) const noexcept { return static_cast<int>(static_cast<std::int64_t>(k) * pz / m.nz); }
    int rank_of_block(int bx, int by, int bz) const noexcept { return (bz * py + by) * px + bx; }
    int owner(int i, int j, int k) const noexcept { return rank_of_block(block_x(i), block_y(j), block_z(k)); }

    /// Ranks owning cells face-adjacent to this rank's block (what a particle can cross into).
    std::vector<int> neighbours(int rank) const {
        const int bx = rank % px, by = (rank / px) % py, bz = rank / (px * py);
        std::vector<int> out;
        auto add = [&](int x, int y, int z) {
            if (x < 0 || y < 0 || z < 0 || x >= px || y >= py || z >= pz) return;
            const int r = rank_of_block(x, y, z);
            if (r != rank && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
        };
        add(bx - 1, by, bz);
        add(bx + 1, by, bz);
        add(bx, by - 1, bz);
        add(bx, by + 1, bz);
        add(bx, by, bz - 1);
        add(bx, by, bz + 1);
        std::sort(out.begin(), out.end());
        return out;
    }
};

/// Material of every cell: 2x2 fuel pins on a pitch of 4 cells in a moderator,
/// an absorbing outer shell, and a seeded sprinkle of absorber cells (about 8%
/// of the moderator).  Replicated on every rank (one byte per cell).
inline std::vector<std::uint8_t> lay_out_materials(const mesh& m, std::uint64_t seed) {
    std::vector<std::uint8_t> mat(m.cells());
    const std::uint64_t key = apps::splitmix64(seed ^ 0x6D617465726961ull);
    for (int k = 0; k < m.nz; ++k)
        for (int j = 0; j < m.ny; ++j)
            for (int i = 0; i < m.nx; ++i) {
                const std::uint64_t c = m.index(i, j, k);
                std::uint8_t v = moderator;
                if ((i % 4 == 1 || i % 4 == 2) && (j % 4 == 1 || j % 4 == 2)) v = fuel;
                if (v == moderator && below(apps::splitmix64(key + c), 100) < 8) v = absorber;
                if (i == 0 || j == 0 || k == 0 || i == m.nx - 1 || j == m.ny - 1 || k == m.nz - 1) v = absorber;
                mat[c] = v;
            }
    return mat;
}

// ---------------------------------------------------------------------------
// Cross-sections

/// One fine-energy-bin entry: macroscopic cross-sections per cell length.
/// absorb + fission + scatter == total (up to float rounding; the reaction is
/// chosen against the three partial values, so it does not matter).
struct xs_entry {
    float total, absorb, fission, scatter;
};
static_assert(sizeof(xs_entry) == 16);

/// Per material and group, `bins` fine-energy entries.  The whole table is
/// `table_mb` MiB (replicated per rank) and looked up at a pseudo-random bin
/// each segment, so a lookup is usually a cache miss: the memory-bound part.
struct xs_table {
    int groups = 0;
    std::uint64_t bins = 0;
    std::vector<xs_entry> entries;  // [(material * groups + group) * bins + bin]

    const xs_entry& at(int material, int group, std::uint64_t bin) const noexcept {
        return entries[(static_cast<std::uint64_t>(material) * static_cast<std::uint64_t>(groups) +
                        static_cast<std::uint64_t>(group)) *
                           bins +
                       bin];
    }
};

/// Base values per material: total at group 0 and its growth per group, and
/// the absorption and fission fractions with theirs.  The fuel alone has
/// nu * fission / (absorb + fission) < 1 in every group, so the system is
/// subcritical and the population stays bounded.
struct material_data {
    double total0, total_step, absorb0, absorb_step, fission0, fission_step;
};
inline constexpr material_data material_table[n_materials] = {
    {1.20, 0.10, 0.02, 0.010, 0.00, 0.000},  // moderator: mostly scatter
    {0.80, 0.15, 0.10, 0.020, 0.08, 0.010},  // fuel
    {1.00, 0.05, 0.45, 0.020, 0.00, 0.000},  // absorber
};

/// The value of one entry: a pure function of (seed, material, group, bin).
inline xs_entry make_entry(std::uint64_t seed, int material, int group, std::uint64_t bin) noexcept {
    const material_data& md = material_table[material];
    const std::uint64_t key = apps::splitmix64(seed ^ 0x78732D7461626C65ull) +
                              ((static_cast<std::uint64_t>(material) * 64 + static_cast<std::uint64_t>(group)) << 40) +
                              bin * 3;
    const double wiggle_t = 0.5 + unit(apps::splitmix64(key));
    const double wiggle_a = 0.6 + 0.8 * unit(apps::splitmix64(key + 1));
    const double wiggle_f = 0.6 + 0.8 * unit(apps::splitmix64(key + 2));
    const double total = (md.total0 + md.total_step * group) * wiggle_t;
    const double absorb_frac = std::min(0.9, (md.absorb0 + md.absorb_step * group) * wiggle_a);
    const double fission_frac = std::min(0.95 - absorb_frac, (md.fission0 + md.fission_step * group) * wiggle_f);
    const double absorb = total * absorb_frac;
    const double fission = total * fission_frac;
    xs_entry e;
    e.total = static_cast<float>(total);
    e.absorb = static_cast<float>(absorb);
    e.fission = static_cast<float>(fission);
    e.scatter = static_cast<float>(std::max(0.0, total - absorb - fission));
    return e;
}

// ---------------------------------------------------------------------------
// The problem every rank holds (replicated, read-only during transport).

struct problem {
    mesh m;
    decomposition dec;
    int groups = 0;
    int cycles = 0;
    std::uint64_t particles = 0;  ///< source particles per cycle (whole job)
    std::uint64_t seed = 0;
    int work = 0;                 ///< extra table lookups per segment
    double dt = 1.0;
    std::vector<double> speed;    ///< cells per unit time, per group
    std::vector<std::uint8_t> material;
    xs_table xs;
    std::uint64_t sample_stride = 1;  ///< a root is sampled when root % stride == 0
    std::uint64_t samples = 0;        ///< number of sampled roots

    std::uint8_t material_of(const particle& p) const noexcept { return material[m.index(p.ix, p.iy, p.iz)]; }
};

/// Isotropic direction from two random words.
inline void isotropic(std::uint64_t r1, std::uint64_t r2, double& u, double& v, double& w) noexcept {
    const double mu = 2.0 * unit(r1) - 1.0;
    const double phi = 6.283185307179586 * unit(r2);
    const double s = std::sqrt(std::max(0.0, 1.0 - mu * mu));
    u = mu;
    v = s * std::cos(phi);
    w = s * std::sin(phi);
}

/// Birth cell of source particle `i` of cycle `cycle` (uniform over cells).
inline void source_cell(const problem& pb, std::uint64_t id, int& i, int& j, int& k) noexcept {
    const std::uint64_t key = stream_key(pb.seed ^ 0x736F75726365ull, id);
    const std::uint64_t c = below(apps::splitmix64(key), pb.m.cells());
    i = static_cast<int>(c % static_cast<std::uint64_t>(pb.m.nx));
    j = static_cast<int>((c / static_cast<std::uint64_t>(pb.m.nx)) % static_cast<std::uint64_t>(pb.m.ny));
    k = static_cast<int>(c / (static_cast<std::uint64_t>(pb.m.nx) * static_cast<std::uint64_t>(pb.m.ny)));
}

/// Source particle with global id `id` (= cycle * particles + index): uniform in
/// its cell, isotropic, fastest group, born at a uniform time in the step.
inline particle make_source(const problem& pb, std::uint64_t id) noexcept {
    int i, j, k;
    source_cell(pb, id, i, j, k);
    const std::uint64_t key = stream_key(pb.seed ^ 0x736F75726365ull, id);
    particle p{};
    p.x = i + unit(apps::splitmix64(key + 1));
    p.y = j + unit(apps::splitmix64(key + 2));
    p.z = k + unit(apps::splitmix64(key + 3));
    isotropic(apps::splitmix64(key + 4), apps::splitmix64(key + 5), p.u, p.v, p.w);
    p.t_rem = pb.dt * (1.0 - unit(apps::splitmix64(key + 6)));  // (0, dt]
    p.weight = 1.0;
    p.id = id;
    p.root = id;
    p.seg = 0;
    p.ix = static_cast<std::uint16_t>(i);
    p.iy = static_cast<std::uint16_t>(j);
    p.iz = static_cast<std::uint16_t>(k);
    p.group = 0;
    p.flags = (id % pb.sample_stride == 0) ? flag_sampled : 0u;
    return p;
}

/// A census particle carried into the next cycle gets a full step.
inline void start_next_cycle(const problem& pb, particle& p) noexcept { p.t_rem = pb.dt; }

// ---------------------------------------------------------------------------
// Tallies

/// Per-sample slots of the replay check (per sampled root, whole run).
/// s_state sums a hash of the exact final state of every particle of the family
/// at each of its ends (absorb, fission, escape, census), so any change to a
/// particle's state on the way shows even when the counts happen to agree.
enum sample_slot : int { s_segments = 0, s_path, s_absorb, s_scatter, s_fission, s_produce, s_escape, s_census, s_state, n_slots };

/// Hash of every bit of a particle's state.
inline std::uint64_t state_hash(const particle& p) noexcept {
    std::uint64_t words[sizeof(particle) / 8];
    std::memcpy(words, &p, sizeof words);
    // multiply-rotate per word, one full mix at the end: cheap, and every bit counts
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (std::uint64_t w : words) {
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h = (h << 29) | (h >> 35);
    }
    return apps::splitmix64(h);
}

/// What one thread (or the replay) accumulates.
struct tallies {
    std::uint64_t absorb = 0, scatter = 0, fission = 0, produce = 0, escape = 0, census = 0, segments = 0;
    std::uint64_t state = 0;             ///< sum of state_hash() of every particle end (whole run)
    std::vector<std::uint64_t> path;     ///< fixed-point path length per group
    std::vector<std::uint64_t> sampled;  ///< samples * n_slots
    std::uint64_t sink = 0;              ///< the --work lookups land here (never affects physics)

    void reset_counts() noexcept { absorb = scatter = fission = produce = escape = census = segments = 0; }
    void size_for(const problem& pb) {
        path.assign(static_cast<std::size_t>(pb.groups), 0);
        sampled.assign(pb.samples * n_slots, 0);
    }
    std::uint64_t* sample_of(const problem& pb, const particle& p) noexcept {
        return sampled.data() + (p.root / pb.sample_stride) * n_slots;
    }
};

enum class fate { absorbed, fissioned, escaped, census, migrated };

/// Records the final state of a particle at one of its ends.
inline fate finish(const particle& p, tallies& t, std::uint64_t* sample, fate f) noexcept {
    const std::uint64_t h = state_hash(p);
    t.state += h;
    if (sample) sample[s_state] += h;
    return f;
}

/// Tracks `p` segment by segment until it is absorbed, fissions, escapes,
/// reaches census or crosses into a cell another rank owns (`me` < 0: every
/// cell is ours — the serial replay).  Fission children go to `children`.
/// Returns how the particle left; `p` is its final state.
template <typename ChildSink>
fate track(const problem& pb, int me, particle& p, tallies& t, ChildSink&& children) {
    const std::uint64_t key = stream_key(pb.seed, p.id);
    const bool sampled = (p.flags & flag_sampled) != 0;
    std::uint64_t* sample = sampled ? t.sample_of(pb, p) : nullptr;
    for (;;) {
        const int g = p.group;
        const int mat = pb.material_of(p);
        // The memory-bound lookup: a pseudo-random fine-energy bin every segment.
        const xs_entry e = pb.xs.at(mat, g, below(rnd(key, p.seg, 0), pb.xs.bins));
        for (int extra = 0; extra < pb.work; ++extra) {
            const xs_entry& f = pb.xs.at(mat, g, below(rnd(key, p.seg, 16 + static_cast<std::uint32_t>(extra)), pb.xs.bins));
            std::uint32_t bits;
            std::memcpy(&bits, &f.total, sizeof bits);
            t.sink += bits;
        }
        const double sigma_t = e.total;
        const double d_coll = -std::log(1.0 - unit(rnd(key, p.seg, 1))) / sigma_t;

        // Distance to the nearest facet of the current cell.
        double d_facet = std::numeric_limits<double>::infinity();
        int axis = -1;
        auto facet = [&](double pos, double dir, int cell, int a) {
            if (dir > 0) {
                const double d = std::max(0.0, (cell + 1 - pos) / dir);
                if (d < d_facet) { d_facet = d; axis = a; }
            } else if (dir < 0) {
                const double d = std::max(0.0, (cell - pos) / dir);
                if (d < d_facet) { d_facet = d; axis = a; }
            }
        };
        facet(p.x, p.u, p.ix, 0);
        facet(p.y, p.v, p.iy, 1);
        facet(p.z, p.w, p.iz, 2);

        const double spd = pb.speed[static_cast<std::size_t>(g)];
        const double d_census = p.t_rem * spd;

        enum { collision, crossing, census } event;
        double d;
        if (d_census <= d_coll && d_census <= d_facet) {
            event = census;
            d = d_census;
        } else if (d_facet <= d_coll) {
            event = crossing;
            d = d_facet;
        } else {
            event = collision;
            d = d_coll;
        }
        const std::uint32_t seg = p.seg++;
        ++t.segments;
        const std::uint64_t fl = fixed_length(d);
        t.path[static_cast<std::size_t>(g)] += fl;
        if (sample) {
            ++sample[s_segments];
            sample[s_path] += fl;
        }
        p.x += d * p.u;
        p.y += d * p.v;
        p.z += d * p.w;
        p.t_rem = (event == census) ? 0.0 : std::max(0.0, p.t_rem - d / spd);

        if (event == census) {
            ++t.census;
            if (sample) ++sample[s_census];
            return finish(p, t, sample, fate::census);
        }
        if (event == crossing) {
            // Land exactly on the facet and step the cell index.
            int i = p.ix, j = p.iy, k = p.iz;
            if (axis == 0) {
                if (p.u > 0) { ++i; p.x = i; } else { p.x = i; --i; }
            } else if (axis == 1) {
                if (p.v > 0) { ++j; p.y = j; } else { p.y = j; --j; }
            } else {
                if (p.w > 0) { ++k; p.z = k; } else { p.z = k; --k; }
            }
            if (i < 0 || j < 0 || k < 0 || i >= pb.m.nx || j >= pb.m.ny || k >= pb.m.nz) {
                ++t.escape;
                if (sample) ++sample[s_escape];
                return finish(p, t, sample, fate::escaped);
            }
            p.ix = static_cast<std::uint16_t>(i);
            p.iy = static_cast<std::uint16_t>(j);
            p.iz = static_cast<std::uint16_t>(k);
            if (me >= 0 && pb.dec.owner(i, j, k) != me) return fate::migrated;
            continue;
        }

        // Collision: absorption, fission or scattering against the entry's partial sigmas.
        const double xi = unit(rnd(key, seg, 2)) * sigma_t;
        if (xi < e.absorb) {
            ++t.absorb;
            if (sample) ++sample[s_absorb];
            return finish(p, t, sample, fate::absorbed);
        }
        if (xi < static_cast<double>(e.absorb) + static_cast<double>(e.fission)) {
            // nu = 1, 2 or 3 children with probabilities 0.4, 0.4, 0.2 (mean 1.8).
            const std::uint64_t r = below(rnd(key, seg, 3), 10);
            const int nu = r < 4 ? 1 : (r < 8 ? 2 : 3);
            for (int c = 0; c < nu; ++c) {
                particle child = p;
                child.id = apps::splitmix64(p.id ^ (static_cast<std::uint64_t>(seg) << 8 | static_cast<std::uint64_t>(c)) ^
                                            0x66697373696F6Eull);
                child.seg = 0;
                child.group = 0;
                isotropic(rnd(key, seg, 8 + 2 * static_cast<std::uint32_t>(c)),
                          rnd(key, seg, 9 + 2 * static_cast<std::uint32_t>(c)), child.u, child.v, child.w);
                children(child);
            }
            t.fission += 1;
            t.produce += static_cast<std::uint64_t>(nu);
            if (sample) {
                ++sample[s_fission];
                sample[s_produce] += static_cast<std::uint64_t>(nu);
            }
            return finish(p, t, sample, fate::fissioned);
        }
        ++t.scatter;
        if (sample) ++sample[s_scatter];
        isotropic(rnd(key, seg, 4), rnd(key, seg, 5), p.u, p.v, p.w);
        if (g + 1 < pb.groups && below(rnd(key, seg, 6), 10) < 4) p.group = static_cast<std::uint16_t>(g + 1);
    }
}

/// Builds the replicated problem (tables of table_mb MiB over all materials and groups).
inline std::uint64_t bins_for(double table_mb, int groups) {
    const double entries = table_mb * 1024.0 * 1024.0 / sizeof(xs_entry);
    const double per = entries / (static_cast<double>(n_materials) * groups);
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(per));
}

}  // namespace qs
