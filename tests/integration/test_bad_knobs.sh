#!/usr/bin/env bash
# A bad knob ends a job cleanly: under mpirun every rank prints
# "buddy: fatal: <message naming the knob>" and exits non-zero, never with
# SIGABRT (134); buddyrun and buddy-router refuse bad flags the same way.
source "$(dirname "$0")/lib.sh"

H="$APPS/histogram"
BR="$BUILD_DIR/router/buddyrun"
ROUTER="$BUILD_DIR/router/buddy-router"
[[ -x $H && -x $BR && -x $ROUTER ]] || fail "histogram, buddyrun or buddy-router not built"

# expect_fatal DESCRIPTION WANT TIMES CMD...: CMD must exit non-zero but not
# 134, and print at least TIMES lines with "fatal: " and WANT.
expect_fatal() {
    local what=$1 want=$2 times=$3 out rc=0 said
    shift 3
    out=$("$@" 2>&1) || rc=$?
    (( rc != 0 )) || fail "$what: accepted (exit status 0)"
    (( rc != 134 )) || fail "$what: ended by SIGABRT (exit 134): $out"
    (( rc != 124 && rc != 137 )) || fail "$what: did not end within its bound"
    said=$( (grep -F -- "fatal: " <<<"$out" || true) | (grep -cF -- "$want" || true))
    (( said >= times )) || fail "$what: $said lines 'fatal: ... $want', expected $times: $out"
    echo "ok: $what -> exit $rc: $(grep -m1 -F -- "fatal: " <<<"$out")"
}

# Under plain mpirun: non-zero, not 134, the knob named.  (mpirun ends the
# other rank once one exits non-zero, so only one message is certain here.)
mpi2=(timeout --kill-after=5 30 mpirun -n 2 --oversubscribe --bind-to none)
expect_fatal "BUDDY_GRANULARITY=abc, 2 ranks" "invalid BUDDY_GRANULARITY 'abc'" 1 \
    env BUDDY_GRANULARITY=abc "${mpi2[@]}" -x BUDDY_GRANULARITY "$H" --updates 10
expect_fatal "--buddy-depth=0, 2 ranks" "--buddy-depth 0 is out of range" 1 "${mpi2[@]}" "$H" --updates 10 --buddy-depth=0
expect_fatal "BUDDY_REPORT= (empty), 2 ranks" "invalid BUDDY_REPORT ''" 1 \
    env BUDDY_REPORT= "${mpi2[@]}" -x BUDDY_REPORT "$H" --updates 10
expect_fatal "BUDDY_ROUTER_CORES=1-0, 2 ranks" "invalid BUDDY_ROUTER_CORES '1-0'" 1 \
    env BUDDY_PLACEMENT=host BUDDY_ROUTER_CORES=1-0 "${mpi2[@]}" -x BUDDY_PLACEMENT -x BUDDY_ROUTER_CORES "$H" --updates 10
expect_fatal "BUDDY_ROUTER_BIN=/bin/false, 2 ranks" "not a buddy-router" 1 \
    env BUDDY_PLACEMENT=host BUDDY_ROUTER_BIN=/bin/false "${mpi2[@]}" -x BUDDY_PLACEMENT -x BUDDY_ROUTER_BIN "$H" --updates 10
expect_fatal "BUDDY_ROUTER_SOCKET=relative, 2 ranks" "a relative path" 1 \
    env BUDDY_PLACEMENT=host BUDDY_ROUTER_SOCKET=r.sock "${mpi2[@]}" -x BUDDY_PLACEMENT -x BUDDY_ROUTER_SOCKET "$H" --updates 10

# Knobs that must agree job-wide, set for one app context only: every rank
# ends at start naming the knobs and both values (a placement set on one rank
# only hung the job; a max-message on one only ended it mid-run with
# "malformed batch"; a granularity on one only passed unnoticed).
mpmd=(timeout --kill-after=5 30 mpirun --oversubscribe --bind-to none)
expect_fatal "BUDDY_PLACEMENT=host on rank 2 of 3" \
    "disagree on placement (rank 0: inproc, rank 2: host); these knobs must be the same on every rank" 1 \
    "${mpmd[@]}" -n 2 "$H" --updates 10 : -n 1 env BUDDY_PLACEMENT=host "$H" --updates 10
expect_fatal "BUDDY_GRANULARITY, BUDDY_MAX_MESSAGE on rank 0 of 2" \
    "disagree on granularity (rank 0: 4K, rank 1: 32K), max-message (rank 0: 64K, rank 1: 1M)" 1 \
    "${mpmd[@]}" -n 1 env BUDDY_GRANULARITY=4K BUDDY_MAX_MESSAGE=64K "$H" --updates 10 : -n 1 "$H" --updates 10

# No room in /dev/shm for UCX's worker: every rank ends at once, naming the
# cause (it was an uncaught exception: std::terminate, SIGABRT, a core dump).
# A private mount namespace gives the job a 2 MiB /dev/shm of its own.
small_shm=""
for try in "unshare --mount --propagation private" "unshare --user --map-root-user --mount --propagation private"; do
    if $try true 2>/dev/null; then small_shm=$try; break; fi
done
# MPI itself goes over TCP here (ob1, self and tcp): OpenMPI's shared-memory
# BTL warns about the small /dev/shm through a help message, and its runtime
# crashed once in that path (a segfault in orted, CI), which is not buddy's.
mpi_tcp=("${mpi2[@]}" --mca pml ob1 --mca btl self,tcp)
if [[ -n $small_shm ]]; then
    expect_fatal "a 2 MiB /dev/shm" "fatal: starting the transport: UCX ucp_worker_create failed" 1 \
        $small_shm bash -c 'mount -t tmpfs -o size=2m tmpfs /dev/shm && exec "$@"' _ "${mpi_tcp[@]}" "$H" --updates 10
    out=$($small_shm bash -c 'mount -t tmpfs -o size=2m tmpfs /dev/shm && exec "$@"' _ "${mpi_tcp[@]}" "$H" --updates 10 2>&1) || true
    grep -q "/dev/shm may be full" <<<"$out" || fail "a 2 MiB /dev/shm: the cause is not named: $(grep -m1 fatal <<<"$out")"
else
    echo "note: no mount namespace can be made here: the full /dev/shm case is not run"
fi

# Every rank refuses by itself: each rank runs under a shell that records its
# exit status and exits 0, so that mpirun ends no rank early.
STATUS=$(mktemp -d)
trap 'rm -rf "$STATUS"' EXIT
out=$(BUDDY_GRANULARITY=1.5M "${mpi2[@]}" -x BUDDY_GRANULARITY bash -c \
      '"$0" --updates 10; echo $? >"$1/rank-$OMPI_COMM_WORLD_RANK"' "$H" "$STATUS" 2>&1) ||
    fail "every rank: the wrapped job failed: $out"
for r in 0 1; do
    [[ $(cat "$STATUS/rank-$r" 2>/dev/null) == 2 ]] || fail "rank $r exit status '$(cat "$STATUS/rank-$r" 2>/dev/null)', expected 2"
done
(( $(grep -cF "buddy: fatal: invalid BUDDY_GRANULARITY '1.5M'" <<<"$out") == 2 )) ||
    fail "every rank: expected 2 fatal lines echoing '1.5M': $out"
echo "ok: BUDDY_GRANULARITY=1.5M: both ranks exit 2 with: $(grep -m1 fatal <<<"$out")"

# buddyrun: the table's messages, before anything is launched.
expect_fatal "buddyrun --depth 0" "--depth 0 is out of range: accepted 1 to 1024" 1 timeout 10 "$BR" -n 2 --depth 0 "$H"
expect_fatal "buddyrun --max-message 1.5M" "invalid --max-message '1.5M'" 1 timeout 10 "$BR" -n 2 --max-message 1.5M "$H"
expect_fatal "buddyrun --router-cores 100000" "invalid --router-cores '100000'" 1 \
    timeout 10 "$BR" -n 2 --router-cores 100000 "$H"
expect_fatal "buddyrun --no-such-flag" "--no-such-flag" 1 timeout 10 "$BR" -n 2 --no-such-flag "$H"
expect_fatal "buddyrun --node-rings=maybe" "invalid --node-rings 'maybe'" 1 timeout 10 "$BR" -n 2 --node-rings=maybe "$H"
expect_fatal "buddyrun --node-rings off" "'off' after --node-rings is not an application: a boolean flag takes its value as --node-rings=off" 1 \
    timeout 10 "$BR" -n 2 --node-rings off "$H"
# Every boolean knob is a buddyrun flag, passed on to the ranks.
cmd=$(timeout 10 "$BR" -n 2 --dry-run --node-rings=off --checksum "$H" 2>&1) || fail "buddyrun --dry-run: $cmd"
[[ $cmd == *"-x BUDDY_NODE_RINGS=off"* && $cmd == *"-x BUDDY_CHECKSUM=true"* ]] ||
    fail "buddyrun --node-rings=off --checksum: expected both in the mpirun command: $cmd"
echo "ok: buddyrun --node-rings=off --checksum -> BUDDY_NODE_RINGS=off, BUDDY_CHECKSUM=true"
# A rank's boolean flag takes a boolean word after it.
out=$("${mpi2[@]}" "$H" --updates 1000 --buddy-node-rings off --buddy-verbose 2>&1) ||
    fail "histogram --buddy-node-rings off: exit status $?: $out"
grep -q "node-rings  *off .*flag --buddy-node-rings" <<<"$out" ||
    fail "histogram --buddy-node-rings off: the settings do not show it off, from the flag: $out"
echo "ok: --buddy-node-rings off (two words) turns node rings off"

# buddy-router: the same.
expect_fatal "buddy-router --threads 0" "--threads 0 is out of range: accepted 1 to 64 threads (knob router-threads)" 1 \
    timeout 10 "$ROUTER" --threads 0
expect_fatal "buddy-router --socket rel.sock" "invalid --socket 'rel.sock' (knob router-socket)" 1 \
    timeout 10 "$ROUTER" --socket rel.sock
expect_fatal "buddy-router --bogus" "--bogus" 1 timeout 10 "$ROUTER" --bogus
version=$(timeout 10 "$ROUTER" --version) || fail "buddy-router --version: exit status $?"
[[ $version == "buddy-router "* ]] || fail "buddy-router --version printed '$version'"
echo "ok: buddy-router --version -> $version"
