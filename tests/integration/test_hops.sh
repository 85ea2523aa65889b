#!/usr/bin/env bash
# barrier() waits for messages sent by handlers, to any depth.
source "$(dirname "$0")/lib.sh"
T="$BUILD_DIR/tests/integration/hops"
for placement in ${BUDDY_TEST_PLACEMENTS:-inproc}; do
  for n in 1 2 3 4; do
    out=$(BUDDY_PLACEMENT=$placement run_mpi 90 "$n" -x BUDDY_PLACEMENT "$T" 3000 10 3)
    grep -q ": ok$" <<<"$out" || fail "hops n=$n: $out"
    echo "ok: hops $placement n=$n ($(tail -n 1 <<<"$out"))"
  done
  # Tiny batches and no pipelining: handlers run inside waits, nested.
  out=$(BUDDY_PLACEMENT=$placement BUDDY_GRANULARITY=64 BUDDY_DEPTH=1 run_mpi 90 3 \
        -x BUDDY_PLACEMENT -x BUDDY_GRANULARITY -x BUDDY_DEPTH "$T" 2000 20 2)
  grep -q ": ok$" <<<"$out" || fail "hops granularity=64 depth=1: $out"
  echo "ok: hops $placement granularity=64 depth=1"
done
