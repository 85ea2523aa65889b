#!/usr/bin/env bash
# histogram at 1 and 2 ranks, placement host vs inproc in the same run:
# median rate of REPEATS runs each, and the ratio host/inproc.
#   BUILD_DIR=build perf/host_vs_inproc.sh [updates=2000000] [repeats=5]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
UPDATES=${1:-2000000}
REPEATS=${2:-5}
source perf/lib/env.sh
perf_env "$BUILD_DIR"

PYTHONPATH=perf/lib python3 - "$BUILD_DIR" "$UPDATES" "$REPEATS" <<'PY'
import statistics, sys
import bench  # perf/lib/bench.py: runs an app, reads and checks its JSON result
build, updates, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
def median_rate(placement, ranks):
    rates = []
    for _ in range(repeats):
        try:
            d = bench.run_app(build, "histogram", ranks, "buddy", placement,
                              ["--updates", updates, "--table", "65536"], timeout=120)
        except bench.RunError as e:
            sys.exit(str(e))
        rates.append(bench.app_rate("histogram", d))
    return statistics.median(rates)
for n in (1, 2):
    i, h = median_rate("inproc", n), median_rate("host", n)
    print(f"histogram ranks={n} updates/rank={updates}: inproc {i:.3g}/s  host {h:.3g}/s  "
          f"host/inproc {h / i:.2f}  (median of {repeats})")
PY
