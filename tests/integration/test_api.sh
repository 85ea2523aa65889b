#!/usr/bin/env bash
# Containers, function handlers, the size limit and bad destinations, end to
# end; and a job mixing two binaries is refused at start.
source "$(dirname "$0")/lib.sh"
T="$BUILD_DIR/tests/integration"
for n in 1 2 4; do
  for g in 64 256 64K; do
    depth=4; [[ $g == 64 ]] && depth=1   # tiny batches, no pipelining: handlers run inside async()
    out=$(BUDDY_GRANULARITY=$g BUDDY_DEPTH=$depth BUDDY_MAX_MESSAGE=256K run_mpi 60 "$n" -x BUDDY_GRANULARITY -x BUDDY_DEPTH -x BUDDY_MAX_MESSAGE \
          "$T/api_check")
    grep -q "^api_check: ok$" <<<"$out" || fail "api_check n=$n g=$g: $out"
    grep -q "message of 262145 bytes exceeds the maximum message size of 262144 bytes" <<<"$out" \
      || fail "oversize error text: $out"
    grep -q "destination rank $n is outside the job" <<<"$out" || fail "destination error text: $out"
    echo "ok: api_check n=$n granularity=$g"
  done
done

for n in 1 2 4; do
  out=$(BUDDY_DEPTH=3 run_mpi 60 "$n" -x BUDDY_DEPTH "$T/sub_comm")
  grep -q ": ok$" <<<"$out" || fail "sub_comm n=$n: $out"
  echo "ok: comms made from MPI_COMM_WORLD and a split of it, n=$n"
done

out=$(BUDDY_MAX_MESSAGE=64 run_mpi 60 2 -x BUDDY_MAX_MESSAGE "$T/api_check" --small-limit 2>&1) \
  || fail "fixed arguments under a 64-byte limit: $out"
[[ $(grep -c "small-limit: ok (.*message of 96 bytes exceeds the maximum message size of 64 bytes" <<<"$out") == 2 ]] \
  || fail "a 96-byte fixed argument under a 64-byte limit: $out"
echo "ok: a fixed argument over a small limit is refused at the call, one at the limit goes through"

set +e
out=$(run_mpi 60 2 "$T/api_check" --throw 2>&1)
status=$?
set -e
[[ $status -ne 0 ]] || fail "a throwing handler did not end the job"
grep -q "fatal: handler .* threw: bad input 3" <<<"$out" || fail "throwing handler not named: $out"
echo "ok: a throwing handler ends the job, named"

set +e
start=$SECONDS
out=$(run_mpi 60 2 "$T/api_check" --unwind 2>&1)
status=$?
set -e
[[ $status -ne 0 && $status -ne 124 ]] || fail "comm destroyed while unwinding: exit $status (124: hung): $out"
grep -q "destroyed while an exception propagates" <<<"$out" || fail "unwinding not explained: $out"
echo "ok: a comm destroyed while unwinding ends the job in $((SECONDS - start)) s instead of hanging"

set +e
out=$(timeout --kill-after=5 60 mpirun --oversubscribe --bind-to none -n 1 "$T/api_check" : -n 1 "$T/other_handlers" 2>&1)
status=$?
set -e
[[ $status -ne 0 ]] || fail "a job of two different binaries ran"
[[ $status -ne 134 && $status -ne 124 ]] || fail "a job of two different binaries: exit $status (SIGABRT or hung): $out"
! grep -q "terminate called" <<<"$out" || fail "a job of two different binaries: an uncaught exception: $out"
grep -q "ranks disagree about the registered handlers" <<<"$out" || fail "mixed binaries not explained: $out"
echo "ok: mixed binaries refused at start"
