# Shared helpers for integration tests (sourced).  Every launch is bounded by
# `timeout`, and every check prints what it expected and what it got.
set -euo pipefail

BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
APPS="$BUILD_DIR/apps"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Quiet, deterministic MPI on a small shared machine: no busy-poll yield storms,
# no network probing beyond loopback.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_hwloc_base_binding_policy=none
export OMPI_MCA_mpi_yield_when_idle=1

# run_mpi SECONDS NPROCS CMD...: runs CMD under mpirun, bounded.
run_mpi() {
    local limit=$1 n=$2
    shift 2
    timeout --kill-after=5 "$limit" mpirun -n "$n" --oversubscribe --bind-to none "$@"
}

# json_parse LINE: parses the one-line JSON object LINE once, so that json_field
# on that LINE reads its values from JSON_VALUES instead of starting python3:
# a start costs 0.13 s on the 2-core VM, and a test that checks 15 fields of
# each of 25 runs spent 50 of its 74 s in them.  Call it in the test's own
# shell (not inside $(...), whose variables die with it); a LINE that is not a
# JSON object leaves nothing parsed, and json_field then fails as before.
declare -gA JSON_VALUES=()
JSON_LINE=""
json_parse() {
    local key value
    JSON_VALUES=()
    JSON_LINE=""
    while IFS= read -r -d '' key && IFS= read -r -d '' value; do
        JSON_VALUES[$key]=$value
    done < <(python3 -c '
import json, sys
for k, v in json.loads(sys.argv[1]).items():
    sys.stdout.write(k + "\0" + (str(v).lower() if isinstance(v, bool) else str(v)) + "\0")' "$1" 2>/dev/null)
    # python3 writes nothing unless all of LINE parsed (json.loads comes first).
    if ((${#JSON_VALUES[@]})); then JSON_LINE=$1; fi
}

# json_field LINE KEY: the value of KEY in a one-line JSON object (numbers,
# true/false as lowercase words, strings); fails when LINE is not JSON or has
# no KEY.
json_field() {
    if [[ -n $JSON_LINE && $1 == "$JSON_LINE" ]]; then
        [[ -v JSON_VALUES[$2] ]] || { echo "json_field: no field $2 in $1" >&2; return 1; }
        printf '%s\n' "${JSON_VALUES[$2]}"
        return
    fi
    python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_verified JSONLINE DESCRIPTION
expect_verified() {
    local v
    [[ $1 == "$JSON_LINE" ]] || json_parse "$1"
    v=$(json_field "$1" verified) || fail "$2: no JSON result line"
    [[ $v == true ]] || fail "$2: verified=$v"
    echo "ok: $2"
}

last_line() { tail -n 1 <<<"$1"; }

# expect_corrupt_fails DESCRIPTION CMD...: CMD runs an app with --corrupt; it
# must exit non-zero and report verified=false.  Leaves its result line in
# LAST_LINE for further checks.
expect_corrupt_fails() {
    local what=$1 out v rc=0
    shift
    out=$("$@" 2>/dev/null) || rc=$?
    (( rc != 0 )) || fail "$what --corrupt: exit status 0, expected non-zero"
    LAST_LINE=$(last_line "$out")
    json_parse "$LAST_LINE"
    v=$(json_field "$LAST_LINE" verified) || fail "$what --corrupt: no JSON result line"
    [[ $v == false ]] || fail "$what --corrupt: verified=$v, expected false"
    echo "ok: $what --corrupt fails verification (exit $rc)"
}

# expect_refused DESCRIPTION CMD...: CMD (a bad command line) must exit non-zero.
expect_refused() {
    local what=$1 rc=0
    shift
    "$@" >/dev/null 2>&1 || rc=$?
    (( rc != 0 )) || fail "$what: accepted (exit status 0)"
    echo "ok: $what refused (exit $rc)"
}

# expect_refused_saying DESCRIPTION PATTERN CMD...: CMD must exit non-zero and
# its output must match PATTERN (grep -E): refused, and saying why.
expect_refused_saying() {
    local what=$1 pattern=$2 rc=0 out
    shift 2
    out=$("$@" 2>&1) || rc=$?
    (( rc != 0 )) || fail "$what: accepted (exit status 0)"
    grep -qE -- "$pattern" <<<"$out" || fail "$what: refused without saying '$pattern': $out"
    echo "ok: $what refused (exit $rc), saying '$pattern'"
}

# private_dir NAME: a new directory /tmp/buddy-test-NAME.XXXXXX of mode 0700,
# for one test's router sockets and logs (the router refuses a socket
# directory that group or others may write).
private_dir() {
    local d
    d=$(mktemp -d "/tmp/buddy-test-$1.XXXXXX") || fail "mktemp failed"
    chmod 700 "$d"
    echo "$d"
}

# start_service_router SOCKET LOG [ROUTER OPTIONS...]: a long-lived
# buddy-router (--service --verbose, log in LOG) in the background, its pid in
# RPID; returns once SOCKET exists, fails at once if the router exits first,
# and after 5 s at most.
start_service_router() {
    local sock=$1 log=$2
    shift 2
    "$BUILD_DIR/router/buddy-router" --socket "$sock" --service --verbose "$@" 2>"$log" &
    RPID=$!
    for _ in $(seq 1 100); do
        [[ -S $sock ]] && return 0
        kill -0 "$RPID" 2>/dev/null || break
        sleep 0.05
    done
    fail "router did not create $sock: $(cat "$log")"
}

# wait_tcp_listening LOG: waits (10 s at most) until the router RPID has
# written "listening on tcp://ADDR:PORT" to LOG, and sets ADDR to that address;
# fails at once if the router exits first.
wait_tcp_listening() {
    local log=$1
    for _ in $(seq 100); do
        ADDR=$(grep -o 'listening on tcp://[0-9.]*:[0-9]*' "$log" | head -1 | cut -d' ' -f3) || true
        [[ -n $ADDR ]] && return 0
        kill -0 "$RPID" 2>/dev/null || fail "the router exited at start: $(cat "$log")"
        sleep 0.1
    done
    fail "the router did not say where it listens within 10 s: $(cat "$log")"
}
