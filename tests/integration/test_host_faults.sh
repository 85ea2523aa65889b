#!/usr/bin/env bash
# placement host, faults:
#  1. the router is killed with SIGKILL mid-run: every rank exits non-zero
#     within 5 s with an error naming the router and the node;
#  2. a rank is killed with SIGKILL mid-run: the job fails, the router
#     survives, reclaims the rank's rings and serves a following job.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/histogram"
ROUTER="$BUILD_DIR/router/buddy-router"
[[ -x $EXE && -x $ROUTER ]] || fail "histogram or buddy-router not built"
SOCKDIR=$(private_dir faults)
SOCK="$SOCKDIR/router.sock"
RPID=""
MPID=""
cleanup() {
    [[ -n $MPID ]] && kill -9 "$MPID" 2>/dev/null
    [[ -n $RPID ]] && kill -9 "$RPID" 2>/dev/null
    rm -rf "$SOCKDIR"
}
trap cleanup EXIT
export BUDDY_PLACEMENT=host BUDDY_ROUTER_SOCKET="$SOCK"
LONG=(--updates 400000000 --table 4096 --json)

wait_routing() {  # LOG: until the job's table is in (ranks are sending)
    for _ in $(seq 1 200); do grep -q routing "$1" && return 0; sleep 0.05; done
    fail "the job never started routing: $(cat "$1")"
}
segments_of() { ls /dev/shm | grep -c "^buddy-$(id -u)-$(hostname)-$1-" || true; }

# ---- 1. router killed
LOG1="$SOCKDIR/r1.log"
start_service_router "$SOCK" "$LOG1"
run_mpi 60 2 "$EXE" "${LONG[@]}" >"$SOCKDIR/k1.out" 2>"$SOCKDIR/k1.err" &
MPID=$!
wait_routing "$LOG1"
sleep 0.5
victim=$RPID
kill -9 "$RPID"
t0=$(date +%s.%N)
rc=0
wait "$MPID" || rc=$?
t1=$(date +%s.%N)
MPID=""
RPID=""
elapsed=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
(( rc != 0 )) || fail "router killed: the job exited 0"
python3 -c "import sys; sys.exit(0 if $elapsed < 5.0 else 1)" || fail "router killed: the ranks took $elapsed s to exit (bound 5 s)"
grep -q "buddy-router (pid $victim) on node $(hostname)" "$SOCKDIR/k1.err" ||
    fail "router killed: no error naming the router (pid $victim) and node: $(head -c 2000 "$SOCKDIR/k1.err")"
grep -q "died" "$SOCKDIR/k1.err" || fail "router killed: the error does not say it died"
echo "ok: router SIGKILLed mid-run: job exited $rc after $elapsed s: $(grep -m1 'fatal' "$SOCKDIR/k1.err")"

# ---- 2. rank killed
LOG2="$SOCKDIR/r2.log"
rm -f "$SOCK"
start_service_router "$SOCK" "$LOG2"
run_mpi 60 2 "$EXE" "${LONG[@]}" >"$SOCKDIR/k2.out" 2>"$SOCKDIR/k2.err" &
MPID=$!
wait_routing "$LOG2"
sleep 0.5
# The ranks: descendants of this launch whose command is the app.
descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
victim=""
for p in $(descendants "$MPID"); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == "$(basename "$EXE")" ]] && { victim=$p; break; }
done
[[ -n $victim ]] || fail "rank killed: could not find a rank of the job"
kill -9 "$victim"
rc=0
wait "$MPID" || rc=$?
MPID=""
(( rc != 0 )) || fail "rank killed: the job exited 0"
kill -0 "$RPID" 2>/dev/null || fail "rank killed: the router died too: $(tail -n 5 "$LOG2")"
for _ in $(seq 1 50); do grep -q "ended (failed)" "$LOG2" && break; sleep 0.1; done
grep -q "pid $victim) on .* died" "$LOG2" || fail "rank killed: the router did not notice rank pid $victim: $(cat "$LOG2")"
grep -q "ended (failed)" "$LOG2" || fail "rank killed: the router did not end the job: $(cat "$LOG2")"
(( $(segments_of "$RPID") == 0 )) || fail "rank killed: ring segments of router $RPID left in /dev/shm"
echo "ok: rank pid $victim SIGKILLed mid-run: job exited $rc, router noticed and reclaimed its rings"

out=$(run_mpi 60 2 "$EXE" --updates 300000 --table 4096 --json) || fail "job after the rank death: exit status $?"
expect_verified "$(tail -n 1 <<<"$out")" "a following job through the same router (pid $RPID)"
kill -0 "$RPID" 2>/dev/null || fail "router exited"
kill -TERM "$RPID"
wait "$RPID" 2>/dev/null || true
RPID=""
echo "ok: faults"
