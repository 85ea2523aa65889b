// Every knob: one name, one unit, one default, from environment and flags,
// validated with a message that names the knob and the accepted range.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "buddy/config.hpp"

using buddy::config;
using buddy::config_error;

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
        CHECK(error_of([] { config::from_env(); }).find("inproc, host, dpu") != std::string::npos);
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
