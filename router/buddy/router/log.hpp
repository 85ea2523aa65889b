// buddy-router's messages on stderr, each prefixed with the router's pid.
#pragma once

#include <cstdint>
#include <string>

namespace buddy::router {

/// Prints "buddy-router[pid]: " and `fmt` with up to two %s arguments.
void log(const char* fmt, const std::string& a = {}, const std::string& b = {});

/// A job or router instance id as messages show it (16 hex digits).
std::string hex_id(std::uint64_t v);

}  // namespace buddy::router
