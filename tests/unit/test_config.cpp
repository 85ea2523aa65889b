// Every knob: one name, one unit, one default, from environment and flags,
// validated with a message that names the knob and the accepted range.
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "buddy/config.hpp"
#include "buddy/config/knobs.hpp"
#include "buddy/config/memory_model.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/wire/batch.hpp"
#include "buddy/wire/checksum.hpp"

using buddy::config;
using buddy::config_error;
namespace knobs = buddy::knobs;
namespace memory_model = buddy::memory_model;
namespace wire = buddy::wire;
using buddy::placement;

namespace {
struct env_guard {
    std::string name;
    env_guard(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
    ~env_guard() { unsetenv(name.c_str()); }
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("defaults are valid and inproc") {
    config c;
    CHECK(c.where == buddy::placement::inproc);
    CHECK_NOTHROW(c.validate());
    CHECK(c.describe().find("BUDDY_GRANULARITY") != std::string::npos);
}

TEST_CASE("byte sizes accept K, M and G suffixes") {
    CHECK(buddy::parse_bytes("4096", "x") == 4096);
    CHECK(buddy::parse_bytes("64K", "x") == 65536);
    CHECK(buddy::parse_bytes("1M", "x") == 1048576);
    CHECK(buddy::parse_bytes("2g", "x") == 2ull << 30);
    CHECK_THROWS_AS(buddy::parse_bytes("", "x"), config_error);
    CHECK_THROWS_AS(buddy::parse_bytes("12Q", "x"), config_error);
    CHECK_THROWS_AS(buddy::parse_bytes("-1", "x"), config_error);
    CHECK_THROWS_AS(buddy::parse_bytes("K", "x"), config_error);
}

TEST_CASE("BUDDY_GRANULARITY=abc is refused naming the variable") {
    env_guard g("BUDDY_GRANULARITY", "abc");
    const std::string e = error_of([] { config::from_env(); });
    CHECK(e.find("BUDDY_GRANULARITY") != std::string::npos);
    CHECK(e.find("'abc'") != std::string::npos);
}

TEST_CASE("BUDDY_GRANULARITY=0 is refused with the accepted range") {
    env_guard g("BUDDY_GRANULARITY", "0");
    config c = config::from_env();
    const std::string e = error_of([&] { c.validate(); });
    CHECK(e.find("granularity") != std::string::npos);
    CHECK(e.find("out of range") != std::string::npos);
    CHECK(e.find("64 to 64M") != std::string::npos);
}

TEST_CASE("environment values apply") {
    env_guard a("BUDDY_GRANULARITY", "16K");
    env_guard b("BUDDY_DEPTH", "8");
    env_guard c("BUDDY_PLACEMENT", "host");
    env_guard d("BUDDY_TIMEOUT", "2.5");
    env_guard e("BUDDY_VERBOSE", "yes");
    const config cfg = config::from_env();
    CHECK(cfg.granularity == 16384);
    CHECK(cfg.depth == 8);
    CHECK(cfg.where == buddy::placement::host);
    CHECK(cfg.timeout_seconds == doctest::Approx(2.5));
    CHECK(cfg.verbose);
}

TEST_CASE("apply_env overrides only the knobs whose variable is set") {
    env_guard g("BUDDY_DEPTH", "3");
    config c;
    c.timeout_seconds = 5;
    c.granularity = 4096;
    c.apply_env();
    CHECK(c.depth == 3);
    CHECK(c.timeout_seconds == doctest::Approx(5));
    CHECK(c.granularity == 4096);
}

TEST_CASE("bad values for every kind of knob are refused") {
    {
        env_guard g("BUDDY_PLACEMENT", "gpu");
        CHECK(error_of([] { config::from_env(); }).find("inproc, host or dpu") != std::string::npos);
    }
    {
        env_guard g("BUDDY_ROUTE", "torus");
        const std::string e = error_of([] { config::from_env(); });
        CHECK(e.find("'torus'") != std::string::npos);
        CHECK(e.find("direct or mesh2d") != std::string::npos);
        CHECK(e.find("BUDDY_ROUTE") != std::string::npos);
    }
    {
        env_guard g("BUDDY_DEPTH", "0");
        config c = config::from_env();
        CHECK(error_of([&] { c.validate(); }).find("depth") != std::string::npos);
    }
    {
        env_guard g("BUDDY_TIMEOUT", "-3");
        CHECK(error_of([] { config::from_env(); }).find("seconds") != std::string::npos);
    }
    {
        env_guard g("BUDDY_RING_BYTES", "100K");
        config c = config::from_env();
        CHECK(error_of([&] { c.validate(); }).find("power of two") != std::string::npos);
    }
    {
        env_guard g("BUDDY_VERBOSE", "maybe");
        CHECK_THROWS_AS(config::from_env(), config_error);
    }
}

TEST_CASE("--buddy-* flags override and are removed from argv; others stay") {
    std::vector<std::string> words = {"app", "--buddy-granularity=8K", "--size", "10", "--buddy-depth", "2",
                                      "--buddy-verbose", "--", "--buddy-depth=9"};
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(words.size());
    char** av = argv.data();
    config c;
    c.apply_args(&argc, &av);
    CHECK(c.granularity == 8192);
    CHECK(c.depth == 2);
    CHECK(c.verbose);
    REQUIRE(argc == 5);
    CHECK(std::string(av[1]) == "--size");
    CHECK(std::string(av[2]) == "10");
    CHECK(std::string(av[3]) == "--");
    CHECK(std::string(av[4]) == "--buddy-depth=9");  // after --, it belongs to the application
    CHECK(av[5] == nullptr);
}

TEST_CASE("a boolean flag takes a boolean word after it, and leaves any other word") {
    // Returns the arguments left for the application.
    auto apply = [](config& c, std::vector<std::string> words) {
        std::vector<char*> argv;
        for (auto& w : words) argv.push_back(w.data());
        argv.push_back(nullptr);
        int argc = static_cast<int>(words.size());
        char** av = argv.data();
        c.apply_args(&argc, &av);
        return std::vector<std::string>(av + 1, av + argc);
    };
    config c;
    CHECK(apply(c, {"app", "--buddy-node-rings", "off"}).empty());
    CHECK_FALSE(c.node_rings);
    CHECK(apply(c, {"app", "--buddy-checksum", "--buddy-verbose", "yes", "--size", "1"}) ==
          std::vector<std::string>{"--size", "1"});
    CHECK(c.checksum);  // bare: on (the next word is a flag)
    CHECK(c.verbose);   // "yes" taken
    CHECK(apply(c, {"app", "--buddy-node-rings", "1000", "off"}) == std::vector<std::string>{"1000", "off"});
    CHECK(c.node_rings);  // bare: "1000" is not a boolean word, and "off" after it is the application's
    c.verbose = false;
    CHECK(apply(c, {"app", "--buddy-verbose", "1", "input"}) == std::vector<std::string>{"1", "input"});
    CHECK(c.verbose);  // 0 and 1 after a bare flag are the application's (a count, a file name)
    CHECK_THROWS_WITH_AS(apply(c, {"app", "--buddy-node-rings", "Off"}),
                         doctest::Contains("write the value in lower case"), config_error);
}

TEST_CASE("the knobs that shape what ranks send and accept must agree job-wide") {
    std::vector<std::string> wide, per_rank;
    for (const knobs::knob& k : knobs::table()) (k.job_wide ? wide : per_rank).emplace_back(k.name);
    CHECK(wide == std::vector<std::string>{"placement", "route", "granularity", "depth", "max-message", "router-threads",
                                           "routers-per-node", "ring-bytes", "checksum", "node-rings"});
    // Where a rank waits, what it prints or writes, and its node's own paths
    // may differ from rank to rank.
    CHECK(per_rank == std::vector<std::string>{"timeout", "report", "router-cores", "router-bin", "router-socket",
                                               "dpu-map", "wait", "verbose"});
}

TEST_CASE("an unknown --buddy- flag is refused with the list of known ones") {
    std::vector<std::string> words = {"app", "--buddy-granularty=8K"};
    std::vector<char*> argv = {words[0].data(), words[1].data(), nullptr};
    int argc = 2;
    char** av = argv.data();
    config c;
    const std::string e = error_of([&] { c.apply_args(&argc, &av); });
    CHECK(e.find("--buddy-granularty") != std::string::npos);
    CHECK(e.find("--buddy-granularity") != std::string::npos);
}

// ------------------------------------------------------------ the table

namespace {
// A valid value other than the default, as text `set` accepts and `get` returns.
std::string sample(const knobs::knob& k) {
    switch (k.kind) {
        case knobs::form::choice: {  // the last word of "a, b or c": never the default (the first)
            const auto at = k.choices.rfind(' ');
            return std::string(k.choices.substr(at == std::string_view::npos ? 0 : at + 1));
        }
        case knobs::form::bytes: return knobs::format_bytes(k.max);
        case knobs::form::count: return std::to_string(k.max);
        case knobs::form::seconds: return "2.5";
        case knobs::form::boolean: return k.get(config{}) == "on" ? "off" : "on";  // never the default
        case knobs::form::path: return "/tmp/report.json";
        case knobs::form::socket: return "/tmp/buddy-test/r.sock";
        case knobs::form::cpu_list: return "0";
        case knobs::form::program: return "/bin/sh";
        case knobs::form::file: return "/etc/passwd";
    }
    return {};
}

struct argv_of {
    std::vector<std::string> words;
    std::vector<char*> ptrs;
    int argc = 0;
    char** argv = nullptr;
    explicit argv_of(std::vector<std::string> w) : words(std::move(w)) {
        for (auto& x : words) ptrs.push_back(x.data());
        ptrs.push_back(nullptr);
        argc = static_cast<int>(words.size());
        argv = ptrs.data();
    }
};
}  // namespace

TEST_CASE("every knob has a name, unit, default, accepted form and description") {
    REQUIRE(knobs::table().size() == 18);  // wait, checksum, route, dpu-map, node-rings
    const config defaults;
    for (const knobs::knob& k : knobs::table()) {
        CAPTURE(k.name);
        CHECK(!k.name.empty());
        CHECK(!k.unit.empty());
        CHECK(!k.description.empty());
        CHECK(!knobs::default_text(k).empty());
        CHECK(!knobs::accepted(k).empty());
        CHECK(knobs::env_of(k).rfind("BUDDY_", 0) == 0);
        CHECK(knobs::flag_of(k) == "--buddy-" + std::string(k.name));
        if (k.kind == knobs::form::bytes || k.kind == knobs::form::count) {
            REQUIRE(static_cast<bool>(k.number));
            CHECK(k.min <= k.max);
            CHECK(k.number(defaults) >= k.min);
            CHECK(k.number(defaults) <= k.max);
        }
        if (k.get(defaults).empty()) CHECK(!k.unset_means.empty());
        CHECK(&knobs::find(k.name) == &k);
    }
    CHECK(knobs::env_of(knobs::find("max-message")) == "BUDDY_MAX_MESSAGE");
    CHECK_THROWS_AS(knobs::find("no-such-knob"), std::out_of_range);
}

TEST_CASE("describe() lists every knob with its value, variable, flag and where it came from") {
    env_guard g("BUDDY_DEPTH", "7");
    argv_of a({"app", "--buddy-granularity=8K"});
    config c;
    c.timeout_seconds = 9;
    c.apply_env();
    c.apply_args(&a.argc, &a.argv);
    const std::string d = c.describe();
    for (const knobs::knob& k : knobs::table()) {
        CAPTURE(k.name);
        CHECK(d.find(std::string(k.name) + " ") != std::string::npos);
        CHECK(d.find(knobs::env_of(k)) != std::string::npos);
        CHECK(d.find(knobs::flag_of(k)) != std::string::npos);
    }
    auto line_of = [&](std::string_view name) {
        const auto at = d.find(std::string(name) + " ");
        return d.substr(at, d.find('\n', at) - at);
    };
    CHECK(line_of("depth").find("env BUDDY_DEPTH") != std::string::npos);
    CHECK(line_of("granularity").find("8K") != std::string::npos);
    CHECK(line_of("granularity").find("flag --buddy-granularity") != std::string::npos);
    CHECK(line_of("timeout").find("explicit") != std::string::npos);
    CHECK(line_of("max-message").find("default") != std::string::npos);
    CHECK(line_of("router-bin").find("(searched)") != std::string::npos);
}

TEST_CASE("every knob round-trips through its variable and its flag") {
    for (const knobs::knob& k : knobs::table()) {
        CAPTURE(k.name);
        const std::string text = sample(k);
        REQUIRE(text != k.get(config{}));
        {
            env_guard g(knobs::env_of(k).c_str(), text.c_str());
            const config c = config::from_env();
            CHECK(k.get(c) == text);
            CHECK(knobs::origin_of(c, k).source == buddy::knob_source::environment);
        }
        {
            argv_of a({"app", knobs::flag_of(k) + "=" + text, "keep"});
            config c;
            c.apply_args(&a.argc, &a.argv);
            CHECK(k.get(c) == text);
            CHECK(knobs::origin_of(c, k).source == buddy::knob_source::flag);
            REQUIRE(a.argc == 2);
            CHECK(std::string(a.argv[1]) == "keep");
        }
    }
}

TEST_CASE("errors echo exactly what the user gave") {
    {
        env_guard g("BUDDY_GRANULARITY", "0");
        config c = config::from_env();
        const std::string e = error_of([&] { c.validate(); });
        CHECK(e.find("BUDDY_GRANULARITY 0 is out of range") != std::string::npos);
        CHECK(e.find("0G") == std::string::npos);
    }
    {
        env_guard g("BUDDY_GRANULARITY", "1.5M");
        const std::string e = error_of([] { config::from_env(); });
        CHECK(e.find("'1.5M'") != std::string::npos);
    }
    {
        env_guard g("BUDDY_DEPTH", "99999999999");
        config c = config::from_env();
        CHECK(error_of([&] { c.validate(); }).find("BUDDY_DEPTH 99999999999 is out of range") != std::string::npos);
    }
    {
        config c;  // set by the program: named by the knob, shown as set
        c.granularity = 0;
        CHECK(error_of([&] { c.validate(); }).find("granularity 0 is out of range") != std::string::npos);
    }
    {
        env_guard g("BUDDY_GRANULARITY", "64K");  // the program changed it after: no longer the user's text
        config c = config::from_env();
        c.granularity = 16;
        CHECK(error_of([&] { c.validate(); }).find("granularity 16 is out of range") != std::string::npos);
    }
}

TEST_CASE("an empty value is refused for every knob, from the environment and from a flag") {
    for (const knobs::knob& k : knobs::table()) {
        CAPTURE(k.name);
        const std::string var = knobs::env_of(k);
        {
            env_guard g(var.c_str(), "");
            const std::string e = error_of([] { config::from_env(); });
            CHECK(e.find("invalid " + var + " ''") != std::string::npos);
            CHECK(e.find("unset " + var) != std::string::npos);
        }
        argv_of a({"app", knobs::flag_of(k) + "="});
        config c;
        CHECK(error_of([&] { c.apply_args(&a.argc, &a.argv); }).find("invalid " + knobs::flag_of(k) + " ''") !=
              std::string::npos);
    }
}

TEST_CASE("router cores: malformed lists and cores this machine lacks are refused at validate") {
    const long cpus = sysconf(_SC_NPROCESSORS_CONF);
    const std::string missing = std::to_string(cpus);
    for (const char* bad : {"1-0", "a,b", "3,", "-1"}) {
        CAPTURE(bad);
        env_guard g("BUDDY_ROUTER_CORES", bad);
        config c = config::from_env();
        const std::string e = error_of([&] { c.validate(); });
        CHECK(e.find("invalid BUDDY_ROUTER_CORES '" + std::string(bad) + "'") != std::string::npos);
    }
    {
        env_guard g("BUDDY_ROUTER_CORES", ("0," + missing).c_str());
        config c = config::from_env();
        const std::string e = error_of([&] { c.validate(); });
        CHECK(e.find("core " + missing + " does not exist on this machine") != std::string::npos);
    }
    env_guard g("BUDDY_ROUTER_CORES", "0");
    config c = config::from_env();
    CHECK_NOTHROW(c.validate());
}

// Found by fuzz_config (docs/reliability.md): each core of a range was looked
// up among the cores listed before it, so "0-65535" took seconds at start.
TEST_CASE("router cores: the widest list is read, each core once, in the order first given") {
    const std::vector<int> all = knobs::parse_cpu_list("9,0-65535,3-4,65535", "BUDDY_ROUTER_CORES");
    REQUIRE(all.size() == 65536);
    CHECK(all[0] == 9);
    CHECK(all[1] == 0);
    CHECK(all[9] == 8);
    CHECK(all[10] == 10);
    CHECK(all.back() == 65535);
    CHECK(error_of([] { knobs::parse_cpu_list("0-65536", "BUDDY_ROUTER_CORES"); }).find("'0-65536'") != std::string::npos);
}

TEST_CASE("router bin: missing, not executable, or not a buddy-router is refused") {
    config c;
    c.router_bin = "/nonexistent/buddy-router";
    CHECK(error_of([&] { c.validate(); }).find("cannot find it") != std::string::npos);
    char plain[] = "/tmp/buddy-test-plain-XXXXXX";
    const int fd = mkstemp(plain);
    REQUIRE(fd >= 0);
    close(fd);
    chmod(plain, 0644);
    c.router_bin = plain;
    CHECK(error_of([&] { c.validate(); }).find("not executable") != std::string::npos);
    unlink(plain);
    c.router_bin = "/bin/false";
    CHECK_NOTHROW(c.validate());  // placement inproc starts no router: not run
    c.where = buddy::placement::host;
    const std::string e = error_of([&] { c.validate(); });
    CHECK(e.find("not a buddy-router") != std::string::npos);
    CHECK(e.find("exited 1") != std::string::npos);
    if (const char* real = std::getenv("TEST_ROUTER_BIN")) {
        c.router_bin = real;
        CHECK_NOTHROW(c.validate());
    }
}

TEST_CASE("router socket: relative paths and directories that cannot be made are refused") {
    config c;
    c.router_socket = "router.sock";
    CHECK(error_of([&] { c.validate(); }).find("a relative path") != std::string::npos);
    c.router_socket = "/nonexistent-buddy-dir/sub/r.sock";
    const std::string e = error_of([&] { c.validate(); });
    CHECK(e.find("/nonexistent-buddy-dir/sub does not exist and cannot be made") != std::string::npos);
    c.router_socket = "/tmp/" + std::string(200, 's') + ".sock";
    CHECK(error_of([&] { c.validate(); }).find("too long for a Unix socket") != std::string::npos);
    c.router_socket = "/tmp/buddy-not-made-yet/r-{i}.sock";  // one level is made at start
    CHECK_NOTHROW(c.validate());
}

TEST_CASE("the dpu map must be a readable file, checked only under placement dpu") {
    config c;
    knobs::apply_text(c, knobs::find("dpu-map"), "/no/such/dpu.map", buddy::knob_source::environment, "BUDDY_DPU_MAP");
    CHECK_NOTHROW(c.validate());  // host and inproc never read it
    c.where = placement::dpu;
    const std::string e = error_of([&] { c.validate(); });
    CHECK(e.find("BUDDY_DPU_MAP '/no/such/dpu.map'") != std::string::npos);
    CHECK(e.find("cannot find it") != std::string::npos);
    c.dpu_map = "/etc";
    CHECK(error_of([&] { c.validate(); }).find("not a regular file") != std::string::npos);
    c.dpu_map = "/etc/passwd";  // its lines are lib/control's to check (test_control_tcp)
    CHECK_NOTHROW(c.validate());
}

TEST_CASE("config_error stays catchable for programs that validate themselves") {
    config c;
    c.depth = 0;
    CHECK_THROWS_AS(c.validate(), config_error);
    CHECK_THROWS_AS(c.validate(), std::invalid_argument);
}

TEST_CASE("the README's knob table is the one the table generates") {
    const char* readme = std::getenv("TEST_README");
    if (!readme) return;  // run outside meson: nothing to compare with
    std::ifstream in(readme);
    REQUIRE(in);
    std::string line, block;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.rfind("| variable | flag |", 0) == 0) inside = true;
        if (inside && line.empty()) break;
        if (inside) block += line + "\n";
    }
    INFO("README.md's table should read:\n" << knobs::markdown_table());
    CHECK(block == knobs::markdown_table());
}

TEST_CASE("the fuzz_config corpus has a seed for every knob, naming the knob's place in the table") {
    // tests/fuzz/make_seeds.py lists the knobs by hand; a knob added to the
    // table and not there would never be fuzzed from a valid value.
    const char* corpus = std::getenv("TEST_FUZZ_CONFIG_CORPUS");
    if (!corpus) return;  // run outside meson
    const auto table = knobs::table();
    for (std::size_t i = 0; i < table.size(); ++i) {
        const std::string path = std::string(corpus) + "/knob_" + std::string(table[i].name);
        CAPTURE(path);
        std::ifstream in(path, std::ios::binary);
        REQUIRE_MESSAGE(in, "no seed: add the knob to KNOBS in tests/fuzz/make_seeds.py and rerun it");
        char head[2] = {};
        in.read(head, 2);
        REQUIRE(in.gcount() == 2);
        CHECK(head[0] == 1);                                  // the harness's "one knob" case
        CHECK(static_cast<unsigned char>(head[1]) == i);      // which knob: its index in the table
    }
}

TEST_CASE("memory model: worst-case buffers from the knobs and the job's shape") {
    CHECK(memory_model::batch_header_bytes == wire::batch_header_bytes);
    CHECK(memory_model::checksum_trailer_bytes == wire::checksum_trailer_bytes);
    CHECK(memory_model::ring_chunk_header_bytes == buddy::ring::chunk_header_bytes);
    CHECK(memory_model::ring_min_capacity == buddy::ring::min_capacity);
    CHECK(memory_model::ring_header_bytes == sizeof(buddy::ring::ring_header));
    config c;  // 32K granularity, depth 4, 4M rings, 1 router thread
    const std::uint64_t batch = 32 * 1024 + 32, per_peer = 2 * 4 + 1;
    {
        // Node rings: 4 x (depth + 1) chunks of a batch, rounded up (1 MiB), halved
        // while a rank's inbound rings pass 32 MiB, never below depth + 1 (256 KiB).
        const std::uint64_t chunk = buddy::ring::chunk_bytes(batch);
        CHECK(memory_model::node_ring_capacity(c, 2) == 1u << 20);
        CHECK(memory_model::node_ring_capacity(c, 33) == 1u << 20);
        CHECK(memory_model::node_ring_capacity(c, 34) == 512u << 10);
        CHECK(memory_model::node_ring_capacity(c, 65) == 512u << 10);
        CHECK(memory_model::node_ring_capacity(c, 66) == 256u << 10);
        CHECK(memory_model::node_ring_capacity(c, 1000) == 256u << 10);
        CHECK(memory_model::node_ring_capacity(c, 1000) >= 5 * chunk);
        const auto e = memory_model::worst_case(c, {2, 2});  // both ranks on one node
        CHECK(e.peers_per_rank == 0);
        CHECK(e.rank_bytes == 0);
        CHECK(e.node_peers == 1);
        CHECK(e.node_ring_bytes == sizeof(buddy::ring::ring_header) + (1u << 20));
        const auto big = memory_model::worst_case(c, {100000, 64});
        CHECK(big.rank_bytes == (100000 - 64) * per_peer * batch);  // direct route: every rank elsewhere is a peer
        CHECK(big.node_ring_bytes == 63 * (sizeof(buddy::ring::ring_header) + (512u << 10)));
        const std::string d = memory_model::describe(c, {2, 2});
        CHECK(d.find("1.0 MiB of inbound node rings (1 ranks of its node x 1.0 MiB)") != std::string::npos);
        // Without node rings (knob off, another route, or no shared memory) the
        // node's other ranks are peers like any other.
        const auto off = memory_model::worst_case(c, {2, 2, false});
        CHECK(off.peers_per_rank == 1);
        CHECK(off.node_peers == 0);
        CHECK(off.node_ring_bytes == 0);
        CHECK(off.rank_bytes == per_peer * batch);
        CHECK(memory_model::describe(c, {2, 2, false}).find("node rings") == std::string::npos);
    }
    c.where = placement::host;
    {
        const auto e = memory_model::worst_case(c, {128, 64});  // 2 nodes, a router each
        CHECK(e.peers_per_router == 1);
        CHECK(e.rank_bytes == 2ull * 4 * 1024 * 1024);
        CHECK(e.ring_bytes_per_router == 64 * e.rank_bytes);
        CHECK(e.router_bytes == per_peer * batch);
        const std::string d = memory_model::describe(c, {128, 64});
        CHECK(d.find("8.0 MiB of rings per rank") != std::string::npos);
        CHECK(d.find("512 MiB of its ranks' rings") != std::string::npos);
    }
    CHECK(memory_model::human_bytes(0) == "0 B");
    CHECK(memory_model::human_bytes(1536) == "1.5 KiB");
    CHECK(memory_model::human_bytes(3ull << 30) == "3.0 GiB");
}
