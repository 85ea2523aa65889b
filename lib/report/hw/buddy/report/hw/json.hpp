// The hardware-counter result as a JSON fragment ("hw_counters": {...}) to
// embed in a larger report object.
#pragma once

#include <string>

#include "buddy/report/hw/session.hpp"

namespace buddy::report::hw {

/// `"hw_counters": {"available": ..., "reason": ..., "cpu": ..., "values": {...}, "not_opened": [...]}`
std::string json_fragment(const result& r);

}  // namespace buddy::report::hw
