#!/usr/bin/env bash
# BUDDY_CHECKSUM off vs on, same build, interleaved: medians of the histogram's rate.
# Usage: perf/checksum_cost.sh PLACEMENT RANKS PAIRS UPDATES   (BUILD: build dir, default build)
cd "$(dirname "$0")/.."
placement=$1 n=$2 reps=$3 updates=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
off=() on=()
for r in $(seq 1 "$reps"); do
  for k in 0 1; do
    line=$(BUDDY_PLACEMENT=$placement BUDDY_CHECKSUM=$k timeout 120 mpirun -n "$n" --oversubscribe --bind-to none "${BUILD:-build}/apps/histogram" --updates "$updates" --json 2>/dev/null | tail -1)
    rate=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["verified"]; print(d["rate"])' "$line")
    if [[ $k == 0 ]]; then off+=("$rate"); else on+=("$rate"); fi
  done
done
python3 - "${off[*]}" "${on[*]}" <<'PY'
import sys, statistics as s
off=[float(x) for x in sys.argv[1].split()]; on=[float(x) for x in sys.argv[2].split()]
mo, mn = s.median(off), s.median(on)
print(f"checksum off: median {mo:.4g} msg/s (min {min(off):.4g}, max {max(off):.4g}); on: median {mn:.4g} (min {min(on):.4g}, max {max(on):.4g}); on/off = {mn/mo:.3f}")
PY
