#!/usr/bin/env bash
# barrier() is bounded: under every placement,
#  1. a rank that never arrives (it sleeps far past BUDDY_TIMEOUT=3) makes the
#     others end the job with an error naming it and the barrier, non-zero,
#     long before it would have arrived;
#  2. a rank that returns without barrier() (its comm's final barrier meets
#     the others' barrier()) ends the job with an error naming it and both
#     barriers;
#  3. the same program with every rank in step passes;
#  4. its counting round (sum_check) agrees with MPI_Allreduce at 1 to 7
#     ranks: powers of two, and every way of folding the rest into one.
source "$(dirname "$0")/lib.sh"
EXE="$BUILD_DIR/tests/integration/barrier_check"
PLACEMENTS=${BUDDY_TEST_PLACEMENTS:-inproc host}
err=$(mktemp)
trap 'rm -f "$err"' EXIT

for n in 1 2 3 4 5 6 7; do
  out=$(run_mpi 60 "$n" "$BUILD_DIR/tests/integration/sum_check")
  grep -q "sum_check: ok ($n ranks" <<<"$out" || fail "the counting round at $n ranks: $out"
done
echo "ok: the counting round agrees with MPI_Allreduce at 1 to 7 ranks"

for placement in $PLACEMENTS; do
  export BUDDY_PLACEMENT=$placement
  out=$(run_mpi 60 3 -x BUDDY_PLACEMENT "$EXE")
  grep -q "barrier_check: ok" <<<"$out" || fail "$placement: barriers in step did not pass: $out"
  echo "ok: $placement: three ranks in step"

  # Rank 2 would arrive after 120 s; the bound of this launch (40 s) is far
  # below that, so a non-timeout exit proves the barrier gave up by itself.
  rc=0
  BUDDY_TIMEOUT=3 run_mpi 40 3 -x BUDDY_PLACEMENT -x BUDDY_TIMEOUT "$EXE" --late 2 --sleep 120 >/dev/null 2>"$err" || rc=$?
  (( rc != 0 )) || fail "$placement: late rank: exit status 0"
  (( rc != 124 && rc != 137 )) || fail "$placement: late rank: the barrier waited until the launch was killed: $(head -c 2000 "$err")"
  grep -q "rank 2 has not entered barrier #1 after [0-9]* s" "$err" ||
      fail "$placement: late rank: no error naming rank 2 and the barrier: $(head -c 2000 "$err")"
  echo "ok: $placement: late rank named (exit $rc): $(grep -m1 -o 'rank 2 has not entered[^;]*' "$err")"

  rc=0
  BUDDY_TIMEOUT=3 run_mpi 40 3 -x BUDDY_PLACEMENT -x BUDDY_TIMEOUT "$EXE" --skip 2 >/dev/null 2>"$err" || rc=$?
  (( rc != 0 )) || fail "$placement: skipped barrier: exit status 0"
  (( rc != 124 && rc != 137 )) || fail "$placement: skipped barrier: the job hung: $(head -c 2000 "$err")"
  grep -Eq "rank 2 is in the final barrier \(#1, at comm destruction\) while rank [01] is in barrier #1|rank [01] is in barrier #1 while rank 2 is in the final barrier" "$err" ||
      fail "$placement: skipped barrier: no error naming rank 2 and both barriers: $(head -c 2000 "$err")"
  echo "ok: $placement: mismatched barriers named (exit $rc): $(grep -m1 -o 'rank [0-9] is in [^:]*' "$err")"

  # A rank of the node ends its process while the others wait in barrier():
  # under inproc they watch its pid (node rings) and name it.  mpirun ends the
  # job too once it sees the exit, and may do so first: the message must come
  # in one of three tries (it came in every one of 3 by hand; without the
  # check it never does).
  if [[ $placement == inproc ]]; then
    named=0
    for try in 1 2 3; do
      rc=0
      BUDDY_TIMEOUT=30 run_mpi 40 3 -x BUDDY_PLACEMENT -x BUDDY_TIMEOUT "$EXE" --gone 2 >/dev/null 2>"$err" || rc=$?
      (( rc != 0 )) || fail "$placement: rank gone: exit status 0"
      (( rc != 124 && rc != 137 )) || fail "$placement: rank gone: the job hung: $(head -c 2000 "$err")"
      if grep -q "rank 2 (pid [0-9]*, this node) is gone: barrier() would wait for it" "$err"; then named=$try; break; fi
    done
    (( named > 0 )) || fail "$placement: rank gone: no error naming rank 2 in 3 tries: $(head -c 2000 "$err")"
    echo "ok: $placement: a rank gone from the node named in barrier() (try $named, exit $rc)"
  fi
done
unset BUDDY_PLACEMENT

# A report that cannot be written fails the job, with a message naming the path.
rc=0
BUDDY_REPORT=/nonexistent/dir/r.json run_mpi 60 2 -x BUDDY_REPORT "$EXE" >/dev/null 2>"$err" || rc=$?
(( rc != 0 )) || fail "unwritable report: exit status 0"
grep -q "cannot write the report to /nonexistent/dir/r.json" "$err" || fail "unwritable report: no clear message: $(cat "$err")"
echo "ok: unwritable report fails the job (exit $rc)"
