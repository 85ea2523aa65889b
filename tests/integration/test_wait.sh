#!/usr/bin/env bash
# The waiting policy (knob wait): every value runs a verified job under every
# placement, --buddy-verbose says which policy is in force and, for auto, the
# figures it came from; auto yields when ranks outnumber the cores; a bad
# value is refused at start, by ranks and by buddy-router.
source "$(dirname "$0")/lib.sh"
H="$APPS/histogram"
ROUTER="$BUILD_DIR/router/buddy-router"
[[ -x $H && -x $ROUTER ]] || fail "histogram or buddy-router not built"
err=$(mktemp)
trap 'rm -f "$err"' EXIT

run_wait() {  # PLACEMENT WAIT NPROCS: runs histogram, leaves the verbose output in $err
    local out
    out=$(run_mpi 120 "$3" -x BUDDY_PLACEMENT="$1" -x BUDDY_WAIT="$2" -x BUDDY_VERBOSE=1 \
          "$H" --updates 100000 --json 2>"$err") || fail "$1, wait $2: exit $?: $(tail -n 5 "$err")"
    expect_verified "$(last_line "$out")" "$1, wait $2, $3 ranks: $(grep -m1 '^wait: ' "$err")"
}

for placement in ${BUDDY_TEST_PLACEMENTS:-inproc host}; do
    for w in spin yield; do
        run_wait "$placement" "$w" 2
        grep -q "^wait: $w (as set)" "$err" || fail "$placement: wait $w not reported as in force: $(cat "$err")"
    done
    run_wait "$placement" auto 2
    grep -Eq '^wait: (spin|yield) \(auto: on this node 2 ranks \+ [0-9]+ router threads \+ [0-9]+ other runnable tasks on [0-9]+ cores' "$err" ||
        fail "$placement: auto does not say what it decided from: $(grep '^wait' "$err")"
done

# More ranks than cores can never spin under auto.
cores=$(nproc)
run_wait inproc auto $((cores + 1))
grep -q "^wait: yield (auto: on this node $((cores + 1)) ranks" "$err" ||
    fail "auto with $((cores + 1)) ranks on $cores cores did not yield: $(grep '^wait' "$err")"

out=$(BUDDY_WAIT=fast timeout 30 mpirun -n 1 -x BUDDY_WAIT "$H" --updates 10 2>&1) && fail "BUDDY_WAIT=fast accepted"
grep -q "unknown wait 'fast': expected auto, spin or yield" <<<"$out" || fail "BUDDY_WAIT=fast: unclear refusal: $out"
echo "ok: BUDDY_WAIT=fast refused: $(grep -m1 -o "unknown wait[^(]*" <<<"$out")"
expect_refused "buddy-router --wait fast" timeout 10 "$ROUTER" --wait fast
echo "ok: wait"
