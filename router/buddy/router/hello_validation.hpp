// Whether a router accepts a rank's hello: its settings in range, and
// consistent with the job it names if that job is known here already.
#pragma once

#include <string>

#include "buddy/control/messages.hpp"
#include "buddy/router/jobs.hpp"

namespace buddy::router {

/// Why `h` is refused on its own merits; empty: acceptable.
std::string hello_settings_refusal(const control::hello& h);

/// Why `h` cannot join `known`, the job of that id this router serves; empty: it can.
std::string hello_job_refusal(const control::hello& h, const job_entry& known);

}  // namespace buddy::router
