#!/usr/bin/env bash
# Isolation, placement host:
#  1. the router refuses, naming the path and leaving it alone, a regular
#     file at its socket path, a world-writable socket directory, and one
#     that belongs to another user;
#  2. a second user (buddy-other, created if absent; root needed) can neither
#     attach to nor inject into the first user's job: connecting to its
#     router's socket, or opening its ring segments, fails at once with
#     "Permission denied"; with the socket opened up on purpose, the router
#     still refuses the other uid (SO_PEERCRED) and the rank side refuses a
#     router of another uid;
#  3. the second user's own job (placement host, default socket) starts its
#     own router and runs;
#  4. a job cannot join or address another job through a shared router: a
#     hello forging a running job's id is refused (the records of a rank
#     carry no job id: its rings are bound to its job; batches are checked
#     per job by the unit test router_forwarder).
source "$(dirname "$0")/lib.sh"

ROUTER="$BUILD_DIR/router/buddy-router"
PROBE="$BUILD_DIR/tests/integration/isolation_probe"
EXE="$APPS/histogram"
[[ -x $ROUTER && -x $PROBE && -x $EXE ]] || fail "buddy-router, isolation_probe or histogram not built"
WORK=$(private_dir isolation)
RPID="" HOLD=""
cleanup() {
    [[ -n $RPID ]] && kill -9 "$RPID" 2>/dev/null
    [[ -n $HOLD ]] && kill "$HOLD" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# expect_router_refuses WHAT SOCKET TEXT: the router exits non-zero at once, saying TEXT.
expect_router_refuses() {
    local rc=0 out
    out=$(timeout 10 "$ROUTER" --socket "$2" 2>&1) || rc=$?
    (( rc != 0 && rc != 124 )) || fail "$1: router exit $rc: $out"
    grep -q -- "$3" <<<"$out" || fail "$1: the router's message does not say '$3': $out"
    echo "ok: $1: $(head -n 1 <<<"$out")"
}

# ---- 1. what stands at the socket path, and its directory
mkdir -m 700 "$WORK/d"
echo "keep me" >"$WORK/d/router.sock"
expect_router_refuses "a regular file at the socket path" "$WORK/d/router.sock" "$WORK/d/router.sock: it is a regular file, not a socket"
[[ $(cat "$WORK/d/router.sock") == "keep me" ]] || fail "the router changed or deleted the regular file at its socket path"
mkdir -m 777 "$WORK/open"
chmod 777 "$WORK/open"
expect_router_refuses "a world-writable socket directory" "$WORK/open/router.sock" "mode 0777 lets other users"

if [[ $(id -u) != 0 ]]; then
    echo "skip: the second-user part of test_isolation needs root (to create the user buddy-other)"
    exit 0
fi
OTHER=buddy-other
id -u "$OTHER" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$OTHER" || fail "cannot create user $OTHER"
OUID=$(id -u "$OTHER")
as_other() { runuser -u "$OTHER" -- env HOME=/tmp "$@"; }
as_other test -x "$PROBE" || fail "$OTHER cannot execute $PROBE (directory permissions)"
mkdir -m 700 "$WORK/theirs"
chown "$OTHER" "$WORK/theirs"
expect_router_refuses "another user's socket directory" "$WORK/theirs/router.sock" "belongs to uid $OUID, not to this user"

# ---- 2. the first user's router and job
SOCK="$WORK/d/live.sock"
LOG="$WORK/router.log"
start_service_router "$SOCK" "$LOG"
[[ $(stat -c %a "$SOCK") == 600 && $(stat -c %a "$WORK/d") == 700 ]] ||
    fail "socket mode $(stat -c %a "$SOCK"), directory mode $(stat -c %a "$WORK/d"): expected 600 in 700"
chmod 711 "$WORK"  # let the other user reach $WORK/d, which stays 0700: the directory alone must keep it out

# expect_denied WHAT CMD...: CMD as the other user fails at once (< 5 s) saying "Permission denied".
expect_denied() {
    local what=$1 out rc=0 t0 t1
    shift
    t0=$(date +%s.%N)
    out=$(timeout 20 runuser -u "$OTHER" -- env HOME=/tmp "$@" 2>&1) || rc=$?
    t1=$(date +%s.%N)
    (( rc != 0 && rc != 124 )) || fail "$what: exit $rc: $out"
    grep -qi "permission denied\|refus" <<<"$out" || fail "$what: no clear refusal: $out"
    python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 5.0 else 1)" || fail "$what: took $(python3 -c "print(f'{$t1 - $t0:.1f}')") s"
    echo "ok: $what: $(grep -i -m1 'permission denied\|refus' <<<"$out")"
}
expect_denied "$OTHER connects to the router's socket" "$PROBE" connect "$SOCK"
grep -q "Permission denied" <<<"$(as_other "$PROBE" connect "$SOCK" 2>&1 || true)" || fail "connect: not 'Permission denied'"
expect_denied "$OTHER runs a job on the router's socket" \
    env BUDDY_PLACEMENT=host BUDDY_ROUTER_SOCKET="$SOCK" OMPI_MCA_rmaps_base_oversubscribe=1 \
    timeout 15 mpirun -n 1 --bind-to none "$EXE" --updates 1000 --json
# Segments: made by the library as the first user, mapped as the second.
SEG="/buddy-$(id -u)-isolation-test-$$"
coproc HOLDER { "$PROBE" create "$SEG"; }
HOLD=$HOLDER_PID
read -r line <&"${HOLDER[0]}"
[[ $line == ok:* ]] || fail "cannot create a segment: $line"
[[ $(stat -c %a "/dev/shm${SEG}") == 600 ]] || fail "segment mode $(stat -c %a "/dev/shm${SEG}"), expected 600"
expect_denied "$OTHER opens the first user's ring segment" "$PROBE" open "$SEG"
fd=${HOLDER[1]}
eval "exec $fd>&-"
wait "$HOLD" || true
HOLD=""
# The socket opened up on purpose (as a careless chmod would): the kernel
# lets the other user connect now, and the router checks the uid itself.
chmod 711 "$WORK/d"
chmod 666 "$SOCK"
expect_denied "$OTHER says hello through an opened-up socket" "$PROBE" hello "$SOCK" 1234 0
sleep 0.3
grep -q "refused a connection from another user (uid $OUID)" "$LOG" ||
    fail "the router did not log its SO_PEERCRED refusal: $(tail -n 3 "$LOG")"
echo "ok: the router refused uid $OUID by SO_PEERCRED"
chmod 600 "$SOCK"
chmod 700 "$WORK/d"

# ---- 4. a job forging another job's id (same user)
export BUDDY_PLACEMENT=host BUDDY_ROUTER_SOCKET="$SOCK"
run_mpi 60 2 "$EXE" --updates 400000000 --table 4096 --json >"$WORK/j.out" 2>"$WORK/j.err" &
MPID=$!
for _ in $(seq 1 300); do grep -q routing "$LOG" && break; sleep 0.05; done
job=$(grep -m1 "routing" "$LOG" | sed -E 's/.*job ([0-9a-f]+): routing.*/\1/')
[[ -n $job ]] || fail "the job never started routing: $(cat "$LOG")"
out=$("$PROBE" hello "$SOCK" "$job" 0 2 || true)
# Refused for its secret first (the job's ranks presented another one), so
# the forger learns nothing about the job.
grep -q "is bound to another secret" <<<"$out" || fail "a hello forging job $job was not refused: $out"
echo "ok: a hello forging running job $job is refused: $out"
kill -9 "$MPID" 2>/dev/null || true
wait "$MPID" 2>/dev/null || true
unset BUDDY_ROUTER_SOCKET

# ---- 3. the other user's own job gets its own router
out=$(as_other env BUDDY_PLACEMENT=host BUDDY_ROUTER_BIN="$ROUTER" OMPI_MCA_rmaps_base_oversubscribe=1 \
      timeout 60 mpirun -n 2 --bind-to none "$EXE" --updates 20000 --json 2>"$WORK/o.err") ||
    fail "$OTHER's own job failed: $(tail -n 5 "$WORK/o.err")"
expect_verified "$(last_line "$out")" "$OTHER's own job under placement host, with its own router"
[[ -d /tmp/buddy-$OUID ]] && [[ $(stat -c %U:%a "/tmp/buddy-$OUID") == "$OTHER:700" ]] ||
    fail "$OTHER's router directory: $(stat -c %U:%a "/tmp/buddy-$OUID" 2>&1)"
echo "ok: isolation"
