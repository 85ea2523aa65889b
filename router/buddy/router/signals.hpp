// How buddy-router is asked to stop: SIGTERM or SIGINT end the control loop
// (which then drops every rank cleanly); SIGPIPE is ignored, since a rank
// that vanished mid-send must not kill the router.
#pragma once

namespace buddy::router {

void install_stop_signals();

/// The signal that asked the router to stop, 0 while none has.
int stop_signal() noexcept;

}  // namespace buddy::router
