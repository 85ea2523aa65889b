#!/usr/bin/env bash
# buddyrun: refuses bad flags with clear errors (before launching anything),
# runs histogram under --placement host (verified, JSON says host), and
# returns the application's exit status.
source "$(dirname "$0")/lib.sh"

BR="$BUILD_DIR/router/buddyrun"
EXE="$APPS/histogram"
[[ -x $BR && -x $EXE ]] || fail "buddyrun or histogram not built"
SOCKDIR=$(private_dir run)
cleanup() {
    local p
    for p in $(pgrep -f -- "--socket $SOCKDIR/" || true); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$SOCKDIR"
}
trap cleanup EXIT
export BUDDY_ROUTER_SOCKET="$SOCKDIR/router-{i}.sock"

refused() {  # EXPECTED-TEXT ARGS...
    local want=$1 out rc=0
    shift
    out=$(timeout 10 "$BR" "$@" 2>&1) || rc=$?
    (( rc != 0 )) || fail "buddyrun $*: exit status 0, expected a refusal"
    grep -qF -- "$want" <<<"$out" || fail "buddyrun $*: message '$out' does not say '$want'"
    echo "ok: buddyrun $* -> $out"
}
refused "unknown placement 'foo': expected inproc, host or dpu" -n 2 --placement foo "$EXE"
refused "-n must be at least 1 (got 0)" -n 0 "$EXE"
refused "--granularity 16 is out of range: accepted 64 to 64M" -n 2 --granularity 16 "$EXE"
refused "--granularity 1G is out of range: accepted 64 to 64M" -n 2 --granularity 1G "$EXE"
refused "invalid --granularity '12Q'" -n 2 --granularity 12Q "$EXE"
refused "--router-threads 0 is out of range" -n 2 --router-threads 0 "$EXE"
refused "no application given" -n 2 --placement host

# A real run: knobs reach the ranks, the result is verified.
out=$(timeout 60 "$BR" -n 2 --placement host --router-threads 2 --granularity 16K --depth 2 \
      -- "$EXE" --updates 200000 --table 4096 --json) || fail "buddyrun host run: exit status $?"
line=$(tail -n 1 <<<"$out")
json_parse "$line"
[[ $(json_field "$line" placement) == host ]] || fail "buddyrun: placement $(json_field "$line" placement)"
[[ $(json_field "$line" granularity) == 16384 ]] || fail "buddyrun: granularity $(json_field "$line" granularity), expected 16384"
expect_verified "$line" "buddyrun -n 2 --placement host --router-threads 2 --granularity 16K"

# The application's exit status comes back (--corrupt fails verification).
rc=0
timeout 60 "$BR" -n 2 --placement host -- "$EXE" --updates 1000 --table 64 --json --corrupt >/dev/null 2>&1 || rc=$?
(( rc == 1 )) || fail "buddyrun: exit status $rc for a failing application, expected 1"
echo "ok: buddyrun returns the application's exit status ($rc)"
