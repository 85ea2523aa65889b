#!/usr/bin/env bash
# histogram at 1 and 2 ranks, placement host vs inproc in the same run:
# median rate of REPEATS runs each, and the ratio host/inproc.
#   BUILD_DIR=build perf/host_vs_inproc.sh [updates=2000000] [repeats=5]
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
UPDATES=${1:-2000000}
REPEATS=${2:-5}
EXE="$BUILD_DIR/apps/histogram"
export BUDDY_ROUTER_BIN="$BUILD_DIR/router/buddy-router"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_mpi_yield_when_idle=1
SOCKDIR=$(mktemp -d /tmp/buddy-perf.XXXXXX)
chmod 700 "$SOCKDIR"
trap 'rm -rf "$SOCKDIR"' EXIT
export BUDDY_ROUTER_SOCKET="$SOCKDIR/router-{i}.sock"

median_rate() {  # placement ranks
    local rates=() i line
    for i in $(seq 1 "$REPEATS"); do
        line=$(BUDDY_PLACEMENT=$1 timeout 120 mpirun -n "$2" --oversubscribe --bind-to none "$EXE" \
               --updates "$UPDATES" --table 65536 --json | tail -n 1)
        python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["verified"], d; print(d["rate"])' "$line" >/dev/null
        rates+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rate"])' "$line")")
    done
    printf '%s\n' "${rates[@]}" | sort -g | sed -n "$(( (REPEATS + 1) / 2 ))p"
}

for n in 1 2; do
    inproc=$(median_rate inproc "$n")
    host=$(median_rate host "$n")
    python3 -c "import sys; i,h=float(sys.argv[2]),float(sys.argv[3]); print(f'histogram ranks={sys.argv[1]} updates/rank=$UPDATES: inproc {i:.3g}/s  host {h:.3g}/s  host/inproc {h/i:.2f}  (median of $REPEATS)')" "$n" "$inproc" "$host"
done
