// Where a rank or buddyrun finds buddy-router (lib/launch): the order of the
// candidates, and what is never taken, on staged directories.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "buddy/launch/router_binary.hpp"

using buddy::launch::find_router_binary;

namespace {

// A fresh directory tree per test case, removed afterwards.
struct scratch {
    std::string root;
    scratch() {
        char name[] = "/tmp/buddy-test-launch.XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        root = name;
    }
    ~scratch() { std::system(("rm -rf '" + root + "'").c_str()); }
    std::string dir(const std::string& relative) const {
        const std::string path = root + "/" + relative;
        std::system(("mkdir -p '" + path + "'").c_str());
        return path;
    }
    // A file named buddy-router in `relative`, executable or not.
    std::string router(const std::string& relative, bool executable = true) const {
        const std::string path = dir(relative) + "/buddy-router";
        std::ofstream(path) << "#!/bin/sh\n";
        ::chmod(path.c_str(), executable ? 0755 : 0644);
        return path;
    }
};

std::string installed_or_nothing() {
    const std::string installed = std::string(buddy::launch::install_bindir()) + "/buddy-router";
    return ::access(installed.c_str(), X_OK) == 0 ? installed : std::string();
}

}  // namespace

TEST_CASE("BUDDY_ROUTER_BIN is taken as given") {
    CHECK(find_router_binary("/nowhere/my-router", "/nowhere/app", "/nowhere") == "/nowhere/my-router");
}

TEST_CASE("next to the running program comes before the build tree and PATH") {
    scratch s;
    const std::string beside = s.router("bin");
    s.router("router");
    const std::string on_path = s.dir("path");
    s.router("path");
    CHECK(find_router_binary("", s.root + "/bin/app", on_path) == beside);
}

TEST_CASE("a build tree's router/ is found from apps/ and from tests/<suite>/") {
    scratch s;
    s.router("router");
    s.dir("apps");
    s.dir("tests/integration");
    CHECK(find_router_binary("", s.root + "/apps/histogram", "") == s.root + "/apps/../router/buddy-router");
    CHECK(find_router_binary("", s.root + "/tests/integration/hops", "") ==
          s.root + "/tests/integration/../../router/buddy-router");
}

TEST_CASE("PATH is searched in order; files that are not executable do not count") {
    scratch s;
    s.router("first", false);
    const std::string second = s.router("second");
    s.router("third");
    const std::string path = s.dir("empty") + ":" + s.root + "/first:" + s.root + "/second:" + s.root + "/third";
    CHECK(find_router_binary("", s.root + "/elsewhere/app", path) == second);
}

TEST_CASE("empty PATH entries do not mean the current directory") {
    scratch s;
    s.router("cwd");
    char previous[4096] = {};
    REQUIRE(::getcwd(previous, sizeof previous) != nullptr);
    REQUIRE(::chdir((s.root + "/cwd").c_str()) == 0);
    const std::string found = find_router_binary("", s.root + "/elsewhere/app", "::");
    REQUIRE(::chdir(previous) == 0);
    CHECK(found == installed_or_nothing());
}

TEST_CASE("the install bindir is the last resort") {
    const std::string_view bindir = buddy::launch::install_bindir();
    REQUIRE(!bindir.empty());
    CHECK(bindir.front() == '/');
    scratch s;
    CHECK(find_router_binary("", s.root + "/elsewhere/app", s.dir("empty")) == installed_or_nothing());
}

TEST_CASE("the running program is known") {
    const std::string self = buddy::launch::running_executable();
    REQUIRE(!self.empty());
    CHECK(self.find("test_launch") != std::string::npos);
}
