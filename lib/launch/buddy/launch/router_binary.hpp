// Where a launcher finds the buddy-router executable.
//
// Two parties start routers: a rank that finds none listening on its node
// (placement host), and buddyrun, which tells the ranks which router to start.
// Both ask this one function, so an installed buddy behaves the same whichever
// starts the router.
#pragma once

#include <string>
#include <string_view>

namespace buddy::launch {

/// The file this process is running (/proc/self/exe), or "" if it cannot be read.
std::string running_executable();

/// The directory buddy's executables were installed to, fixed at build time.
std::string_view install_bindir() noexcept;

/// The buddy-router to start, first match wins:
///   1. `chosen` when not empty (BUDDY_ROUTER_BIN: the user decided);
///   2. next to the running executable (an installed application, or buddyrun,
///      beside an installed buddy-router);
///   3. the build tree's router/ seen from apps/ or tests/<suite>/ (running
///      straight from a build directory);
///   4. each directory on PATH;
///   5. install_bindir() (an installed application run from elsewhere with a
///      PATH that does not name buddy's bindir).
/// Returns "" when no candidate is an executable file.
std::string find_router_binary(std::string_view chosen);

/// The same search for a process running `running` with `path_variable` as
/// PATH (the function above passes its own), so a test can stage both.
std::string find_router_binary(std::string_view chosen, std::string_view running, std::string_view path_variable);

}  // namespace buddy::launch
