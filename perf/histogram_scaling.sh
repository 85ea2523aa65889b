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
PYTHONPATH=perf/lib python3 - "$BUILD" "$updates" "$table" "$reps" "$ranks" "${placements:-inproc}" "${extra[*]:-}" <<'PY'
import statistics, sys
import bench  # perf/lib/bench.py: runs an app, reads and checks its JSON result
build, updates, table, reps, ranks, placement, extra = sys.argv[1:8]
ranks = [int(r) for r in ranks.split()]
reps = int(reps)
configs = [("buddy", placement), ("mpi", "inproc")]
results = {}
for n in ranks:
    for mode, placement in configs:
        rates = []
        for _ in range(reps):
            try:
                d = bench.run_app(build, "histogram", n, mode, placement,
                                  ["--updates", updates, "--table", table] + extra.split())
            except bench.RunError as e:
                sys.exit(str(e))
            rates.append(bench.app_rate("histogram", d))
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
