#!/usr/bin/env bash
# triangles: the count must be verified (serial reference at scale <= 12 plus a
# ghost-row recount) and IDENTICAL at 1, 2, 3 and 4 ranks -- the graph depends
# only on seed/scale/edge-factor -- in both modes and both query batchings;
# --corrupt must fail verification with a non-zero exit.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/triangles"
[[ -x $EXE ]] || fail "triangles: $EXE not built"
SIZE=(--scale 11 --edge-factor 16 --seed 7)
PLACEMENTS=${BUDDY_TEST_PLACEMENTS:-inproc}

# last_line OUTPUT: the JSON result line (last line of stdout).

# check_count LINE DESCRIPTION: same triangle/edge/wedge figures as the first run.
reference=""
check_count() {
    local line=$1 what=$2 t e w
    t=$(json_field "$line" triangles) || fail "$what: no triangles field"
    e=$(json_field "$line" edges) || fail "$what: no edges field"
    w=$(json_field "$line" wedges_checked) || fail "$what: no wedges_checked field"
    [[ $(json_field "$line" app) == triangles ]] || fail "$what: app field"
    [[ $(json_field "$line" check) == serial+ghost ]] || fail "$what: check=$(json_field "$line" check), expected the serial reference too"
    [[ $(json_field "$line" vertices) == 2048 ]] || fail "$what: vertices=$(json_field "$line" vertices), expected 2048"
    (( t > 0 )) || fail "$what: no triangles found (triangles=$t)"
    if [[ -z $reference ]]; then
        reference="$t $e $w"
    elif [[ "$t $e $w" != "$reference" ]]; then
        fail "$what: triangles/edges/wedges = $t $e $w, but the first run gave $reference"
    fi
    echo "ok: $what gives triangles=$t edges=$e wedges_checked=$w"
}

for placement in $PLACEMENTS; do
    export BUDDY_PLACEMENT=$placement
    for n in 1 2 3 4; do
        out=$(run_mpi 30 "$n" "$EXE" "${SIZE[@]}" --json) || fail "buddy/$placement $n ranks: exit status $?"
        line=$(last_line "$out")
        json_parse "$line"
        [[ $(json_field "$line" placement) == "$placement" ]] || fail "buddy $n ranks: placement $(json_field "$line" placement), expected $placement"
        [[ $(json_field "$line" ranks) == "$n" ]] || fail "buddy $n ranks: ranks field"
        expect_verified "$line" "buddy/$placement row queries at $n ranks"
        check_count "$line" "buddy/$placement row queries at $n ranks"
    done
    # Blocks of 37 rows: many blocks, the last one short.
    out=$(run_mpi 30 2 "$EXE" "${SIZE[@]}" --batching span --block-rows 37 --json) || fail "buddy/$placement span queries: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    expect_verified "$line" "buddy/$placement span queries in blocks of 37 rows at 2 ranks"
    check_count "$line" "buddy/$placement span queries in blocks of 37 rows at 2 ranks"
    # A 256-byte message limit caps a span at 48 vertices: long rows fall back to span
    # queries and long candidate lists go in pieces.
    out=$(run_mpi 30 3 "$EXE" "${SIZE[@]}" --buddy-max-message=256 --json) \
        || fail "buddy/$placement row queries, small messages: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    expect_verified "$line" "buddy/$placement row queries split into small messages at 3 ranks"
    check_count "$line" "buddy/$placement row queries split into small messages at 3 ranks"
    out=$(run_mpi 30 3 "$EXE" "${SIZE[@]}" --batching wedge --threads 2 --json) \
        || fail "buddy/$placement wedge queries: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    expect_verified "$line" "buddy/$placement wedge queries, 2 threads, at 3 ranks"
    check_count "$line" "buddy/$placement wedge queries at 3 ranks"

    expect_corrupt_fails "buddy/$placement at 2 ranks" run_mpi 30 2 "$EXE" "${SIZE[@]}" --json --corrupt
done
unset BUDDY_PLACEMENT

out=$(run_mpi 30 2 "$EXE" "${SIZE[@]}" --mode mpi --json) || fail "mpi 2 ranks: exit status $?"
line=$(last_line "$out")
json_parse "$line"
[[ $(json_field "$line" placement) == none ]] || fail "mpi mode: placement $(json_field "$line" placement), expected none"
expect_verified "$line" "mpi row queries at 2 ranks"
check_count "$line" "mpi row queries at 2 ranks"

out=$(run_mpi 30 3 "$EXE" "${SIZE[@]}" --mode mpi --batching span --round-words 4096 --json) \
    || fail "mpi span 3 ranks: exit status $?"
line=$(last_line "$out")
json_parse "$line"
expect_verified "$line" "mpi span queries in $(json_field "$line" rounds) rounds at 3 ranks"
check_count "$line" "mpi span queries at 3 ranks"

# Small rounds: many bulk-synchronous rounds, per-wedge records.
out=$(run_mpi 30 4 "$EXE" "${SIZE[@]}" --mode mpi --batching wedge --round-words 4096 --json) \
    || fail "mpi wedge 4 ranks: exit status $?"
line=$(last_line "$out")
json_parse "$line"
(( $(json_field "$line" rounds) > 1 )) || fail "mpi wedge: expected several rounds, got $(json_field "$line" rounds)"
expect_verified "$line" "mpi wedge queries in $(json_field "$line" rounds) rounds at 4 ranks"
check_count "$line" "mpi wedge queries at 4 ranks"

expect_corrupt_fails "mpi at 2 ranks" run_mpi 30 2 "$EXE" "${SIZE[@]}" --mode mpi --json --corrupt
expect_refused "a bad flag" run_mpi 30 2 "$EXE" --scale notanumber
