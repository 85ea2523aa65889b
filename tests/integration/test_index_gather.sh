#!/usr/bin/env bash
# index_gather: every request must get exactly one reply carrying -(index+1)
# (the app checks each slot's value and that 2 messages per slot were delivered),
# at 1, 2 and 4 ranks (buddy mode, every placement in BUDDY_TEST_PLACEMENTS) and
# in the bulk-synchronous mpi mode; messages must count requests + replies;
# --corrupt must fail verification with a non-zero exit status.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/index_gather"
[[ -x $EXE ]] || fail "index_gather: $EXE not built"
TABLE=65536
REQUESTS=200000
SIZE=(--table "$TABLE" --requests "$REQUESTS" --seed 3)
PLACEMENTS=${BUDDY_TEST_PLACEMENTS:-inproc}


# check_counts LINE RANKS DESCRIPTION: the figures every verified run must show.
check_counts() {
    local line=$1 n=$2 what=$3 expected
    [[ $(json_field "$line" app) == index_gather ]] || fail "$what: app=$(json_field "$line" app)"
    [[ $(json_field "$line" ranks) == "$n" ]] || fail "$what: ranks=$(json_field "$line" ranks), expected $n"
    expected=$((REQUESTS * n))
    [[ $(json_field "$line" requests) == "$expected" ]] || fail "$what: requests=$(json_field "$line" requests), expected $expected"
    [[ $(json_field "$line" messages) == $((2 * expected)) ]] || fail "$what: messages=$(json_field "$line" messages), expected $((2 * expected))"
    [[ $(json_field "$line" wrong) == 0 ]] || fail "$what: wrong=$(json_field "$line" wrong)"
}

for placement in $PLACEMENTS; do
    export BUDDY_PLACEMENT=$placement
    for n in 1 2 4; do
        what="buddy/$placement at $n ranks"
        out=$(run_mpi 30 "$n" "$EXE" "${SIZE[@]}" --json) || fail "$what: exit status $?"
        line=$(last_line "$out")
        json_parse "$line"
        [[ $(json_field "$line" mode) == buddy ]] || fail "$what: mode=$(json_field "$line" mode)"
        [[ $(json_field "$line" placement) == "$placement" ]] || fail "$what: placement=$(json_field "$line" placement), expected $placement"
        check_counts "$line" "$n" "$what"
        expect_verified "$line" "$what"
    done

    expect_corrupt_fails "buddy/$placement at 2 ranks" run_mpi 30 2 "$EXE" "${SIZE[@]}" --json --corrupt
    [[ $(json_field "$LAST_LINE" wrong) == 1 ]] || fail "buddy/$placement --corrupt: wrong=$(json_field "$LAST_LINE" wrong), expected exactly 1"
done
unset BUDDY_PLACEMENT

out=$(run_mpi 30 2 "$EXE" "${SIZE[@]}" --mode mpi --json) || fail "mpi at 2 ranks: exit status $?"
line=$(last_line "$out")
json_parse "$line"
[[ $(json_field "$line" placement) == none ]] || fail "mpi: placement=$(json_field "$line" placement), expected none"
check_counts "$line" 2 "mpi at 2 ranks"
expect_verified "$line" "mpi at 2 ranks"

# Many small rounds, and more ranks than cores.
out=$(run_mpi 30 4 "$EXE" "${SIZE[@]}" --mode mpi --chunk 10000 --json) || fail "mpi chunked at 4 ranks: exit status $?"
line=$(last_line "$out")
json_parse "$line"
check_counts "$line" 4 "mpi chunk 10000 at 4 ranks"
expect_verified "$line" "mpi in chunks of 10000 at 4 ranks"

expect_corrupt_fails "mpi at 2 ranks" run_mpi 30 2 "$EXE" "${SIZE[@]}" --mode mpi --json --corrupt
expect_refused "a bad flag" run_mpi 30 2 "$EXE" --requests lots
