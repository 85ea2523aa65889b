#!/usr/bin/env bash
# placement host: histogram verified through buddy-router with 1, 2 and 4
# ranks, 1 and 2 router threads, 1 and 2 routers per node, granularities from
# 64 bytes to 1 MiB.  The ranks start their routers themselves (the node's
# first rank per router); every router must be gone afterwards (it exits when
# its last job detaches) and no shared-memory segment may be left.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/histogram"
[[ -x $EXE ]] || fail "histogram: $EXE not built"
export BUDDY_ROUTER_BIN="$BUILD_DIR/router/buddy-router"
[[ -x $BUDDY_ROUTER_BIN ]] || fail "buddy-router not built"
SOCKDIR=$(private_dir hist)
export BUDDY_ROUTER_SOCKET="$SOCKDIR/router-{i}.sock"
export BUDDY_PLACEMENT=host

cleanup() {
    local p
    for p in $(pgrep -f -- "--socket $SOCKDIR/" || true); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$SOCKDIR"
}
trap cleanup EXIT

# no_routers_left: every router this test started has exited by itself.
no_routers_left() {
    local i
    for i in $(seq 1 50); do
        pgrep -f -- "--socket $SOCKDIR/" >/dev/null || return 0
        sleep 0.1
    done
    fail "$1: a buddy-router is still running 5 s after its last job ended"
}

run_case() {  # ranks threads routers granularity updates
    local n=$1 t=$2 r=$3 g=$4 u=$5 what out line before after
    what="host: $n ranks, $t router threads, $r routers/node, granularity $g"
    before=$(ls /dev/shm | grep -c "^buddy-$(id -u)-" || true)
    out=$(BUDDY_ROUTER_THREADS=$t BUDDY_ROUTERS_PER_NODE=$r BUDDY_GRANULARITY=$g \
          run_mpi 60 "$n" "$EXE" --updates "$u" --table 4096 --json) || fail "$what: exit status $?"
    line=$(tail -n 1 <<<"$out")
    json_parse "$line"
    [[ $(json_field "$line" placement) == host ]] || fail "$what: placement $(json_field "$line" placement), expected host"
    [[ $(json_field "$line" ranks) == "$n" ]] || fail "$what: ranks field"
    expect_verified "$line" "$what"
    no_routers_left "$what"
    after=$(ls /dev/shm | grep -c "^buddy-$(id -u)-" || true)
    (( after <= before )) || fail "$what: $((after - before)) ring segments left in /dev/shm"
}

for n in 1 2 4; do
    for t in 1 2; do
        run_case "$n" "$t" 1 32K 200000
    done
done
run_case 2 1 2 32K 200000
run_case 4 2 2 32K 100000
run_case 2 1 1 64 50000
run_case 4 2 2 64 20000
run_case 2 2 1 4K 200000
run_case 2 1 1 1M 200000
run_case 4 1 2 1M 100000
echo "ok: host placement matrix"
