#!/usr/bin/env bash
# placement host, two "hosts" sharing one /tmp and one /dev/shm (UTS
# namespaces with their own host names, as network namespaces on one machine
# would be): router sockets and ring segments carry the host name, so a job
# on one host never reaches the other host's router, and a router's sweep of
# orphaned segments leaves the other host's alone.
source "$(dirname "$0")/lib.sh"

EXE="$APPS/histogram"
ROUTER="$BUILD_DIR/router/buddy-router"
[[ -x $EXE && -x $ROUTER ]] || fail "histogram or buddy-router not built"
if ! unshare --uts true 2>/dev/null; then
    echo "skip: cannot create UTS namespaces here (needs CAP_SYS_ADMIN)"
    exit 77
fi
WORK=$(mktemp -d /tmp/buddy-test-two-hosts.XXXXXX)
RPID=""
cleanup() {
    [[ -n $RPID ]] && kill -9 "$RPID" 2>/dev/null
    rm -f /dev/shm/"$ORPHAN_A" /dev/shm/"$ORPHAN_B"
    rm -rf "$WORK"
}
trap cleanup EXIT
unset BUDDY_ROUTER_SOCKET  # the default paths are what is tested
export BUDDY_PLACEMENT=host
uid=$(id -u)
A=buddy-host-a
B=buddy-host-b
SOCK_A="/tmp/buddy-$uid/router-$A-0.sock"
SOCK_B="/tmp/buddy-$uid/router-$B-0.sock"
# on_host HOST CMD...: CMD with HOST as its host name.
on_host() { unshare --uts bash -c 'hostname "$0" && exec "$@"' "$@"; }

# Orphaned segments of a router that is gone, one per host.
dead=1
while kill -0 "$dead" 2>/dev/null || [[ -e /proc/$dead ]]; do dead=$((dead + 7919)); done
ORPHAN_A="buddy-$uid-$A-$dead-0000000000000001-0-out"
ORPHAN_B="buddy-$uid-$B-$dead-0000000000000001-0-out"
: >/dev/shm/"$ORPHAN_A"
: >/dev/shm/"$ORPHAN_B"

# Host A: a router on its default socket (started without on_host, a shell
# function, so that `$!` is the router itself: unshare and bash both exec).
LOG_A="$WORK/router-a.log"
unshare --uts bash -c 'hostname "$0" && exec "$@"' "$A" "$ROUTER" --service --verbose 2>"$LOG_A" &
RPID=$!
for _ in $(seq 1 100); do [[ -S $SOCK_A ]] && break; sleep 0.05; done
[[ -S $SOCK_A ]] || fail "host A's router did not create $SOCK_A: $(cat "$LOG_A")"
for _ in $(seq 1 100); do [[ -e /dev/shm/$ORPHAN_A ]] || break; sleep 0.05; done
[[ ! -e /dev/shm/$ORPHAN_A ]] || fail "host A's router did not sweep its own orphaned segment"
[[ -e /dev/shm/$ORPHAN_B ]] || fail "host A's router swept host B's segment"
echo "ok: host A's router swept its own orphaned segment and left host B's"

# Host B: its ranks do not see host A's router; the first rank starts host B's own.
out=$(on_host "$B" timeout --kill-after=5 90 mpirun -n 2 --oversubscribe --bind-to none \
      "$EXE" --updates 200000 --table 4096 --json 2>"$WORK/b.err") ||
    fail "job on host B: exit status $? ($(cat "$WORK/b.err"))"
expect_verified "$(tail -n 1 <<<"$out")" "job on host B"
! grep -q "attaching" "$LOG_A" || fail "host B's ranks attached to host A's router: $(cat "$LOG_A")"
[[ -f $SOCK_B.log ]] || fail "host B's ranks did not start a router of their own on $SOCK_B"
[[ ! -e /dev/shm/$ORPHAN_B ]] || fail "host B's router did not sweep host B's orphaned segment"
echo "ok: host B's job ran through a router of its own ($SOCK_B)"

# Host A's ranks do use host A's router.
out=$(on_host "$A" timeout --kill-after=5 90 mpirun -n 2 --oversubscribe --bind-to none \
      "$EXE" --updates 200000 --table 4096 --json 2>"$WORK/a.err") ||
    fail "job on host A: exit status $? ($(cat "$WORK/a.err"))"
expect_verified "$(tail -n 1 <<<"$out")" "job on host A"
grep -q "attaching" "$LOG_A" || fail "host A's ranks did not attach to host A's router: $(cat "$LOG_A")"
kill -TERM "$RPID"
wait "$RPID" 2>/dev/null || true
RPID=""
echo "ok: two hosts sharing /tmp and /dev/shm kept apart"
