#!/usr/bin/env bash
# Placement dpu's control plane (issue 11, item 2; the data path is test_dpu.sh):
# buddy-router --listen over TCP, the per-job secret, the dpu map, and the
# rank's connect.  Every launch is bounded; each failure must be clear (the
# sentence is matched) and come within its bound.  About 18 s.
source "$(dirname "$0")/lib.sh"

ROUTER=$BUILD_DIR/router/buddy-router
BUDDYRUN=$BUILD_DIR/router/buddyrun
PROBE=$BUILD_DIR/tests/integration/dpu_probe
APP=$BUILD_DIR/tests/integration/api_check
HOST=$(hostname)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# expect_fails LIMIT WHAT TEXT CMD...: CMD exits non-zero within LIMIT
# seconds and says TEXT.
expect_fails() {
    local limit=$1 what=$2 text=$3 out rc=0 t0=$SECONDS
    shift 3
    out=$(timeout --kill-after=5 "$limit" "$@" 2>&1) || rc=$?
    (( rc != 124 && rc != 137 )) || fail "$what: still running after $limit s"
    (( rc != 0 )) || fail "$what: exit status 0"
    grep -qF -- "$text" <<<"$out" || fail "$what: expected '$text' in:"$'\n'"$out"
    LAST_OUT=$out
    echo "ok: $what (exit $rc, $((SECONDS - t0)) s): $(grep -F -- "$text" <<<"$out" | head -1)"
}

# expect_runs LIMIT WHAT CMD...: CMD exits 0 within LIMIT seconds.
expect_runs() {
    local limit=$1 what=$2 out rc=0 t0=$SECONDS
    shift 2
    out=$(timeout --kill-after=5 "$limit" "$@" 2>&1) || rc=$?
    (( rc == 0 )) || fail "$what: exit status $rc:"$'\n'"$out"
    echo "ok: $what (exit 0, $((SECONDS - t0)) s)"
}

# start_router LOG: a TCP router on a port of its choosing; sets ADDR, RPID.
start_router() {
    local log=$1
    "$ROUTER" --listen tcp://127.0.0.1:0 --verbose >"$log" 2>&1 &
    RPID=$!
    PIDS+=("$RPID")
    wait_tcp_listening "$log"
}

# ---------------------------------------------------------------- --listen
start_router "$WORK/router.log"
echo "router: $ADDR (pid $RPID)"
for bad in "tcp://127.0.0.1:99999|the port '99999' is not a number" "127.0.0.1:7000|expected tcp://HOST:PORT" \
           "tcp://no-such-host.invalid:7000|cannot resolve the host of tcp://no-such-host.invalid:7000" \
           "tcp://192.0.2.7:7000|192.0.2.7 is not an address of this machine" \
           "$ADDR|port ${ADDR##*:} is in use"; do
    expect_fails 10 "buddy-router --listen ${bad%%|*}" "${bad#*|}" "$ROUTER" --listen "${bad%%|*}"
    [[ $(wc -l <<<"$LAST_OUT") == 1 ]] || fail "--listen ${bad%%|*}: more than one line: $LAST_OUT"
    grep -q "fatal: " <<<"$LAST_OUT" || fail "--listen ${bad%%|*}: no 'fatal:' in: $LAST_OUT"
done

# ------------------------------------------------------------ job secrets
SA=$(printf 'a1%.0s' $(seq 32)) SB=$(printf 'b2%.0s' $(seq 32)) SC=$(printf 'c3%.0s' $(seq 32))
"$PROBE" "$ADDR" aa 0 2 "$SA" 60 >"$WORK/probe_a.out" 2>&1 &
PROBE_A=$!
PIDS+=("$PROBE_A")
for i in $(seq 100); do grep -q "^ok: hello accepted" "$WORK/probe_a.out" && break; sleep 0.1; done
grep -q "^ok: hello accepted" "$WORK/probe_a.out" || fail "job aa, rank 0: $(cat "$WORK/probe_a.out")"
echo "ok: job aa rank 0 attached over TCP and waits"
expect_fails 10 "job aa rank 1 with another secret" \
    "refused: buddy-router refuses: job 00000000000000aa is bound to another secret" "$PROBE" "$ADDR" aa 1 2 "$SB"
expect_fails 10 "job aa rank 1 with no secret" "a hello over TCP must carry its job's secret" \
    "$PROBE" "$ADDR" aa 1 2 none
out=$(timeout 10 "$PROBE" "$ADDR" bb 0 1 "$SC") || fail "job bb on the same router: $out"
echo "ok: job bb on the same router unaffected: $out"
out=$(timeout 10 "$PROBE" "$ADDR" aa 1 2 "$SA") || fail "job aa rank 1 with the job's secret: $out"
echo "ok: job aa rank 1 with the job's secret joins: $out"
kill -0 "$PROBE_A" 2>/dev/null || fail "job aa rank 0 ended: $(cat "$WORK/probe_a.out")"
grep -q "refused a hello for job 00000000000000aa (rank 1) from tcp://127.0.0.1:[0-9]*: job 00000000000000aa is bound to another secret" \
    "$WORK/router.log" || fail "the router did not log the refusal: $(cat "$WORK/router.log")"
grep -q "(2 refused for their secret so far)" "$WORK/router.log" || fail "the router did not count: $(cat "$WORK/router.log")"
echo "ok: the router logged and counted both refusals; job aa rank 0 still attached"

# ------------------------------------------------------ the rank's side
printf '# test map\n\n%s %s   # this host\n' "$HOST" "${ADDR#tcp://}" >"$WORK/good.map"
printf '%s %s\nnode2\n' "$HOST" "${ADDR#tcp://}" >"$WORK/malformed.map"
printf 'other-host %s\n' "${ADDR#tcp://}" >"$WORK/missing.map"
printf '%s 127.0.0.1:1\n' "$HOST" >"$WORK/unreachable.map"   # tcpmux: nobody listens
# One rank of placement dpu (expect_fails bounds it); BUDDY_DPU_MAP set per case.
DPU_RANK=(env BUDDY_PLACEMENT=dpu BUDDY_TIMEOUT=2 mpirun -n 1 --oversubscribe --bind-to none)
expect_runs 30 "placement dpu, router reachable: the rank runs through it" \
    "${DPU_RANK[@]}" -x BUDDY_DPU_MAP="$WORK/good.map" "$APP"
grep -q "rank 0 (pid [0-9]*, tcp://127.0.0.1:[0-9]*) attaching" "$WORK/router.log" || fail "no TCP rank in the router log"
if grep -q "died or closed its connection" "$WORK/router.log"; then fail "the rank did not detach: $(cat "$WORK/router.log")"; fi
expect_fails 30 "placement dpu, malformed map" "$WORK/malformed.map:2: expected 'host-name address:port', found 1 word" \
    "${DPU_RANK[@]}" -x BUDDY_DPU_MAP="$WORK/malformed.map" "$APP"
expect_fails 30 "placement dpu, host not in the map" "has no line for host '$HOST'" \
    "${DPU_RANK[@]}" -x BUDDY_DPU_MAP="$WORK/missing.map" "$APP"
expect_fails 30 "placement dpu, router unreachable" \
    "no buddy-router answered at tcp://127.0.0.1:1 within 2 s (BUDDY_TIMEOUT; last attempt: Connection refused)" \
    "${DPU_RANK[@]}" -x BUDDY_DPU_MAP="$WORK/unreachable.map" "$APP"
expect_fails 30 "placement dpu, no map" "placement dpu needs a dpu map" \
    env -u BUDDY_DPU_MAP "${DPU_RANK[@]}" "$APP"
expect_fails 30 "placement dpu, map not there" "BUDDY_DPU_MAP '$WORK/none.map'" \
    "${DPU_RANK[@]}" -x BUDDY_DPU_MAP="$WORK/none.map" "$APP"
expect_fails 10 "buddyrun --dpu-map malformed" "buddyrun: fatal: $WORK/malformed.map:2:" \
    "$BUDDYRUN" -n 1 --placement dpu --dpu-map "$WORK/malformed.map" "$APP"
expect_runs 30 "buddyrun --placement dpu --dpu-map (the map reaches the ranks)" \
    "$BUDDYRUN" -n 1 --placement dpu --dpu-map "$WORK/good.map" --timeout 2 "$APP"
expect_fails 10 "buddyrun --dpu-map without a line for a host of the job" "has no line for host 'node9'" \
    "$BUDDYRUN" -n 2 --placement dpu --dpu-map "$WORK/good.map" --hosts "$HOST:1,node9:1" "$APP"

# --------------------------------------------------------- router killed
kill -9 "$RPID"
wait "$RPID" 2>/dev/null || true
t0=$SECONDS
for i in $(seq 100); do kill -0 "$PROBE_A" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROBE_A" 2>/dev/null && fail "job aa rank 0 still waits 10 s after the router was killed"
rc=0
wait "$PROBE_A" || rc=$?
(( rc == 3 )) || fail "job aa rank 0: exit $rc: $(cat "$WORK/probe_a.out")"
grep -q "ended: buddy-router at $ADDR closed the connection" "$WORK/probe_a.out" || fail "$(cat "$WORK/probe_a.out")"
echo "ok: router killed: the waiting rank ended within $((SECONDS - t0)) s naming it: $(tail -1 "$WORK/probe_a.out")"
echo "PASS"
