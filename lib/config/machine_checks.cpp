// Knob checks that ask this machine: which cores exist, whether a program is a
// buddy-router, whether a socket's directory can be made.  Cold code, run once
// at start, so that a value that cannot work is refused before any rank waits
// for a router that will never come.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "buddy/config/knobs.hpp"

extern char** environ;

namespace buddy::knobs {

namespace {

// Long enough for a loaded node to start a real buddy-router (it only prints
// its version), short enough that a program that never answers does not hold
// the start up noticeably.
constexpr auto version_bound = std::chrono::seconds(5);

std::string parent_of(const std::string& path) {
    const auto at = path.rfind('/');
    if (at == std::string::npos) return ".";
    return at == 0 ? "/" : path.substr(0, at);
}

bool is_directory(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Runs `path --version` with stdout to a pipe and everything else to
// /dev/null; returns what it printed (up to a line), or sets `answered` false
// if it did not finish within the bound (it is then killed).
std::string version_of(const std::string& path, bool& answered, int& status) {
    answered = false;
    status = -1;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);  // dup2 clears close-on-exec on 1
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::string program = path, flag = "--version";
    char* argv[] = {program.data(), flag.data(), nullptr};
    pid_t child = -1;
    const int spawned = posix_spawn(&child, path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (spawned != 0) {
        ::close(fds[0]);
        return {};
    }
    const auto deadline = std::chrono::steady_clock::now() + version_bound;
    std::string said;
    char buf[256];
    bool open = true;
    while (open && said.size() < 4096) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fds[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) open = false;
        else said.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    // The program may close stdout and keep running: wait for it up to the
    // same deadline, then end it.
    for (;;) {
        const pid_t r = ::waitpid(child, &status, WNOHANG);
        if (r == child) {
            answered = true;
            break;
        }
        if (r < 0 && errno != EINTR) {  // reaped elsewhere (SIGCHLD ignored): judge by the output
            answered = !open;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(child, SIGKILL);
            while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        const timespec pause{0, 10'000'000};
        ::nanosleep(&pause, nullptr);
    }
    if (const auto nl = said.find('\n'); nl != std::string::npos) said.resize(nl);
    return said;
}

}  // namespace

void check_cpus_exist(const knob& k, const origin& o, const std::vector<int>& cpus) {
    // Configured, not online: a core taken offline for now still exists, and
    // pinning to it fails later with its own message.
    const long have = ::sysconf(_SC_NPROCESSORS_CONF);
    if (have <= 0) return;  // unknown: nothing to check against
    for (int cpu : cpus)
        if (cpu >= have)
            refuse(k, o.spelled, o.shown,
                   "core " + std::to_string(cpu) + " does not exist on this machine (cores 0 to " +
                       std::to_string(have - 1) + ")");
}

void check_router_program(const knob& k, const origin& o, const std::string& path, bool probe) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        refuse(k, o.spelled, o.shown, std::string("cannot find it: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) refuse(k, o.spelled, o.shown, "not a regular file");
    if (::access(path.c_str(), X_OK) != 0) refuse(k, o.spelled, o.shown, "not executable");
    if (!probe) return;
    bool answered = false;
    int status = 0;
    const std::string said = version_of(path, answered, status);
    if (!answered)
        refuse(k, o.spelled, o.shown,
               "not a buddy-router: '" + path + " --version' did not finish within " +
                   std::to_string(version_bound.count()) + " s");
    if (said.rfind("buddy-router ", 0) != 0) {
        std::string how = said.empty() ? "printed nothing" : "printed '" + said + "'";
        if (WIFEXITED(status)) how += " and exited " + std::to_string(WEXITSTATUS(status));
        refuse(k, o.spelled, o.shown, "not a buddy-router: '" + path + " --version' " + how);
    }
}

void check_socket_path(const knob& k, const origin& o, const std::string& path) {
    if (path.front() != '/')
        refuse(k, o.spelled, o.shown,
               "a relative path; the router socket must be absolute, since ranks and routers start in "
               "different directories");
    // Several routers per node add "-<index>" (socket_path_for): leave room for it.
    constexpr std::size_t room = sizeof(sockaddr_un{}.sun_path) - 1 - 3;
    if (path.size() > room)
        refuse(k, o.spelled, o.shown,
               "too long for a Unix socket: at most " + std::to_string(room) + " characters");
    const std::string dir = parent_of(path);
    if (is_directory(dir)) return;
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0) refuse(k, o.spelled, o.shown, "its directory " + dir + " is not a directory");
    // A rank makes the socket's directory (one level) when it starts a router.
    const std::string above = parent_of(dir);
    if (!is_directory(above))
        refuse(k, o.spelled, o.shown,
               "its directory " + dir + " does not exist and cannot be made: " + above + " does not exist");
}

void check_readable_file(const knob& k, const origin& o, const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        refuse(k, o.spelled, o.shown, std::string("cannot find it: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) refuse(k, o.spelled, o.shown, "not a regular file");
    if (::access(path.c_str(), R_OK) != 0) refuse(k, o.spelled, o.shown, "not readable by this user");
}

}  // namespace buddy::knobs
