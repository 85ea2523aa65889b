#!/usr/bin/env bash
# quicksilver: every run must verify (exact particle balance per cycle, every
# migrated particle received, serial replay of sampled histories), and the
# tallies -- event counts, the fixed-point path-length digest and the checksum
# of every particle's final state -- must be IDENTICAL at 1, 2 and 4 ranks and
# in both modes: the physics depends only on each particle's own state.
# --corrupt must fail verification with a non-zero exit.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/quicksilver"
[[ -x $EXE ]] || fail "quicksilver: $EXE not built"
CYCLES=4
SIZE=(--nx 12 --ny 12 --nz 12 --particles 4000 --cycles "$CYCLES" --groups 6 --table-mb 8 --seed 5)
PLACEMENTS=${BUDDY_TEST_PLACEMENTS:-inproc}
TALLY_FIELDS=(segments source absorb scatter fission produce escape census tally state_checksum)


# check_cycles OUTPUT DESCRIPTION: the per-cycle lines rank 0 printed balance
# exactly (start + source + produce = absorb + fission + escape + census, and a
# cycle starts with the previous cycle's census), recomputed here.
check_cycles() {
    python3 - "$1" "$CYCLES" <<'EOF' || fail "$2: per-cycle balance lines"
import re, sys
lines = [l for l in sys.argv[1].splitlines() if l.startswith("cycle ")]
want = int(sys.argv[2])
if len(lines) != want:
    sys.exit(f"expected {want} cycle lines, got {len(lines)}")
prev = 0
for l in lines:
    m = re.fullmatch(r"cycle (\d+): start (\d+) source (\d+) absorb (\d+) scatter (\d+) fission (\d+) "
                     r"produce (\d+) escape (\d+) census (\d+) segments (\d+)", l)
    if not m:
        sys.exit(f"malformed line: {l}")
    _, st, so, ab, sc, fi, pr, es, ce, sg = map(int, m.groups())
    if st + so + pr != ab + fi + es + ce:
        sys.exit(f"unbalanced: {l}")
    if st != prev:
        sys.exit(f"start {st} != previous census {prev}: {l}")
    prev = ce
EOF
}

# check_tallies LINE DESCRIPTION: same tallies as the first run.
reference=""
check_tallies() {
    local line=$1 what=$2 f v got=""
    [[ $(json_field "$line" app) == quicksilver ]] || fail "$what: app field"
    [[ $(json_field "$line" replay_mismatches) == 0 ]] || fail "$what: replay_mismatches=$(json_field "$line" replay_mismatches)"
    for f in "${TALLY_FIELDS[@]}"; do
        v=$(json_field "$line" "$f") || fail "$what: no $f field"
        got+="$f=$v "
    done
    (( $(json_field "$line" segments) > 0 )) || fail "$what: no segments tracked"
    if [[ -z $reference ]]; then
        reference=$got
    elif [[ $got != "$reference" ]]; then
        fail "$what: tallies differ from the first run:
  got:      $got
  expected: $reference"
    fi
    echo "ok: $what tallies match ($got)"
}

# run_case NPROCS DESCRIPTION ARGS...: a run that must verify and match the reference.
run_case() {
    local n=$1 what=$2 out line
    shift 2
    out=$(run_mpi 30 "$n" "$EXE" "${SIZE[@]}" --json "$@") || fail "$what: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    [[ $(json_field "$line" ranks) == "$n" ]] || fail "$what: ranks=$(json_field "$line" ranks), expected $n"
    expect_verified "$line" "$what"
    check_cycles "$out" "$what"
    check_tallies "$line" "$what"
    if (( n > 1 )); then
        (( $(json_field "$line" messages) > 0 )) || fail "$what: no particles migrated at $n ranks"
    else
        [[ $(json_field "$line" messages) == 0 ]] || fail "$what: messages at 1 rank"
    fi
    LAST=$line
}

for placement in $PLACEMENTS; do
    export BUDDY_PLACEMENT=$placement
    for n in 1 2 4; do
        run_case "$n" "buddy/$placement at $n ranks"
        [[ $(json_field "$LAST" placement) == "$placement" ]] \
            || fail "buddy at $n ranks: placement $(json_field "$LAST" placement), expected $placement"
        [[ $(json_field "$LAST" arrivals) == barrier ]] || fail "buddy at $n ranks: arrivals $(json_field "$LAST" arrivals)"
        (( $(json_field "$LAST" rounds) == CYCLES )) \
            || fail "buddy at $n ranks: $(json_field "$LAST" rounds) rounds for $CYCLES cycles (expected one a cycle)"
    done
    # Where arrivals are tracked: by their handler once the rank waits in
    # barrier() (the default, above), always by their handler, or queued for the
    # next round.  A handler that tracks sends the migrants on itself, so
    # barrier() alone ends a cycle: exactly one round per cycle.  Tiny batches
    # and one batch in flight make async() inside those handlers run further
    # handlers (nested tracking).
    run_case 2 "buddy/$placement --arrivals queue at 2 ranks" --arrivals queue
    (( $(json_field "$LAST" rounds) > CYCLES )) \
        || fail "--arrivals queue: $(json_field "$LAST" rounds) rounds for $CYCLES cycles (expected more than one a cycle)"
    [[ $(json_field "$LAST" tracked_in_handlers) == 0 ]] \
        || fail "--arrivals queue: handlers tracked $(json_field "$LAST" tracked_in_handlers) particles"
    for extra in "" "--buddy-granularity=256 --buddy-depth=1 --pack 4"; do
        # shellcheck disable=SC2086  # $extra is a list of flags
        run_case 3 "buddy/$placement --arrivals handler $extra at 3 ranks" --arrivals handler $extra
        (( $(json_field "$LAST" rounds) == CYCLES )) \
            || fail "--arrivals handler: $(json_field "$LAST" rounds) rounds for $CYCLES cycles (expected one a cycle)"
        [[ $(json_field "$LAST" tracked_in_handlers) == $(json_field "$LAST" messages) ]] \
            || fail "--arrivals handler $extra: handlers tracked $(json_field "$LAST" tracked_in_handlers) of $(json_field "$LAST" messages) arrivals"
    done
    # inproc: with one 256-byte batch in flight a handler's async() waits for
    # credit and runs incoming handlers meanwhile.  (host and dpu: the rank
    # writes into its ring to the router, which drains it on its own.)
    if [[ $placement == inproc ]]; then
        (( $(json_field "$LAST" deepest_nesting) > 1 )) \
            || fail "--arrivals handler, 256-byte batches: no handler ran inside another's async() (deepest_nesting $(json_field "$LAST" deepest_nesting))"
    fi
    # packed messages, 2 TBB threads, slab decomposition, extra lookups: same physics
    run_case 3 "buddy/$placement --pack 32 --threads 2 --decomp slab --work 2 at 3 ranks" \
        --pack 32 --threads 2 --decomp slab --work 2

    expect_corrupt_fails "buddy/$placement at 2 ranks" run_mpi 30 2 "$EXE" "${SIZE[@]}" --json --corrupt
    expect_corrupt_fails "buddy/$placement --arrivals handler at 2 ranks" \
        run_mpi 30 2 "$EXE" "${SIZE[@]}" --json --corrupt --arrivals handler
done
unset BUDDY_PLACEMENT

run_case 2 "mpi at 2 ranks" --mode mpi
[[ $(json_field "$LAST" placement) == none ]] || fail "mpi mode: placement $(json_field "$LAST" placement), expected none"
run_case 4 "mpi at 4 ranks" --mode mpi

expect_corrupt_fails "mpi at 2 ranks" run_mpi 30 2 "$EXE" "${SIZE[@]}" --mode mpi --json --corrupt
expect_refused "a bad flag" run_mpi 30 2 "$EXE" --nx notanumber
