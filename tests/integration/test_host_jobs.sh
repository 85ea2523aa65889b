#!/usr/bin/env bash
# placement host: two jobs at the same time through one buddy-router (started
# as a service), each verified; the router keeps them apart by job id and
# keeps serving after both ended.  Then SIGTERM stops it cleanly.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/histogram"
ROUTER="$BUILD_DIR/router/buddy-router"
[[ -x $EXE && -x $ROUTER ]] || fail "histogram or buddy-router not built"
SOCKDIR=$(private_dir jobs)
SOCK="$SOCKDIR/router.sock"
LOG="$SOCKDIR/router.log"
RPID=""
cleanup() {
    [[ -n $RPID ]] && kill -9 "$RPID" 2>/dev/null
    rm -rf "$SOCKDIR"
}
trap cleanup EXIT

start_service_router "$SOCK" "$LOG" --threads 2

export BUDDY_PLACEMENT=host BUDDY_ROUTER_SOCKET="$SOCK"
BUDDY_REPORT="$SOCKDIR/a.json" run_mpi 90 2 -x BUDDY_REPORT "$EXE" --updates 1000000 --table 4096 --seed 1 --json >"$SOCKDIR/a.out" 2>"$SOCKDIR/a.err" &
A=$!
BUDDY_REPORT="$SOCKDIR/b.json" run_mpi 90 2 -x BUDDY_REPORT "$EXE" --updates 1000000 --table 4096 --seed 2 --json >"$SOCKDIR/b.out" 2>"$SOCKDIR/b.err" &
B=$!
wait $A || fail "job A: exit status $? ($(cat "$SOCKDIR/a.err"))"
wait $B || fail "job B: exit status $? ($(cat "$SOCKDIR/b.err"))"
expect_verified "$(tail -n 1 "$SOCKDIR/a.out")" "job A through the shared router"
expect_verified "$(tail -n 1 "$SOCKDIR/b.out")" "job B through the shared router"
# The router counts per job: each job's report shows its own records only.
for job in a b; do
  python3 - "$SOCKDIR/$job.json" <<'PY' || fail "job $job: router counters are not this job's"
import json, sys
r = json.load(open(sys.argv[1]))
t, rt = r["total"], r["routers_total"]
assert len(r["routers"]) == 2, r["routers"]
assert t["messages_sent"] == t["messages_handled"] == 2 * 2 * 1000000, t
assert rt["records_local"] == t["messages_handled"], (rt, t)
PY
done
echo "ok: each job's report counts only its own records at the shared router"
jobs_routed=$(grep -c "routing" "$LOG" || true)
(( jobs_routed == 2 )) || fail "router log shows $jobs_routed routed jobs, expected 2: $(cat "$LOG")"
# Both were really at the same time: the second job registered before the first ended.
first_end=$(grep -n "ended" "$LOG" | head -n 1 | cut -d: -f1)
second_routing=$(grep -n "routing" "$LOG" | sed -n 2p | cut -d: -f1)
(( second_routing < first_end )) || echo "note: the two jobs did not overlap this time (machine too slow to start both)"
kill -0 "$RPID" 2>/dev/null || fail "the service router exited after its jobs"
grep -q "bad input 0" "$LOG" && fail "router already printed its exit line"
kill -TERM "$RPID"
for _ in $(seq 1 50); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RPID" 2>/dev/null && fail "router ignores SIGTERM"
wait "$RPID" 2>/dev/null || true
RPID=""
[[ -e $SOCK ]] && fail "router left its socket behind"
grep -q "bad input 0" "$LOG" || fail "router exit line missing or bad input counted: $(tail -n 2 "$LOG")"
echo "ok: two concurrent jobs through one router, router stopped cleanly"
