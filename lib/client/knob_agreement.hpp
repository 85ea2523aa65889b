// Start-up check that the ranks of a job agree on the knobs that shape what
// one rank sends and another accepts (knobs::knob::job_wide: placement,
// route, granularity, depth, max-message, checksum, node rings, the routers'
// shape).  A knob set on some ranks only (an environment variable exported to
// one app context of an MPMD launch) otherwise hangs the job (ranks of
// different placements wait for each other) or ends it mid-run with a
// "malformed batch" that names no knob.
#pragma once

#include <mpi.h>

#include "buddy/config.hpp"

namespace buddy::detail {

/// Collective over `world`.  Throws config_error on every rank when any two
/// ranks disagree, naming the knobs, the first rank that differs from rank 0
/// and both values.
void check_job_wide_knobs(MPI_Comm world, const config& settings);

}  // namespace buddy::detail
