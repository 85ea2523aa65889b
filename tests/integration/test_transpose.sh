#!/usr/bin/env bash
# transpose: transpose(transpose(A)) == A, the fingerprint of A^T matches A's
# with (row, col) swapped, and (n <= 20000) A^T equals a serial transpose on
# rank 0.  The matrix depends only on seed and n, so its fingerprint must be
# IDENTICAL at 1, 2 and 4 ranks, in both modes, both message designs and with
# --work on.  --corrupt must fail verification with a non-zero exit status.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/transpose"
[[ -x $EXE ]] || fail "transpose: $EXE not built"
N=16000           # global rows: small enough for the serial check at every rank count
COMMON=(--avg-degree 12 --seed 5)
PLACEMENTS=${BUDDY_TEST_PLACEMENTS:-inproc}


# check_run LINE RANKS GENERATOR DESCRIPTION: fields every verified run shows,
# and the matrix fingerprint equal to the first run's with that generator.
declare -A reference
check_run() {
    local line=$1 n=$2 gen=$3 what=$4 print nnz
    [[ $(json_field "$line" app) == transpose ]] || fail "$what: app=$(json_field "$line" app)"
    [[ $(json_field "$line" ranks) == "$n" ]] || fail "$what: ranks=$(json_field "$line" ranks), expected $n"
    [[ $(json_field "$line" generator) == "$gen" ]] || fail "$what: generator=$(json_field "$line" generator)"
    [[ $(json_field "$line" round_trip) == true ]] || fail "$what: round_trip=$(json_field "$line" round_trip)"
    nnz=$(json_field "$line" nonzeros)
    (( nnz > 0 )) || fail "$what: nonzeros=$nnz"
    print="$(json_field "$line" n) $nnz $(json_field "$line" matrix_fingerprint)"
    if [[ -z ${reference[$gen]:-} ]]; then
        reference[$gen]=$print
    elif [[ $print != "${reference[$gen]}" ]]; then
        fail "$what: n/nonzeros/fingerprint = $print, but the first $gen run gave ${reference[$gen]}"
    fi
    expect_verified "$line" "$what ($nnz nonzeros)"
}

# check_work RANKS MODE DESCRIPTION: --work 4 over a 1 MiB buffer; the checksum
# depends only on the matrix and the buffer size, never on the mode, the
# placement or the rank count, and the transpose still verifies.
work_sum=""
check_work() {
    local n=$1 mode=$2 what=$3 out line s
    out=$(run_mpi 30 "$n" "$EXE" "${COMMON[@]}" --rows-per-rank $((N / n)) --mode "$mode" --work 4 \
          --work-bytes 1M --json) || fail "$what: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    s=$(json_field "$line" work_checksum)
    [[ $s != 0 ]] || fail "$what: work_checksum is 0"
    [[ -z $work_sum || $s == "$work_sum" ]] || fail "$what: work_checksum=$s, the first --work run gave $work_sum"
    work_sum=$s
    check_run "$line" "$n" er "$what"
}

for placement in $PLACEMENTS; do
    export BUDDY_PLACEMENT=$placement
    for n in 1 2 4; do
        for gen in er rmat; do
            for message in segment nonzero; do
                # One rank only delivers to itself: two of the four combinations suffice.
                [[ $n == 1 && $gen$message != ersegment && $gen$message != rmatnonzero ]] && continue
                what="buddy/$placement $gen $message messages at $n ranks"
                out=$(run_mpi 30 "$n" "$EXE" "${COMMON[@]}" --rows-per-rank $((N / n)) --generator "$gen" \
                      --message "$message" --json) || fail "$what: exit status $?"
                line=$(last_line "$out")
                json_parse "$line"
                [[ $(json_field "$line" placement) == "$placement" ]] || fail "$what: placement=$(json_field "$line" placement)"
                [[ $(json_field "$line" serial_checked) == true ]] || fail "$what: the serial check did not run"
                if [[ $message == nonzero ]]; then
                    [[ $(json_field "$line" messages) == $(json_field "$line" nonzeros) ]] \
                        || fail "$what: messages=$(json_field "$line" messages), expected one per nonzero"
                fi
                check_run "$line" "$n" "$gen" "$what"
            done
        done
    done

    for n in 2 4; do
        check_work "$n" buddy "buddy/$placement --work 4 at $n ranks"
    done

    # Beyond the serial check's size: the round trip and the fingerprint still bite.
    out=$(run_mpi 30 2 "$EXE" --rows-per-rank 40000 --avg-degree 8 --generator rmat --json) \
        || fail "buddy/$placement rmat n=80000 at 2 ranks: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    [[ $(json_field "$line" serial_checked) == false ]] || fail "n=80000: serial check should be skipped"
    expect_verified "$line" "buddy/$placement rmat n=80000 at 2 ranks (round trip + fingerprint)"

    expect_corrupt_fails "buddy/$placement at 2 ranks" \
        run_mpi 30 2 "$EXE" "${COMMON[@]}" --rows-per-rank $((N / 2)) --json --corrupt
done
unset BUDDY_PLACEMENT

for gen in er rmat; do
    out=$(run_mpi 30 2 "$EXE" "${COMMON[@]}" --rows-per-rank $((N / 2)) --generator "$gen" --mode mpi --json) \
        || fail "mpi $gen at 2 ranks: exit status $?"
    line=$(last_line "$out")
    json_parse "$line"
    [[ $(json_field "$line" placement) == none ]] || fail "mpi: placement=$(json_field "$line" placement), expected none"
    check_run "$line" 2 "$gen" "mpi $gen at 2 ranks"
done

check_work 2 mpi "mpi --work 4 at 2 ranks"

expect_corrupt_fails "mpi at 2 ranks, n=80000" \
    run_mpi 30 2 "$EXE" --rows-per-rank 40000 --avg-degree 8 --mode mpi --json --corrupt
expect_refused "a bad flag" run_mpi 30 2 "$EXE" --generator kronecker
