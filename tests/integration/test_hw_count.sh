#!/usr/bin/env bash
# buddy-hw-count around each rank of a job: one JSON line per rank, with either
# counted values or available=false and the reason; the command's exit status
# passes through.
source "$(dirname "$0")/lib.sh"
HW="$BUILD_DIR/lib/report/hw/buddy-hw-count"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

line=$(run_mpi 60 2 "$HW" --out "$out/hw" -- "$APPS/histogram" --updates 5000 --json | tail -n 1)
expect_verified "$line" "histogram under buddy-hw-count"
/usr/bin/python3 - "$out/hw" <<'PY' || fail "buddy-hw-count output"
import json, sys
for rank in (0, 1):
    r = json.load(open(f"{sys.argv[1]}.{rank}"))
    assert r["exit_status"] == 0, r
    hw = r["hw_counters"]
    if hw["available"]:
        assert hw["values"] and hw["reason"] == "", hw
    else:
        assert hw["values"] == {} and hw["reason"] and hw["not_opened"], hw
        assert all(f["tried"] and f["error"] for f in hw["not_opened"]), hw
    print(f"rank {rank}: available={hw['available']} {hw['reason'][:160]}")
PY
rc=0
"$HW" -- false >/dev/null || rc=$?
(( rc == 1 )) || fail "exit status of the counted command: $rc, expected 1"
rc=0
"$HW" -- /nonexistent/program >/dev/null 2>&1 || rc=$?
(( rc == 127 )) || fail "a command that cannot run: exit $rc, expected 127"
echo "ok: buddy-hw-count per rank, exit status passed through"
