#!/usr/bin/env bash
# Across hosts: a cluster of network namespaces (scripts/cluster), each host
# with its own name, address, /tmp and /dev/shm, so ranks and routers of
# different hosts share nothing but the network (TCP between hosts).
#  1. histogram verified on 3 hosts x 2 ranks, inproc and host; the report
#     places the ranks on three hosts, and host has a router per host;
#  2. a granularity sweep (64 B, 4K, 1M) across hosts, host placement;
#  3. quicksilver and transpose verified on 3 hosts x 1 rank, host placement;
#  3c. a forged batch: h1's router run as a service; while a job runs, a
#     process in h2's namespace (not part of the job) asks h1's router for its
#     worker address and sends it a well-formed batch claiming that job and
#     h2's router as its source, with a record the route would never send that
#     way: the job fails on every host naming the forged batch and its claimed
#     link, the router survives, counts it (bad batches), and a fresh job on
#     it completes verified.  The same forger then sends a record the route
#     does carry that way (for a rank of h1): it is delivered, and the barrier
#     that counts it ends that job within BUDDY_TIMEOUT (one message handled
#     that no rank wrote);
#  4. one host's router killed mid-run: the job ends on every host within
#     10 s with an error naming that host;
#  5. route mesh2d on 4 hosts x 1 and 4 x 2 ranks (a 2 x 2 grid of routers:
#     diagonal pairs go through a transit router or rank), inproc and host:
#     histogram verified with transit in the report, and route_check's
#     records by hops exactly as mesh2d implies (tests/integration/expect_hops.py);
#  6. placement dpu on 2 hosts x 2 ranks: each host has an emulated DPU
#     (scripts/cluster up --dpu: its own namespaces, reached over a veth pair)
#     running buddy-router --listen; histogram, index_gather and quicksilver
#     verified at 2 hosts x 2 ranks (each router serving its host's 2 ranks)
#     and at 1 host x 2 ranks, and two histogram jobs at once through the
#     same DPU routers.
# Without root (no namespaces) it prints one skip line and exits 77.
source "$(dirname "$0")/lib.sh"

CLUSTER="$(cd "$(dirname "$0")/../.." && pwd)/scripts/cluster"
export BUDDY_CLUSTER=${BUDDY_TEST_CLUSTER:-ti}  # not the default name, so a developer's cluster survives (another session may choose its own)
OUT=$(mktemp -d "$BUILD_DIR/cluster-test.XXXXXX")  # on the shared file system, not a host's /tmp
cleanup() {
    "$CLUSTER" down >/dev/null 2>&1 || true
    rm -rf "$OUT"
}
trap cleanup EXIT

up_rc=0
"$CLUSTER" up 3 >"$OUT/up.log" 2>&1 || up_rc=$?
if (( up_rc == 77 )); then cat "$OUT/up.log"; exit 77; fi
(( up_rc == 0 )) || fail "scripts/cluster up 3: exit $up_rc: $(cat "$OUT/up.log")"
echo "ok: $(cat "$OUT/up.log")"

# on_cluster SECONDS NPROCS ARGS...: mpirun across the hosts, bounded.
on_cluster() {
    local limit=$1 n=$2
    shift 2
    timeout --kill-after=5 "$limit" "$CLUSTER" run -- mpirun -n "$n" --map-by node --bind-to none "$@"
}

HIST="$APPS/histogram"

# ---- 1. histogram, 3 hosts x 2 ranks
for placement in inproc host; do
    report="$OUT/report-$placement.json"
    out=$(on_cluster 90 6 -x BUDDY_PLACEMENT="$placement" -x BUDDY_REPORT="$report" -x BUDDY_VERBOSE=1 \
          "$HIST" --updates 100000 --json 2>"$OUT/err") ||
        fail "histogram $placement on 3x2: exit $?: $(tail -n 20 "$OUT/err")"
    expect_verified "$(last_line "$out")" "histogram $placement on 3 hosts x 2 ranks"
    hosts=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(sorted({x["host"] for x in r["ranks"]})))' "$report") ||
        fail "histogram $placement: unreadable report $report"
    [[ $hosts == "h1 h2 h3" ]] || fail "histogram $placement: ranks on hosts '$hosts', expected 'h1 h2 h3'"
    if [[ $placement == host ]]; then
        grep -q "3 routers in the job" "$OUT/err" || fail "host: expected one router per host: $(grep router: "$OUT/err")"
    fi
    echo "ok: histogram $placement: ranks on $hosts"
done

# ---- 1b. uneven hosts: 5 ranks on 3 (2, 2 and 1): node rings on two hosts,
# none on the third, one collective setup for all (a rank alone on its node
# once skipped a collective the others made, and the job hung at start)
out=$(on_cluster 90 5 -x BUDDY_PLACEMENT=inproc -x BUDDY_VERBOSE=1 "$HIST" --updates 100000 --json 2>"$OUT/err") ||
    fail "histogram inproc on 2+2+1: exit $?: $(tail -n 20 "$OUT/err")"
expect_verified "$(last_line "$out")" "histogram inproc on 3 hosts with 2, 2 and 1 ranks"
grep -q "node rings to 1 ranks of this node" "$OUT/err" || fail "2+2+1: no node rings on the hosts with 2 ranks: $(grep engine: "$OUT/err")"
echo "ok: histogram inproc on 2+2+1 ranks verifies, rank 0 (2 on its host) uses node rings"

# ---- 2. granularity sweep across hosts
for g in 64 4K 1M; do
    out=$(on_cluster 90 6 -x BUDDY_PLACEMENT=host -x BUDDY_GRANULARITY="$g" "$HIST" --updates 30000 --json 2>"$OUT/err") ||
        fail "histogram host granularity $g: exit $?: $(tail -n 20 "$OUT/err")"
    expect_verified "$(last_line "$out")" "histogram host on 3x2, granularity $g"
done

# ---- 3. quicksilver and transpose, 3 hosts x 1 rank, host placement
out=$(on_cluster 120 3 -x BUDDY_PLACEMENT=host "$APPS/quicksilver" --nx 12 --ny 12 --nz 12 --particles 3000 \
      --cycles 3 --groups 6 --table-mb 4 --seed 5 --json 2>"$OUT/err") ||
    fail "quicksilver host on 3x1: exit $?: $(tail -n 20 "$OUT/err")"
expect_verified "$(last_line "$out")" "quicksilver host on 3 hosts x 1 rank"
out=$(on_cluster 120 3 -x BUDDY_PLACEMENT=host "$APPS/transpose" --avg-degree 12 --seed 5 --rows-per-rank 4000 \
      --json 2>"$OUT/err") ||
    fail "transpose host on 3x1: exit $?: $(tail -n 20 "$OUT/err")"
expect_verified "$(last_line "$out")" "transpose host on 3 hosts x 1 rank"

# ---- 3b. buddyrun across hosts: --hosts and --hostfile (OpenMPI's format)
BUDDYRUN="$BUILD_DIR/router/buddyrun"
out=$(timeout --kill-after=5 90 "$CLUSTER" run -- "$BUDDYRUN" -n 6 --hosts h1:2,h2:2,h3:2 --placement host \
      --report "$OUT/buddyrun-hosts.json" -- "$HIST" --updates 50000 --json 2>"$OUT/err") ||
    fail "buddyrun --hosts: exit $?: $(tail -n 20 "$OUT/err")"
expect_verified "$(last_line "$out")" "buddyrun --hosts h1:2,h2:2,h3:2 --placement host"
order=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(x["host"] for x in sorted(r["ranks"], key=lambda x: x["rank"])))' "$OUT/buddyrun-hosts.json")
[[ $order == "h1 h1 h2 h2 h3 h3" ]] || fail "buddyrun --hosts: ranks not numbered host by host: $order"
echo "ok: buddyrun --hosts numbers ranks host by host: $order"
printf '# hosts of this cluster\nh1 slots=2\nh2 slots=2   # second\n\nh3 slots=2\n' >"$OUT/hostfile"
out=$(timeout --kill-after=5 90 "$CLUSTER" run -- "$BUDDYRUN" -n 6 --hostfile "$OUT/hostfile" --placement host \
      -- "$HIST" --updates 50000 --json 2>"$OUT/err") ||
    fail "buddyrun --hostfile: exit $?: $(tail -n 20 "$OUT/err")"
expect_verified "$(last_line "$out")" "buddyrun --hostfile (3 hosts, comments and a blank line) --placement host"
expect_refused "buddyrun with a missing hostfile" "$BUDDYRUN" -n 2 --hostfile "$OUT/none" -- "$HIST"

# ---- 3c. a forged batch from another host's namespace
# h1's router runs as a service (it outlives the failed job; a router a rank
# starts exits after its last job) with UCX as the cluster gives the ranks.
FORGE="$BUILD_DIR/router/forge_batch"
"$CLUSTER" exec h1 -- env UCX_TLS=tcp UCX_NET_DEVICES=eth0 "$BUILD_DIR/router/buddy-router" --service --verbose \
    2>"$OUT/r1.log" &
r1=$!  # the router itself: the cluster's exec, nsenter and unshare each exec the next
stop_r1() { kill -TERM "$r1" 2>/dev/null || true; wait "$r1" 2>/dev/null || true; }
# bounded_grep TENTHS PATTERN FILE: waits (bounded) for PATTERN in FILE.
bounded_grep() {
    local i
    for ((i = 0; i < $1; i++)); do grep -q "$2" "$3" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
bounded_grep 100 "listening on /tmp/.*threads" "$OUT/r1.log" || { stop_r1; fail "forge: h1's router did not listen: $(cat "$OUT/r1.log")"; }
socket=$(sed -n 's|.*: listening on \(/[^,]*\), .*|\1|p' "$OUT/r1.log")
on_cluster 60 3 -x BUDDY_PLACEMENT=host "$HIST" --updates 400000000 --table 4096 --json >"$OUT/f.out" 2>"$OUT/f.err" &
victim_job=$!
bounded_grep 300 "job [0-9a-f]*: routing" "$OUT/r1.log" ||
    { kill "$victim_job"; stop_r1; fail "forge: the job never routed on h1: $(tail -n 5 "$OUT/f.err")"; }
jobid=$(sed -n 's/.*job \([0-9a-f]*\): routing.*/\1/p' "$OUT/r1.log" | head -n 1)
# Rank 2 is on h3 (router 2): under route direct router 1 (h2's) sends its
# records straight there, never through router 0 (h1's).
forged=$("$CLUSTER" exec h1 -- "$FORGE" address "$socket" "$OUT/r1.address" 2>&1 &&
         "$CLUSTER" exec h2 -- env UCX_TLS=tcp UCX_NET_DEVICES=eth0 "$FORGE" send "$OUT/r1.address" "$jobid" 1 2 2>&1) ||
    { kill "$victim_job"; stop_r1; fail "forge: forge_batch: $forged"; }
rc=0
wait "$victim_job" || rc=$?
(( rc != 0 )) || { stop_r1; fail "forge: the job exited 0 after a forged batch"; }
what="dropped a forged or misrouted batch of 48 bytes from buddy-router 1 (instance [0-9a-f]*): its record for rank 2 (router 2) would not pass through this router from router 1"
grep -q "fatal: the job failed: buddy-router on h1: $what" "$OUT/f.err" ||
    { stop_r1; fail "forge: the job's error does not name the forged batch: $(grep -m3 fatal "$OUT/f.err")"; }
kill -0 "$r1" 2>/dev/null || fail "forge: h1's router died: $(tail -n 5 "$OUT/r1.log")"
out=$(on_cluster 90 3 -x BUDDY_PLACEMENT=host -x BUDDY_VERBOSE=1 "$HIST" --updates 100000 --json 2>"$OUT/err") ||
    { stop_r1; fail "forge: the job after the forged batch: exit $?: $(tail -n 20 "$OUT/err")"; }
grep -q "buddy-router (pid $r1) on node h1" "$OUT/err" ||
    { stop_r1; fail "forge: the job after did not use h1's surviving router (pid $r1): $(grep -m1 'router: host' "$OUT/err")"; }
expect_verified "$(last_line "$out")" "forge: a fresh job on h1's surviving router"
# The same forgery on the route: a record for rank 0, which router 1 does send
# through router 0.  No router can tell it from a real one and rank 0 handles
# it; the barrier that counts it ends the job within BUDDY_TIMEOUT.
on_cluster 60 3 -x BUDDY_PLACEMENT=host -x BUDDY_TIMEOUT=3 "$BUILD_DIR/tests/integration/barrier_check" \
    --until "$OUT/forged" >"$OUT/c.out" 2>"$OUT/c.err" &
on_route_job=$!
for ((i = 0; i < 300; i++)); do (( $(grep -c ": routing" "$OUT/r1.log") >= 3 )) && break; sleep 0.1; done
jobc=$(sed -n 's/.*job \([0-9a-f]*\): routing.*/\1/p' "$OUT/r1.log" | sed -n 3p)
[[ -n $jobc ]] || { kill "$on_route_job"; stop_r1; fail "forge: the on-route job never routed on h1: $(tail -n 5 "$OUT/c.err")"; }
forged=$("$CLUSTER" exec h2 -- env UCX_TLS=tcp UCX_NET_DEVICES=eth0 "$FORGE" send "$OUT/r1.address" "$jobc" 1 0 2>&1) ||
    { kill "$on_route_job"; stop_r1; fail "forge: forge_batch on the route: $forged"; }
touch "$OUT/forged"
rc=0
wait "$on_route_job" || rc=$?
(( rc != 0 )) || { stop_r1; fail "forge: the job exited 0 after a forged record on the route"; }
grep -q "fatal: the job's ranks have written [0-9]* messages and handled [0-9]*, unchanged for [0-9]* s in .* (BUDDY_TIMEOUT): 1 handled that no rank of the job wrote (a record from outside the job, forged or duplicated)" "$OUT/c.err" ||
    { stop_r1; fail "forge: on the route: the job did not end naming the extra record: $(grep -m3 fatal "$OUT/c.err")"; }
echo "ok: forged record on the route (job $jobc): delivered, and its barrier ended the job: $(grep -m1 -o "fatal: the job's ranks.*" "$OUT/c.err")"
stop_r1
# Logged once (a job's first bad input is logged, the rest only counted).
# The count holds the forged batch and the batches h2's and h3's routers still
# had on the way to the failed job: refused once its rank had left, or
# dropped as for an unknown job once it ended.
n=$(grep -c "job $jobid: $what" "$OUT/r1.log" || true)
(( n == 1 )) || fail "forge: h1's router logged the forged batch $n times: $(grep -m3 dropped "$OUT/r1.log")"
bad=$(sed -n 's/.*exiting on a signal; .* bad input [0-9]* (batches \([0-9]*\), records 0).*$/\1/p' "$OUT/r1.log")
[[ -n $bad ]] && (( bad >= 1 )) || fail "forge: h1's router did not count the forged batch: $(tail -n 1 "$OUT/r1.log")"
echo "ok: forged batch (job $jobid, sent from h2's namespace as router 1): the job failed naming it; h1's router survived, counted $bad bad batches (the forged one, the rest late ones of the failed job), and a fresh job on it verified"

# ---- 4. one host's router killed
on_cluster 60 6 -x BUDDY_PLACEMENT=host "$HIST" --updates 400000000 --table 4096 --json >"$OUT/k.out" 2>"$OUT/k.err" &
job=$!
victim=""
for _ in $(seq 1 200); do
    for p in $(ip netns pids "$BUDDY_CLUSTER-h2" 2>/dev/null); do
        # if, not &&: a false test as the loop's last command would end the script (set -e)
        if [[ $(cat "/proc/$p/comm" 2>/dev/null) == buddy-router ]]; then victim=$p; break; fi
    done
    if [[ -n $victim ]]; then break; fi
    sleep 0.05
done
[[ -n $victim ]] || { kill -9 "$job" 2>/dev/null; fail "no buddy-router started on h2"; }
sleep 1  # let the job route for a moment
kill -9 "$victim"
t0=$(date +%s.%N)
rc=0
wait "$job" || rc=$?
t1=$(date +%s.%N)
elapsed=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
(( rc != 0 )) || fail "router of h2 killed: the job exited 0"
python3 -c "import sys; sys.exit(0 if $elapsed < 10.0 else 1)" ||
    fail "router of h2 killed: the job took $elapsed s to end (bound 10 s)"
grep -q "buddy-router (pid $victim) on node h2" "$OUT/k.err" ||
    fail "router of h2 killed: no error naming it and its host: $(grep -m3 fatal "$OUT/k.err")"
for h in h1 h2 h3; do
    left=$(ip netns pids "$BUDDY_CLUSTER-$h" 2>/dev/null | while read -r p; do
        if [[ $(cat "/proc/$p/comm" 2>/dev/null) == histogram ]]; then echo "$p"; fi; done)
    [[ -z $left ]] || fail "router of h2 killed: ranks still running on $h: $left"
done
echo "ok: router of h2 (pid $victim) killed: the job ended on every host after $elapsed s: $(grep -m1 fatal "$OUT/k.err")"

# ---- 5. route mesh2d on 4 hosts
"$CLUSTER" down >/dev/null 2>&1 || true
"$CLUSTER" up 4 >"$OUT/up.log" 2>&1 || fail "scripts/cluster up 4: $(cat "$OUT/up.log")"
for placement in inproc host; do
    for n in 4 8; do
        what="mesh2d $placement on 4 hosts x $((n / 4))"
        out=$(on_cluster 90 "$n" -x BUDDY_PLACEMENT="$placement" -x BUDDY_ROUTE=mesh2d -x BUDDY_REPORT="$OUT/m.json" \
              "$HIST" --updates 30000 --json 2>"$OUT/err") || fail "histogram $what: exit $?: $(tail -n 20 "$OUT/err")"
        expect_verified "$(last_line "$out")" "histogram $what"
        transit=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hops"]["2"])' "$OUT/m.json")
        (( transit > 0 )) || fail "histogram $what: no record went through a transit router"
        out=$(on_cluster 90 "$n" -x BUDDY_PLACEMENT="$placement" -x BUDDY_ROUTE=mesh2d -x BUDDY_REPORT="$OUT/m.json" \
              "$BUILD_DIR/tests/integration/route_check" 3 2>"$OUT/err") ||
            fail "route_check $what: exit $?: $(tail -n 20 "$OUT/err")"
        expect_verified "$(last_line "$out")" "route_check $what"
        res=$(python3 "$SOURCE_DIR/tests/integration/expect_hops.py" "$OUT/m.json" mesh2d 3) || fail "route_check $what: $res"
        echo "ok: $what: histogram's transit records $transit; route_check: $res"
    done
done

# ---- 6. placement dpu on 2 hosts x 2 ranks, each host with an emulated DPU
"$CLUSTER" down >/dev/null 2>&1 || true
"$CLUSTER" up 2 --dpu >"$OUT/up.log" 2>&1 || fail "scripts/cluster up 2 --dpu: $(cat "$OUT/up.log")"
"$CLUSTER" dpu-map >"$OUT/dpu.map"
for i in 1 2; do
    # The DPU's only link is the veth to its host: UCX over tcp on it.
    "$CLUSTER" exec "d$i" -- env UCX_TLS=tcp UCX_NET_DEVICES=host0 "$BUILD_DIR/router/buddy-router" \
        --listen "tcp://10.213.$i.2:7000" --verbose >"$OUT/dpu-router-$i.log" 2>&1 &
    disown  # ended by the cluster's teardown (cleanup), quietly
done
for i in 1 2; do
    for _ in $(seq 100); do grep -q "listening on tcp://10.213.$i.2:7000, " "$OUT/dpu-router-$i.log" && break; sleep 0.1; done
    grep -q "listening on tcp://10.213.$i.2:7000, " "$OUT/dpu-router-$i.log" ||
        fail "the router on d$i did not start: $(cat "$OUT/dpu-router-$i.log")"
done
# on_dpus SECONDS HOSTS NAME APP ARGS...: APP under placement dpu on HOSTS
# (mpirun's --host list), its result line verified.
on_dpus() {
    local limit=$1 hosts=$2 what=$3 n out
    shift 3
    n=$(( $(tr ',' '\n' <<<"$hosts" | cut -d: -f2 | paste -sd+) ))
    out=$(timeout --kill-after=5 "$limit" "$CLUSTER" run -- mpirun -n "$n" --host "$hosts" --map-by node --bind-to none \
          -x BUDDY_PLACEMENT=dpu -x BUDDY_DPU_MAP="$OUT/dpu.map" "$@" --json 2>"$OUT/err") ||
        fail "$what: exit $?: $(tail -n 20 "$OUT/err")"
    expect_verified "$(last_line "$out")" "$what"
    [[ $(json_field "$(last_line "$out")" placement) == dpu ]] || fail "$what: placement is not dpu"
}
on_dpus 90 h1:2,h2:2 "histogram dpu on 2 hosts x 2 ranks (a router on each host's emulated DPU)" "$HIST" --updates 100000
for i in 1 2; do
    grep -q "routing, 2 local ranks, 2 routers in the job" "$OUT/dpu-router-$i.log" ||
        fail "the router on d$i did not route the job's 2 ranks of h$i: $(cat "$OUT/dpu-router-$i.log")"
done
on_dpus 90 h1:2,h2:2 "index_gather dpu on 2 hosts x 2 ranks" "$APPS/index_gather" --table 65536 --requests 50000
on_dpus 120 h1:2,h2:2 "quicksilver dpu on 2 hosts x 2 ranks" "$APPS/quicksilver" --nx 12 --ny 12 --nz 12 --particles 3000
for app in histogram index_gather quicksilver; do
    case $app in
        histogram) args=(--updates 100000) ;;
        index_gather) args=(--table 65536 --requests 50000) ;;
        quicksilver) args=(--nx 12 --ny 12 --nz 12 --particles 3000) ;;
    esac
    on_dpus 120 h1:2 "$app dpu on 1 host x 2 ranks" "$APPS/$app" "${args[@]}"
done
# Two jobs at once through the same two DPU routers.
( on_dpus 120 h1:2,h2:2 "histogram dpu, job A of two sharing the DPU routers" "$HIST" --updates 200000 --seed 1 ) &
shared_a=$!
( on_dpus 120 h1:2,h2:2 "histogram dpu, job B of two sharing the DPU routers" "$HIST" --updates 200000 --seed 2 ) &
shared_b=$!
wait "$shared_a" || fail "job A of two sharing the DPU routers failed"
wait "$shared_b" || fail "job B of two sharing the DPU routers failed"
echo "ok: cluster"
