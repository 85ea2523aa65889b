#!/usr/bin/env bash
# Node rings on against off (BUDDY_NODE_RINGS), same build, interleaved (on,
# off, on, ...): median seconds of each app's timed phase at 2 ranks, default
# sizes, and off/on (above 1: the rings are faster).  docs/perf.md.
#   perf/node_rings.sh [--reps R] [--apps "histogram index_gather"]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
reps=7 apps="histogram index_gather transpose triangles"
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --apps) apps=$2; shift 2 ;;
    *) echo "node_rings.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHONPATH=perf/lib python3 - "$BUILD" "$reps" "$apps" <<'PY'
import statistics, sys
import bench  # perf/lib/bench.py: runs an app, reads and checks its JSON result
build, reps, apps = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
sizes = {"histogram": ["--updates", "5000000", "--table", "65536"], "index_gather": ["--requests", "2000000"],
         "transpose": ["--rows-per-rank", "131072"], "triangles": ["--scale", "15"], "quicksilver": []}
print(f"node rings on/off, 2 ranks, {reps} interleaved pairs, seconds of the timed phase (median)")
for app in apps:
    got = {"1": [], "0": []}
    for _ in range(reps):
        for on in ("1", "0"):
            try:
                d = bench.run_app(build, app, 2, "buddy", "inproc", sizes.get(app, []), {"BUDDY_NODE_RINGS": on})
            except bench.RunError as e:
                sys.exit(str(e))
            got[on].append(float(d["seconds"]))
    m1, m0 = statistics.median(got["1"]), statistics.median(got["0"])
    print(f"{app:<13} on {m1:.4f} s  off {m0:.4f} s  off/on {m0 / m1:.3f}")
PY
