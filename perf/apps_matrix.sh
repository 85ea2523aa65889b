#!/usr/bin/env bash
# All five workloads x {mpi, inproc, host} at 2 ranks (default), REPS runs each
# (default 5), in one invocation, the three configurations interleaved run by
# run (mpi, inproc, host, mpi, ...) so that a drift of the machine's speed
# meets all three alike.  Prints the median time of the timed phase with min
# and max, the median rate (each app's own `rate`, or segments/s for
# quicksilver's figure of merit `fom`), and speedups (above 1: faster): inproc
# and host over mpi and host over inproc from the median times, and "paired",
# the median over runs of each run's mpi time over the inproc run beside it
# (what is left of the ratio when the machine's speed changes between runs).
# Rates are not compared across modes: an app may send one message per row
# segment in buddy mode where its MPI baseline counts nonzeros.
#   perf/apps_matrix.sh [--reps R] [--ranks N] [--apps "histogram transpose"] [--size small|default]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
reps=5 ranks=2 apps="histogram index_gather transpose triangles quicksilver" size=default
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --apps) apps=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    *) echo "apps_matrix.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHONPATH=perf/lib python3 - "$BUILD" "$reps" "$ranks" "$apps" "$size" <<'PY'
import statistics, sys
import bench  # perf/lib/bench.py: runs an app, reads and checks its JSON result
build, reps, ranks, apps, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(), sys.argv[5]
# Problem sizes: "default" takes a few seconds per run at 2 ranks on 2 cores.
args = {
    "default": {
        "histogram": ["--updates", "5000000", "--table", "65536"],
        "index_gather": ["--requests", "2000000"],
        "transpose": ["--rows-per-rank", "131072"],
        "triangles": ["--scale", "15"],
        "quicksilver": [],
    },
    "small": {
        "histogram": ["--updates", "500000", "--table", "65536"],
        "index_gather": ["--requests", "200000", "--table", "65536"],
        "transpose": ["--rows-per-rank", "16384"],
        "triangles": ["--scale", "12"],
        "quicksilver": ["--particles", "20000", "--cycles", "2"],
    },
}[size]
configs = [("mpi", "inproc"), ("buddy", "inproc"), ("buddy", "host")]
rows = {}
for app in apps:
    for mode, placement in configs:
        rows[(app, mode, placement)] = ([], [])
    for _ in range(reps):
        for mode, placement in configs:
            try:
                d = bench.run_app(build, app, ranks, mode, placement, args[app])
            except bench.RunError as e:
                sys.exit(str(e))
            times, rates = rows[(app, mode, placement)]
            rates.append(bench.app_rate(app, d))
            times.append(float(d["seconds"]))
name = lambda m, p: "mpi" if m == "mpi" else p
print(f"apps at {ranks} ranks, {reps} runs each, configurations interleaved; seconds of the timed phase; "
      f"rate = messages/s (quicksilver: segments/s)")
print(f"{'app':<13} {'config':<7} {'median s':>9} {'min s':>9} {'max s':>9} {'rate':>10} {'vs mpi':>7} "
      f"{'paired':>7} {'host vs inproc':>15}")
for app in apps:
    mpi_times = rows[(app, "mpi", "inproc")][0]
    t_mpi = statistics.median(mpi_times)
    t_inproc = statistics.median(rows[(app, "buddy", "inproc")][0])
    for mode, placement in configs:
        times, rates = rows[(app, mode, placement)]
        t = statistics.median(times)
        vs_mpi = f"{t_mpi / t:.2f}" if mode == "buddy" else ""
        paired = f"{statistics.median(m / b for m, b in zip(mpi_times, times)):.2f}" if mode == "buddy" else ""
        vs_inproc = f"{t_inproc / t:.2f}" if placement == "host" else ""
        print(f"{app:<13} {name(mode, placement):<7} {t:>9.4f} {min(times):>9.4f} {max(times):>9.4f} "
              f"{statistics.median(rates):>10.3g} {vs_mpi:>7} {paired:>7} {vs_inproc:>15}")
PY
