#!/usr/bin/env bash
# The three placements side by side in one run (docs/perf.md, "Three
# placements"): histogram's rate and the rank-side async() cost under inproc,
# host and dpu, interleaved (inproc, host, dpu, inproc, ...), medians with
# min-max.  dpu runs against an emulated DPU: a buddy-router --listen on
# loopback in its own mount namespace (own /dev/shm, so nothing but
# TCP and UCX RMA reach it) and the ranks' UCX over tcp only, as on a DPU
# without RDMA hardware.  Needs root (unshare --mount).
#   BUILD_DIR=build perf/placements.sh [updates=2000000] [repeats=5]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
UPDATES=${1:-2000000}
REPEATS=${2:-5}
source perf/lib/env.sh
perf_env "$BUILD_DIR"
unshare --mount --propagation private true 2>/dev/null ||
    { echo "perf/placements.sh: the emulated DPU needs 'unshare --mount' (root)" >&2; exit 2; }

log="$PERF_SOCKET_DIR/dpu-router.log"
unshare --mount --propagation private sh -c \
    'mount -t tmpfs tmpfs /dev/shm && exec "$0" --listen tcp://127.0.0.1:0 --verbose' \
    "$BUILD_DIR/router/buddy-router" >"$log" 2>&1 &
router=$!
trap 'kill "$router" 2>/dev/null; rm -rf "$PERF_SOCKET_DIR"' EXIT
addr=
for _ in $(seq 100); do
    addr=$(grep -o 'listening on tcp://[0-9.]*:[0-9]*' "$log" | head -1 | cut -d' ' -f3) || true
    [[ -n $addr ]] && break
    kill -0 "$router" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
[[ -n $addr ]] || { echo "the dpu router did not start: $(cat "$log")" >&2; exit 1; }
printf '%s %s\n' "$(hostname)" "${addr#tcp://}" >"$PERF_SOCKET_DIR/dpu.map"
export BUDDY_DPU_MAP="$PERF_SOCKET_DIR/dpu.map"

PYTHONPATH=perf/lib python3 - "$BUILD_DIR" "$UPDATES" "$REPEATS" <<'PY'
import os, statistics, sys
import bench  # perf/lib/bench.py: runs an app or async_cost, reads and checks its result
build, updates, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
placements = ("inproc", "host", "dpu")
# The emulated DPU has no RDMA device: its rings go over UCX's tcp transport.
env_of = {"inproc": {}, "host": {}, "dpu": {"UCX_TLS": "tcp", "UCX_NET_DEVICES": "lo",
                                           "BUDDY_DPU_MAP": os.environ["BUDDY_DPU_MAP"]}}
rates = {p: [] for p in placements}
burst = {p: [] for p in placements}
for _ in range(repeats):
    for p in placements:
        try:
            d = bench.run_app(build, "histogram", 2, "buddy", p, ["--updates", updates, "--table", "65536"],
                              env=env_of[p], timeout=300)
            rates[p].append(bench.app_rate("histogram", d))
            burst[p].append(bench.run_async_cost(build, 2, p, env=env_of[p], timeout=300)["burst"])
        except bench.RunError as e:
            sys.exit(str(e))
print(f"histogram 2 ranks, {updates} updates/rank, table 65536; async_cost burst; median of {repeats}, interleaved")
print("| placement | histogram rate (msgs/s) [min-max] | vs inproc | async() burst ns/msg [min-max] |")
print("|---|---|---|---|")
base = statistics.median(rates["inproc"])
for p in placements:
    r, b = bench.summary(rates[p]), bench.summary(burst[p])
    print(f"| {p} | {r[0]:.3g} [{r[1]:.3g}-{r[2]:.3g}] | {r[0] / base:.2f} | {b[0]:.2f} [{b[1]:.2f}-{b[2]:.2f}] |")
PY
