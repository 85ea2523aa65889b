#!/usr/bin/env bash
# Placement dpu's data path (issue 11, item 1): rings over RMA to a buddy-router
# that shares no memory with the ranks.  The router runs as a TCP service in
# its own mount namespace with its own /dev/shm, and the ranks use
# UCX over tcp only (UCX_TLS=tcp on lo), so nothing but the TCP control
# channel and UCX's writes (carried as messages here: no RDMA hardware)
# connect them.  Verified: histogram, index_gather and quicksilver at 2 ranks;
# two jobs sharing the router at once; a rank killed with writes in flight
# leaves the router and the job sharing it running; the router killed under a
# running job ends every rank within 10 s naming it.  Every launch is
# bounded.  About 15 s.
source "$(dirname "$0")/lib.sh"

ROUTER=$BUILD_DIR/router/buddy-router
HOST=$(hostname)
WORK=$(private_dir dpu)
RPID=
cleanup() {
    [[ -n $RPID ]] && kill -9 "$RPID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

unshare --mount --propagation private true 2>/dev/null ||
    { echo "skip: test_dpu needs 'unshare --mount' (root) to give the router its own /dev/shm"; exit 77; }

# start_router LOG: the router in its own mount namespace (a private
# /dev/shm: no segment the ranks could map; /tmp stays shared, since a router
# with --listen makes no socket there and the build tree may live under /tmp);
# sets ADDR and RPID (the router itself: unshare and sh exec into it).
start_router() {
    local log=$1
    unshare --mount --propagation private sh -c \
        'mount -t tmpfs tmpfs /dev/shm && exec "$0" --listen tcp://127.0.0.1:0 --verbose' \
        "$ROUTER" >"$log" 2>&1 &
    RPID=$!
    wait_tcp_listening "$log"
}

start_router "$WORK/router.log"
echo "router: $ADDR (pid $RPID, own /dev/shm)"
printf '%s %s\n' "$HOST" "${ADDR#tcp://}" >"$WORK/dpu.map"
# Nothing but tcp for UCX (the ranks' rings and MPI's own UCX use, if any).
export UCX_TLS=tcp UCX_NET_DEVICES=lo BUDDY_PLACEMENT=dpu BUDDY_DPU_MAP=$WORK/dpu.map BUDDY_TIMEOUT=20
DPU=(-x UCX_TLS -x UCX_NET_DEVICES -x BUDDY_PLACEMENT -x BUDDY_DPU_MAP -x BUDDY_TIMEOUT)

# run_app WHAT APP ARGS...: 2 ranks under placement dpu, verified.
run_app() {
    local what=$1 out line
    shift
    out=$(run_mpi 60 2 "${DPU[@]}" "$@" --json) || fail "$what: exit status $?: $out"
    line=$(last_line "$out")
    json_parse "$line"
    [[ $(json_field "$line" placement) == dpu ]] || fail "$what: placement $(json_field "$line" placement), expected dpu"
    expect_verified "$line" "$what"
}

run_app "dpu: histogram at 2 ranks" "$APPS/histogram" --updates 200000 --table 4096
run_app "dpu: index_gather at 2 ranks" "$APPS/index_gather" --table 65536 --requests 100000 --seed 3
run_app "dpu: quicksilver at 2 ranks" "$APPS/quicksilver" --nx 12 --ny 12 --nz 12 --particles 4000 --cycles 4 \
    --groups 6 --table-mb 8 --seed 5
# The rings were over RMA: the router made no shared memory segment (its own
# /dev/shm, seen through its root, stayed empty).
left=$(ls -A "/proc/$RPID/root/dev/shm") || fail "cannot look into the router's /dev/shm"
[[ -z $left ]] || fail "the router made shared memory segments under placement dpu: $left"
echo "ok: the router's own /dev/shm is empty (the rings went over RMA)"

# Two jobs at once on the one router (each bound to its own secret).
run_mpi 60 2 "${DPU[@]}" "$APPS/histogram" --updates 300000 --table 4096 --json >"$WORK/job1.out" 2>&1 &
J1=$!
run_mpi 60 2 "${DPU[@]}" "$APPS/index_gather" --table 65536 --requests 100000 --seed 4 --json >"$WORK/job2.out" 2>&1 &
J2=$!
wait "$J1" || fail "two jobs: the histogram job: exit status $?: $(cat "$WORK/job1.out")"
wait "$J2" || fail "two jobs: the index_gather job: exit status $?: $(cat "$WORK/job2.out")"
expect_verified "$(last_line "$(cat "$WORK/job1.out")")" "dpu: two jobs sharing the router: histogram"
expect_verified "$(last_line "$(cat "$WORK/job2.out")")" "dpu: two jobs sharing the router: index_gather"
jobs_seen=$(grep -o 'job [0-9a-f]*: routing' "$WORK/router.log" | sort -u | wc -l)
(( jobs_seen >= 5 )) || fail "the router log shows $jobs_seen jobs routed, expected 5: $(cat "$WORK/router.log")"

# routing_jobs: how many jobs the router has started routing so far.
routing_jobs() { grep -c 'job [0-9a-f]*: routing' "$WORK/router.log" || true; }
# wait_routing N: until N jobs have started routing (20 s at most).
wait_routing() {
    for _ in $(seq 200); do
        (( $(routing_jobs) >= $1 )) && return 0
        sleep 0.1
    done
    fail "fewer than $1 jobs started routing within 20 s: $(cat "$WORK/router.log")"
}

# A rank killed with writes in flight, while another job shares the router.
# Without RDMA hardware the writes are carried as messages that nobody
# acknowledges (UCX's emulated RMA made the router abort when it could not
# acknowledge a dead rank's last put, losing every job on it).  The router
# survives and says which rank died, the job sharing it verifies, the killed
# job's other rank ends naming the dead one, and a new job verifies.
before=$(routing_jobs)
run_mpi 120 2 "${DPU[@]}" "$APPS/histogram" --updates 1000000000 --table 4096 --json >"$WORK/victim.out" 2>&1 &
JV=$!
wait_routing $((before + 1))
run_mpi 60 2 "${DPU[@]}" "$APPS/histogram" --updates 20000000 --table 4096 --json >"$WORK/bystander.out" 2>&1 &
JB=$!
wait_routing $((before + 2))
sleep 0.5
victim=
for p in $(pgrep -f -- "--updates 1000000000" || true); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == histogram ]] && { victim=$p; break; }
done
[[ -n $victim ]] || fail "no rank of the long job to kill: $(cat "$WORK/victim.out")"
kill -9 "$victim"
rc=0
wait "$JV" || rc=$?
(( rc != 0 )) || fail "the job whose rank was killed exited 0"
grep -q "pid $victim) at tcp://[0-9.:]* died or closed its connection" "$WORK/victim.out" ||
    fail "the killed job's other rank did not name the dead rank (pid $victim): $(cat "$WORK/victim.out")"
wait "$JB" || fail "the job sharing the router: exit status $? after a rank of another job was killed: $(cat "$WORK/bystander.out")"
expect_verified "$(last_line "$(cat "$WORK/bystander.out")")" "dpu: the job sharing the router with a killed rank"
kill -0 "$RPID" 2>/dev/null || fail "the router died when a rank of one of its jobs was killed: $(tail -20 "$WORK/router.log")"
grep -q "rank [01] (pid $victim) .*died or closed its connection" "$WORK/router.log" ||
    fail "the router did not log the dead rank (pid $victim): $(tail -20 "$WORK/router.log")"
run_app "dpu: a new job on the router after a rank was killed" "$APPS/histogram" --updates 200000 --table 4096
echo "ok: a rank killed under a dpu job: the router survived, the job sharing it verified"

# The router killed under a running job: every rank ends within 10 s naming it.
run_mpi 120 2 "${DPU[@]}" "$APPS/histogram" --updates 1000000000 --table 4096 --json >"$WORK/killed.out" 2>&1 &
JK=$!
wait_routing $(( $(routing_jobs) + 1 ))
sleep 0.5
kill -0 "$JK" 2>/dev/null || fail "the long job ended before the router was killed: $(cat "$WORK/killed.out")"
kill -9 "$RPID"
t0=$SECONDS
for _ in $(seq 100); do kill -0 "$JK" 2>/dev/null || break; sleep 0.1; done
kill -0 "$JK" 2>/dev/null && fail "the job still runs 10 s after its router was killed: $(cat "$WORK/killed.out")"
rc=0
wait "$JK" || rc=$?
(( rc != 0 )) || fail "the job exited 0 after its router was killed"
# The first rank to notice ends the job (mpirun then stops the other): at
# least one names the router, and every rank is gone (mpirun returned).
grep -q "fatal: buddy-router (pid $RPID) on node [^ ]* at $ADDR died or closed the connection" "$WORK/killed.out" ||
    fail "no rank named the killed router: $(cat "$WORK/killed.out")"
echo "ok: router killed under a running dpu job: every rank ended within $((SECONDS - t0)) s (exit $rc):" \
    "$(grep -m1 -o "fatal: buddy-router.*" "$WORK/killed.out")"
RPID=
echo "PASS"
