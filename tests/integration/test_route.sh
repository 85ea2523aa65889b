#!/usr/bin/env bash
# Route mesh2d on one host, placement inproc (each rank is its own router, so
# ranks pass records on for each other): histogram verified at 4 and 6 ranks
# with transit seen in the report; route_check's records by hops exactly as
# mesh2d implies at 5 ranks (a partial last row) and direct at 4; recursive
# messages (hops) with tiny batches and depth 1, where transit records wait for
# credit inside nested handlers; buddyrun --route.  About 10 s.
source "$(dirname "$0")/lib.sh"
OUT=$(mktemp -d "$BUILD_DIR/route-test.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
EXPECT="$SOURCE_DIR/tests/integration/expect_hops.py"
CHECK="$BUILD_DIR/tests/integration/route_check"

hops_of() { python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["hops"]; print(h["0"], h["1"], h["2"])' "$1"; }

for n in 4 6; do
    out=$(BUDDY_ROUTE=mesh2d BUDDY_REPORT="$OUT/h$n.json" run_mpi 60 "$n" -x BUDDY_ROUTE -x BUDDY_REPORT \
          "$APPS/histogram" --updates 50000 --json) || fail "histogram mesh2d n=$n: $out"
    expect_verified "$(last_line "$out")" "histogram inproc mesh2d on $n ranks"
    read -r h0 h1 h2 <<<"$(hops_of "$OUT/h$n.json")"
    (( h2 > 0 )) || fail "histogram mesh2d n=$n: no record went through a transit rank ($h0/$h1/$h2)"
    echo "ok: histogram mesh2d n=$n: records by hops 0/1/2: $h0/$h1/$h2"
done

for spec in "5 mesh2d" "4 direct" "4 mesh2d"; do
    read -r n route <<<"$spec"
    out=$(BUDDY_ROUTE=$route BUDDY_REPORT="$OUT/c.json" run_mpi 60 "$n" -x BUDDY_ROUTE -x BUDDY_REPORT "$CHECK" 3) ||
        fail "route_check $route n=$n: $out"
    expect_verified "$(last_line "$out")" "route_check inproc $route on $n ranks"
    res=$(python3 "$EXPECT" "$OUT/c.json" "$route" 3) || fail "route_check $route n=$n: $res"
    echo "ok: route_check $route n=$n: $res"
done

out=$(BUDDY_ROUTE=mesh2d BUDDY_GRANULARITY=64 BUDDY_DEPTH=1 run_mpi 90 6 -x BUDDY_ROUTE -x BUDDY_GRANULARITY \
      -x BUDDY_DEPTH "$BUILD_DIR/tests/integration/hops" 2000 20 2)
grep -q ": ok$" <<<"$out" || fail "hops mesh2d granularity=64 depth=1: $out"
echo "ok: hops mesh2d n=6 granularity=64 depth=1"

out=$(timeout --kill-after=5 60 "$BUILD_DIR/router/buddyrun" -n 4 --route mesh2d --report "$OUT/b.json" -- \
      "$CHECK" 2 2>"$OUT/b.err") || fail "buddyrun --route mesh2d: $out $(tail -n 5 "$OUT/b.err")"
expect_verified "$(last_line "$out")" "buddyrun -n 4 --route mesh2d"
res=$(python3 "$EXPECT" "$OUT/b.json" mesh2d 2) || fail "buddyrun --route mesh2d: $res"
echo "ok: buddyrun --route mesh2d: $res"
