#!/usr/bin/env bash
# How the default granularity was chosen: histogram at RANKS ranks (default 2)
# for each granularity, REPS runs each (default 5), printing median, min, max
# and the ratio to the best.  Same invocation, same machine state for all.
#   perf/granularity_sweep.sh [--ranks N] [--reps R] [--updates U] [--table T] [--placement P] [--sizes "4K 8K ..."]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
ranks=2 reps=5 updates=5000000 table=65536 placement=inproc sizes="1K 4K 8K 16K 32K 64K 256K 1M"
while [[ $# -gt 0 ]]; do
  case $1 in
    --ranks) ranks=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --updates) updates=$2; shift 2 ;;
    --table) table=$2; shift 2 ;;
    --placement) placement=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    *) echo "granularity_sweep.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHONPATH=perf/lib python3 - "$BUILD" "$ranks" "$reps" "$updates" "$table" "$placement" "$sizes" <<'PY'
import statistics, sys
import bench  # perf/lib/bench.py: runs an app, reads and checks its JSON result
build, ranks, reps, updates, table, placement, sizes = sys.argv[1:8]
sizes, reps = sizes.split(), int(reps)
rates = {g: [] for g in sizes}
for _ in range(reps):          # interleaved, so drift in machine load hits every size alike
    for g in sizes:
        try:
            d = bench.run_app(build, "histogram", ranks, "buddy", placement,
                              ["--updates", updates, "--table", table], {"BUDDY_GRANULARITY": g}, timeout=300)
        except bench.RunError as e:
            sys.exit(str(e))
        rates[g].append(bench.app_rate("histogram", d))
best = max(statistics.median(r) for r in rates.values())
print(f"histogram, {ranks} ranks, {placement}, {updates} updates/rank, table {table}, {reps} runs (messages/s)")
print(f"{'granularity':>11} {'median':>11} {'min':>11} {'max':>11} {'of best':>8}")
for g in sizes:
    r = rates[g]
    print(f"{g:>11} {statistics.median(r):>11.4g} {min(r):>11.4g} {max(r):>11.4g} {statistics.median(r) / best:>8.2f}")
PY
