#!/usr/bin/env bash
# Every measurement of docs/perf.md, one after another, in the order of its
# tables: the apps matrix (x2), histogram scaling, async and barrier cost,
# granularity, host vs inproc, node rings, placements, the two sweeps, the
# waiting policy, the memory model, ring_stress and router forwarding.
# Prints each command's output under a line naming it with the time and the
# load average; the sweeps write into OUT (default: a new temporary folder).
# Takes about 6 minutes on the 2-core VM; needs root for the namespaces of
# placements.sh.  Run nothing else meanwhile.
#   perf/all.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
B=$BUILD_DIR
OUT=${1:-$(mktemp -d -t buddy-perf.XXXXXX)}
mkdir -p "$OUT"
if [[ $(id -u) == 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
for exe in apps/histogram perf/async_cost perf/barrier_cost perf/memory_model tests/ring_stress router/router_forward; do
    [[ -x $B/$exe ]] || { echo "perf/all.sh: $B/$exe is not built (./scripts/build $B)" >&2; exit 2; }
done
section() { echo; echo "=== $* ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"; }

echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), build $B, sweeps in $OUT"
section apps_matrix 1;                perf/apps_matrix.sh --reps 5
section apps_matrix 2;                perf/apps_matrix.sh --reps 5
section histogram_scaling 1;          perf/histogram_scaling.sh --reps 5
section histogram_scaling 2;          perf/histogram_scaling.sh --reps 5
section histogram_scaling 8 MiB;      perf/histogram_scaling.sh --reps 5 --table 1048576 --ranks 2
for i in 1 2 3; do
    section async_cost inproc $i;     mpirun -n 2 "$B/perf/async_cost" | grep -v '^{'
done
section async_cost 60000 burst;       mpirun -n 2 "$B/perf/async_cost" --burst 60000 --burst-reps 101 | grep burst | grep -v '^{'
section async_cost host;              mpirun -n 2 "$B/perf/async_cost" --buddy-placement host | grep -v '^{'
for i in 1 2 3; do
    section barrier_cost inproc $i;   mpirun -n 2 "$B/perf/barrier_cost" | tail -3
done
section barrier_cost host;            mpirun -n 2 "$B/perf/barrier_cost" --buddy-placement host | tail -3
section granularity_sweep;            perf/granularity_sweep.sh --reps 5
section host_vs_inproc;               perf/host_vs_inproc.sh 10000000 5
section node_rings;                   perf/node_rings.sh --reps 7
section placements;                   perf/placements.sh 2000000 5
section sweep granularity;            perf/sweep --app histogram --granularity 64,4K,32K,1M --placement inproc,host \
                                          --reps 3 --out "$OUT/granularity" -- --updates 200000 | tail -1
section sweep work;                   perf/sweep --app histogram --granularity 32K --work 0,2,8,32 --placement inproc,host \
                                          --reps 3 --out "$OUT/work" -- --updates 100000 | tail -1
section wait_policy;                  perf/wait_policy.sh 1000000 5 2
section memory_model;                 "$B/perf/memory_model"
for i in 1 2 3; do
    section ring_stress $i;           "$B/tests/ring_stress" | tail -1
done
for i in 1 2 3 4 5; do
    section router_forward $i;        "$B/router/router_forward" 4 20000000
done
section done
echo "sweep tables: $OUT/granularity/summary.md, $OUT/work/summary.md"
