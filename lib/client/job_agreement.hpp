// Start-up check that the ranks of a job can work together: they run the same
// binary (the same handlers registered in the same order at the same code
// offsets, since handler ids and function handlers travel as numbers), and
// they agree on the knobs that shape what one rank sends and another accepts
// (knobs::knob::job_wide: placement, route, granularity, depth, max-message,
// checksum, node rings, the routers' shape).  Either mismatch otherwise hangs
// the job (ranks of different placements wait for each other) or ends it
// mid-run with a "malformed batch" that names no cause.
#pragma once

#include <mpi.h>

#include "buddy/config.hpp"

namespace buddy::detail {

/// Collective over `world`: one reduction when the ranks agree.  Throws
/// config_error on every rank when any two ranks differ: for the binary, the
/// range of handler counts; for knobs, which ones, the first rank that differs
/// from rank 0 and both values.
void check_job_agreement(MPI_Comm world, const config& settings);

}  // namespace buddy::detail
