#!/usr/bin/env bash
# histogram at 1, 2 and 4 ranks in buddy and mpi modes, REPS times each (default
# 5), in one invocation; prints medians with min and max, and the buddy/mpi ratio.
#   perf/histogram_scaling.sh [--updates N] [--table T] [--reps R] [--ranks "1 2 4"]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
updates=10000000 table=65536 reps=5 ranks="1 2 4" extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --updates) updates=$2; shift 2 ;;
    --table) table=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --placements) placements=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
modes=("buddy:${placements:-inproc}" "mpi:none")
python3 - "$BUILD" "$updates" "$table" "$reps" "$ranks" "${extra[*]:-}" <<'PY'
import json, statistics, subprocess, sys
build, updates, table, reps, ranks, extra = sys.argv[1:7]
ranks = [int(r) for r in ranks.split()]
reps = int(reps)
configs = [("buddy", "inproc"), ("mpi", "none")]
results = {}
for n in ranks:
    for mode, placement in configs:
        rates = []
        for _ in range(reps):
            cmd = ["timeout", "600", "mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none",
                   "-x", f"BUDDY_PLACEMENT={placement if mode == 'buddy' else 'inproc'}",
                   f"{build}/apps/histogram", "--mode", mode, "--updates", updates, "--table", table, "--json"]
            cmd += extra.split()
            out = subprocess.run(cmd, capture_output=True, text=True)
            line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
            d = json.loads(line)
            if not d.get("verified"):
                sys.exit(f"not verified: {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
            rates.append(d["rate"])
        results[(n, mode)] = rates
print(f"histogram: {updates} updates per rank, table {table} per rank, {reps} runs each (messages/s)")
print(f"{'ranks':>5} {'mode':>8} {'median':>12} {'min':>12} {'max':>12} {'buddy/mpi':>10}")
for n in ranks:
    for mode, _ in configs:
        r = results[(n, mode)]
        ratio = ""
        if mode == "buddy":
            ratio = f"{statistics.median(r) / statistics.median(results[(n, 'mpi')]):.2f}"
        print(f"{n:>5} {mode:>8} {statistics.median(r):>12.4g} {min(r):>12.4g} {max(r):>12.4g} {ratio:>10}")
PY
