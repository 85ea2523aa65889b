#!/usr/bin/env bash
# The waiting policy, measured both ways (docs/perf.md, "Waiting"): histogram
# under BUDDY_WAIT=spin and =yield, interleaved (spin, yield, spin, ...), per
# placement, on a quiet node and with LOAD background busy loops; medians,
# min-max and the ratio spin/yield.
#   BUILD_DIR=build perf/wait_policy.sh [updates=2000000] [repeats=5] [load=2]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
UPDATES=${1:-2000000}
REPEATS=${2:-5}
LOAD=${3:-2}
source perf/lib/env.sh
perf_env "$BUILD_DIR"

PYTHONPATH=perf/lib python3 - "$BUILD_DIR" "$UPDATES" "$REPEATS" "$LOAD" <<'PY'
import statistics, subprocess, sys
import bench  # perf/lib/bench.py: runs an app, reads and checks its JSON result
build, updates, repeats, load = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for background in (0, load):
    hogs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(background)]
    try:
        for placement in ("inproc", "host"):
            rates = {"spin": [], "yield": []}
            for _ in range(repeats):
                for w in ("spin", "yield"):
                    try:
                        d = bench.run_app(build, "histogram", 2, "buddy", placement,
                                          ["--updates", updates, "--table", "65536"],
                                          env={"BUDDY_WAIT": w}, timeout=300)
                    except bench.RunError as e:
                        sys.exit(str(e))
                    rates[w].append(bench.app_rate("histogram", d))
            s, y = statistics.median(rates["spin"]), statistics.median(rates["yield"])
            print(f"histogram 2 ranks {placement:6} background loops {background}: "
                  f"spin {s:.3g}/s [{min(rates['spin']):.3g}-{max(rates['spin']):.3g}]  "
                  f"yield {y:.3g}/s [{min(rates['yield']):.3g}-{max(rates['yield']):.3g}]  "
                  f"spin/yield {s / y:.2f}  (median of {repeats})", flush=True)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
PY
