#!/usr/bin/env bash
# Under Slurm: a single-node Slurm (scripts/slurm: munge, slurmctld, slurmd,
# generated slurm.conf) runs histogram with `srun -n 2 --mpi=pmix`, verified
# under inproc and host placement, then is torn down.  Where Slurm cannot
# start (no root, no packages) it prints one skip line and exits 77.
source "$(dirname "$0")/lib.sh"

SLURM="$(cd "$(dirname "$0")/../.." && pwd)/scripts/slurm"
OUT=$(mktemp -d)
cleanup() {
    "$SLURM" down >/dev/null 2>&1 || true
    rm -rf "$OUT"
}
trap cleanup EXIT

up_rc=0
timeout 90 "$SLURM" up >"$OUT/up.log" 2>&1 || up_rc=$?
if (( up_rc == 77 )); then cat "$OUT/up.log"; exit 77; fi
(( up_rc == 0 )) || fail "scripts/slurm up: exit $up_rc: $(cat "$OUT/up.log")"
echo "ok: $(cat "$OUT/up.log")"

for placement in inproc host; do
    report="$OUT/report-$placement.json"
    out=$(timeout --kill-after=5 60 "$SLURM" run srun -n 2 --mpi=pmix \
          --export=ALL,BUDDY_PLACEMENT=$placement,BUDDY_REPORT=$report \
          "$APPS/histogram" --updates 200000 --json 2>"$OUT/err") ||
        fail "srun histogram $placement: exit $?: $(tail -n 20 "$OUT/err")"
    line=$(last_line "$out")
    json_parse "$line"
    expect_verified "$line" "srun -n 2 histogram, $placement"
    [[ $(json_field "$line" ranks) == 2 && $(json_field "$line" placement) == "$placement" ]] ||
        fail "srun histogram $placement: result line says $line"
    ranks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["ranks"]))' "$report") ||
        fail "srun histogram $placement: no report at $report"
    [[ $ranks == 2 ]] || fail "srun histogram $placement: report has $ranks ranks"
done
echo "ok: slurm"
