#!/usr/bin/env bash
# The waiting policy, measured both ways (docs/perf.md, "Waiting"): histogram
# under BUDDY_WAIT=spin, =yield and =auto (the default), interleaved (spin,
# yield, auto, spin, ...), per placement, on a quiet node and with LOAD
# background busy loops; medians, min-max, the ratio spin/yield, and auto
# against the better of the two (what the default leaves on the table).
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
            rates = {"spin": [], "yield": [], "auto": []}
            for _ in range(repeats):
                for w in ("spin", "yield", "auto"):
                    try:
                        d = bench.run_app(build, "histogram", 2, "buddy", placement,
                                          ["--updates", updates, "--table", "65536"],
                                          env={"BUDDY_WAIT": w}, timeout=300)
                    except bench.RunError as e:
                        sys.exit(str(e))
                    rates[w].append(bench.app_rate("histogram", d))
            s, y, a = (statistics.median(rates[w]) for w in ("spin", "yield", "auto"))
            print(f"histogram 2 ranks {placement:6} background loops {background}: "
                  f"spin {s:.3g}/s [{min(rates['spin']):.3g}-{max(rates['spin']):.3g}]  "
                  f"yield {y:.3g}/s [{min(rates['yield']):.3g}-{max(rates['yield']):.3g}]  "
                  f"auto {a:.3g}/s [{min(rates['auto']):.3g}-{max(rates['auto']):.3g}]  "
                  f"spin/yield {s / y:.2f}  auto/best {a / max(s, y):.2f}  (median of {repeats})", flush=True)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
PY
