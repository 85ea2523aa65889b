#!/usr/bin/env bash
# Soak: apps/soak (random sizes up to the largest message, random
# destinations, forwarding handlers, two comms used in turn, every message
# checked for content, duplication and loss) across placements, batch sizes
# from 64 B to 1 MiB and depths 1 to 8.  Two comms at small batches is what
# used to stall (a wait in one comm did not drain the other).  --corrupt must
# fail.  SOAK_SECONDS (default: a short matrix) bounds nothing but the size.
# Half the matrix (depth 8, and the largest messages) runs with the payload
# checksum on (BUDDY_CHECKSUM=1): sealed and verified at every hop, nothing
# may fail it.  Under inproc the ranks pass batches through node rings
# (records larger than a ring chunk, in the 1 MiB run, go over UCX); a
# second matrix turns them off.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/soak"
[[ -x $EXE ]] || fail "soak not built"
MESSAGES=${SOAK_MESSAGES:-600}
placements=${BUDDY_TEST_PLACEMENTS:-inproc host}

run_soak() {  # WHAT NPROCS ENV... -- ARGS...
    local what=$1 n=$2
    shift 2
    local envs=()
    while [[ $1 != -- ]]; do envs+=(-x "$1"); shift; done
    shift
    local out
    out=$(run_mpi 120 "$n" "${envs[@]}" "$EXE" --json "$@" 2>"$LOG") ||
        fail "$what: exit $?: $(tail -n 5 "$LOG")"
    local line
    line=$(last_line "$out")
    json_parse "$line"
    expect_verified "$line" "$what: $(json_field "$line" messages) messages checked, $(json_field "$line" forwarded) forwarded"
}
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

for placement in $placements; do
    for g in 64 4K 1M; do
        for depth in 1 8; do
            sum=$(( depth == 8 ? 1 : 0 ))
            run_soak "soak $placement, 4 ranks, granularity $g, depth $depth, checksum $sum" 4 \
                BUDDY_PLACEMENT="$placement" BUDDY_GRANULARITY="$g" BUDDY_DEPTH="$depth" BUDDY_CHECKSUM="$sum" -- \
                --messages "$MESSAGES" --phases 2 --max-size 16384
        done
    done
    run_soak "soak $placement, 3 ranks, messages up to the 1 MiB maximum, checksum on" 3 \
        BUDDY_PLACEMENT="$placement" BUDDY_GRANULARITY=4K BUDDY_CHECKSUM=1 -- --messages 200 --phases 2
done
# Ranks of one node pass batches through node rings by default (every inproc
# run above); with them off, over UCX, the path batches between nodes take.
# Tiny batches at depth 1 fill the rings and the UCX pipeline alike.
if [[ " $placements " == *" inproc "* ]]; then
    out=$(run_mpi 60 3 "$EXE" --messages 10 --buddy-verbose 2>&1) || fail "soak --buddy-verbose: exit $?: $out"
    grep -q "node rings to 2 ranks of this node" <<<"$out" || fail "inproc at 3 ranks does not use node rings: $out"
    out=$(run_mpi 60 3 -x BUDDY_NODE_RINGS=0 "$EXE" --messages 10 --buddy-verbose 2>&1) ||
        fail "soak, node rings off: exit $?: $out"
    grep -q "no node rings (node-rings off)" <<<"$out" || fail "BUDDY_NODE_RINGS=0 left node rings on: $out"
    # The memory line counts what is in force: batches to both other ranks, no rings.
    grep -q "^memory: at most .* of batches per rank (2 peers x" <<<"$out" && ! grep -q "inbound node rings" <<<"$out" ||
        fail "BUDDY_NODE_RINGS=0: the memory line still counts node rings: $(grep '^memory' <<<"$out")"
    # Chunks are delivered where they lie in the ring; a rank holding one
    # sends what does not fit in a full node ring over UCX (ring_detours).
    # 64-byte batches at depth 1 fill the rings while handlers forward: that
    # way must be taken, and the soak still finds every message once.
    rep=$(mktemp)
    out=$(run_mpi 60 4 -x BUDDY_GRANULARITY=64 -x BUDDY_DEPTH=1 "$EXE" --json --messages "$MESSAGES" --phases 2 \
          --max-size 16384 --buddy-report "$rep" 2>"$LOG") || fail "soak with a report: exit $?: $(tail -n 5 "$LOG")"
    expect_verified "$(last_line "$out")" "soak, 64-byte batches, depth 1, a report"
    detours=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"]["ring_detours"])' "$rep")
    rm -f "$rep"
    (( detours > 0 )) || fail "soak at 64-byte batches: no batch went over UCX while a node ring was full (ring_detours $detours)"
    echo "ok: $detours batches went over UCX while their node ring was full and the rank held a chunk"
    # A rank in a PID namespace of its own (a container per rank) cannot
    # tell its node peers' pids: the job uses UCX instead (with rings, a
    # sender waiting on a full ring declared the live receiver gone).
    # (As root, or where user namespaces let an unprivileged user map root.)
    own_pid_ns=()
    for try in "unshare --pid --fork" "unshare --user --map-root-user --pid --fork"; do
        read -ra words <<<"$try"
        if "${words[@]}" true 2>/dev/null; then own_pid_ns=("${words[@]}"); break; fi
    done
    if (( ${#own_pid_ns[@]} )); then
        small=(env BUDDY_GRANULARITY=256 BUDDY_DEPTH=1)  # rings that fill: the waits that check the peer
        out=$(timeout --kill-after=5 120 mpirun --oversubscribe --bind-to none \
              -n 1 "${small[@]}" "${own_pid_ns[@]}" "$EXE" --messages 3000 --buddy-verbose --json : \
              -n 1 "${small[@]}" "$EXE" --messages 3000 --json 2>&1) ||
            fail "soak, one rank in its own PID namespace: exit $?: $(tail -n 5 <<<"$out")"
        grep -q "no node rings (rank 1 of this node is in another PID namespace" <<<"$out" ||
            fail "soak, one rank in its own PID namespace: node rings were not turned off: $(grep -m1 '^engine' <<<"$out")"
        expect_verified "$(last_line "$out")" "soak, one rank in its own PID namespace, over UCX"
    else
        echo "note: no PID namespace can be made here (unshare --pid, as root or in a user namespace): that case is not run"
    fi
    for g in 64 4K; do
        run_soak "soak inproc, 4 ranks, node rings off, granularity $g, depth 1" 4 \
            BUDDY_PLACEMENT=inproc BUDDY_NODE_RINGS=0 BUDDY_GRANULARITY="$g" BUDDY_DEPTH=1 -- \
            --messages "$MESSAGES" --phases 2 --max-size 16384
    done
fi
expect_corrupt_fails "soak" run_mpi 60 2 "$EXE" --json --messages 100 --corrupt
echo "ok: soak"
