#!/usr/bin/env bash
# buddy-tune (the copy in the build tree): on a tiny histogram it must print a
# choice among the probed values, its evidence and the line to reuse it; a
# program without a JSON result line gets a clear "nothing to choose".
source "$(dirname "$0")/lib.sh"
TUNE="$BUILD_DIR/perf/buddy-tune"
[[ -x $TUNE ]] || fail "no $TUNE"

out=$(timeout 300 "$TUNE" --ranks 2 --granularity 4K,64K --depth 2,4 --reps 2 --budget 200 -- \
      "$APPS/histogram" --updates 5000 --table 1000 --json 2>/dev/null) || fail "buddy-tune exited non-zero: $out"
echo "$out"
best=$(grep -E '^best: granularity ' <<<"$out") || fail "no 'best:' line"
g=$(sed -E 's/^best: granularity ([^,]+), depth ([0-9]+).*/\1/' <<<"$best")
d=$(sed -E 's/^best: granularity ([^,]+), depth ([0-9]+).*/\2/' <<<"$best")
# Probed: 4K and 64K at depths 2 and 4, and always the default 32K/4.
[[ " 4K/2 4K/4 64K/2 64K/4 32K/4 " == *" $g/$d "* ]] || fail "choice $g/$d is not a probed point"
grep -qE "^ +BUDDY_GRANULARITY=$g BUDDY_DEPTH=$d mpirun -n 2 -x BUDDY_GRANULARITY -x BUDDY_DEPTH .*histogram" <<<"$out" \
    || fail "no reuse line for $g/$d"
grep -qE '^ +32K +4 +2 ' <<<"$out" || fail "the default 32K/4 was not probed twice"
grep -qE '^ +64K +2 +2 +[0-9.e+]+ ' <<<"$out" || fail "no evidence row for 64K/2"
echo "ok: buddy-tune chose $g/$d among the probed points"

set +e
out=$(timeout 120 "$TUNE" --ranks 1 --granularity 4K --depth 4 --reps 1 -- true 2>/dev/null)
rc=$?
set -e
(( rc == 1 )) || fail "buddy-tune on a program without JSON: exit $rc, expected 1"
grep -q "no probe succeeded" <<<"$out" || fail "no clear message: $out"
echo "ok: buddy-tune refuses a program that prints no result"

# buddyrun --tune: the same search on the job's own app, and a buddyrun line to reuse it.
out=$(timeout 300 "$BUILD_DIR/router/buddyrun" -n 2 --checksum --tune --tune-granularity 4K,64K --tune-depth 2 --tune-reps 1 \
      --tune-budget 100 -- "$APPS/histogram" --updates 5000 --table 1000 --json 2>/dev/null) \
    || fail "buddyrun --tune exited non-zero: $out"
echo "$out"
best=$(grep -E '^best: granularity ' <<<"$out") || fail "buddyrun --tune: no 'best:' line"
g=$(sed -E 's/^best: granularity ([^,]+), depth ([0-9]+).*/\1/' <<<"$best")
d=$(sed -E 's/^best: granularity ([^,]+), depth ([0-9]+).*/\2/' <<<"$best")
[[ " 4K/2 64K/2 32K/4 " == *" $g/$d "* ]] || fail "buddyrun --tune: choice $g/$d is not a probed point"
grep -qE "^  buddyrun -n 2 --placement inproc (--[a-z-]+=[a-z0-9]+ )*--granularity $g --depth $d .*histogram --updates 5000" <<<"$out" \
    || fail "buddyrun --tune: no buddyrun line to reuse $g/$d"
# The line runs as printed: a boolean knob travels as --NAME=VALUE (as two
# words its value would be taken for the application).
reuse=$(grep -E "^  buddyrun -n 2 " <<<"$out" | head -n 1)
[[ $reuse == *" --checksum=true "* ]] || fail "buddyrun --tune: the reuse line lost --checksum: $reuse"
read -ra words <<<"${reuse#  buddyrun }"
cmd=$(timeout 10 "$BUILD_DIR/router/buddyrun" --dry-run "${words[@]}" 2>&1) ||
    fail "buddyrun --tune: the reuse line is refused: $reuse: $cmd"
[[ $cmd == *"-x BUDDY_CHECKSUM=true"* && $cmd == *"-x BUDDY_GRANULARITY=$g"* ]] ||
    fail "buddyrun --tune: the reuse line does not set what was tuned: $cmd"
echo "ok: buddyrun --tune chose $g/$d among the probed points and printed the buddyrun line, which runs"
