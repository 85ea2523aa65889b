#!/usr/bin/env bash
# placement host, BUDDY_CHECKSUM=1: a payload byte damaged in a ring (the way
# a stray write from another process would) is caught by the checksum,
# counted, logged naming the ring, and fails only its job:
#  1. in rank 1's outbound ring (the router stopped meanwhile, so the chunk is
#     still unconsumed): the router drops the chunk and fails the job, naming
#     the ring; it survives and serves the next job;
#  2. in rank 0's inbound ring (rank 0 stopped meanwhile): rank 0 ends the
#     job naming the inbound ring and the router.
# ring_scribble reaches the rings through /proc/PID/map_files: root only.
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) != 0 ]]; then
    echo "skip: test_integrity damages rings through /proc/PID/map_files, which needs root"
    exit 77
fi
EXE="$APPS/histogram"
ROUTER="$BUILD_DIR/router/buddy-router"
SCRIBBLE="$BUILD_DIR/tests/integration/ring_scribble"
[[ -x $EXE && -x $ROUTER && -x $SCRIBBLE ]] || fail "histogram, buddy-router or ring_scribble not built"
SOCKDIR=$(private_dir integrity)
SOCK="$SOCKDIR/router.sock"
RPID="" MPID="" STOPPED=""
cleanup() {
    [[ -n $STOPPED ]] && kill -CONT "$STOPPED" 2>/dev/null
    [[ -n $MPID ]] && kill -9 "$MPID" 2>/dev/null
    [[ -n $RPID ]] && kill -9 "$RPID" 2>/dev/null
    rm -rf "$SOCKDIR"
}
trap cleanup EXIT
export BUDDY_PLACEMENT=host BUDDY_ROUTER_SOCKET="$SOCK" BUDDY_CHECKSUM=1 BUDDY_TIMEOUT=30
LONG=(--updates 400000000 --table 4096 --json)
LOG="$SOCKDIR/router.log"
start_service_router "$SOCK" "$LOG"
wait_routing() {  # N: until the N-th job routes
    for _ in $(seq 1 300); do (( $(grep -c routing "$LOG" || true) >= $1 )) && return 0; sleep 0.05; done
    fail "job $1 never started routing: $(cat "$LOG")"
}
finish_job() {  # WHAT ERRFILE: the job must fail
    local rc=0
    wait "$MPID" || rc=$?
    MPID=""
    (( rc != 0 )) || fail "$1: the job exited 0 with a damaged ring"
}

# ---- 1. outbound ring
run_mpi 60 2 "$EXE" "${LONG[@]}" >"$SOCKDIR/1.out" 2>"$SOCKDIR/1.err" &
MPID=$!
wait_routing 1
kill -STOP "$RPID"; STOPPED=$RPID
"$SCRIBBLE" "$RPID" 1 out || fail "outbound: could not damage the ring"
kill -CONT "$RPID"; STOPPED=""
finish_job outbound
grep -q "outbound ring of rank 1 holds a chunk .* checksum does not match" "$LOG" ||
    fail "outbound: the router did not log the checksum failure naming the ring: $(tail -n 5 "$LOG")"
grep -q "checksum does not match" "$SOCKDIR/1.err" ||
    fail "outbound: the ranks' error does not give the cause: $(grep -m2 fatal "$SOCKDIR/1.err")"
kill -0 "$RPID" 2>/dev/null || fail "outbound: the router did not survive the bad chunk"
echo "ok: outbound ring damaged: $(grep -m1 'checksum does not match' "$LOG")"

# ---- 2. inbound ring (and the router serves a new job after the failed one)
run_mpi 60 2 "$EXE" "${LONG[@]}" >"$SOCKDIR/2.out" 2>"$SOCKDIR/2.err" &
MPID=$!
wait_routing 2
rank0=$(grep "rank 0 (pid" "$LOG" | tail -n 1 | sed -E 's/.*rank 0 \(pid ([0-9]+)[,)].*/\1/')
[[ -n $rank0 ]] || fail "inbound: no pid for rank 0 in the router's log"
sleep 0.2
kill -STOP "$rank0"; STOPPED=$rank0
"$SCRIBBLE" "$RPID" 0 in || fail "inbound: could not damage the ring"
kill -CONT "$rank0"; STOPPED=""
finish_job inbound
grep -q "inbound ring 0 from buddy-router (pid $RPID) on node .*checksum mismatch" "$SOCKDIR/2.err" ||
    fail "inbound: rank 0's error does not name the ring and the checksum: $(grep -m2 fatal "$SOCKDIR/2.err")"
echo "ok: inbound ring damaged: $(grep -m1 'fatal' "$SOCKDIR/2.err")"

kill -TERM "$RPID"
wait "$RPID" || true
RPID=""
grep -q "bad input [1-9]" "$LOG" || fail "the router's exit line does not count the bad chunk: $(tail -n 2 "$LOG")"
echo "ok: integrity ($(grep -m1 'exiting' "$LOG"))"
