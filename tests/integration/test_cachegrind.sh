#!/usr/bin/env bash
# perf/cachegrind: a tiny histogram under valgrind, inproc and host (router
# under valgrind too): the table and the JSON give non-zero simulated miss
# bytes for each rank and the router, labelled as simulated, with the bytes
# each rank communicated.
source "$(dirname "$0")/lib.sh"
CG="$(dirname "$0")/../../perf/cachegrind"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/install-deps installs it)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

table=$(timeout 380 "$CG" --build "$BUILD_DIR" --ranks 2 --placement inproc,host --out "$out" -- \
        --updates 2000 --table 1000 2>&1) || fail "perf/cachegrind exited non-zero: $table"
echo "$table"
grep -q "^SIMULATED last-level cache miss traffic" <<<"$table" || fail "table is not labelled as simulated"
for placement in inproc host; do
  for rank in 0 1; do
    row=$(grep -E "^$placement +rank $rank " <<<"$table") || fail "no table row for $placement rank $rank"
    [[ $(awk '{print $6}' <<<"$row") -gt 0 ]] || fail "zero simulated miss bytes: $row"
  done
done
grep -qE "^host +router +[0-9]+ +[0-9]+ +[1-9][0-9]* " <<<"$table" || fail "no router row with miss bytes"
/usr/bin/python3 - "$out/cachegrind.json" <<'PY' || fail "cachegrind.json content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["simulated"] is True and r["LL"] == {"size": 33554432, "assoc": 16, "line": 64}, r["LL"]
for placement in ("inproc", "host"):
    p = r["placements"][placement]
    ranks = [x for x in p["processes"] if x["rank"] is not None]
    assert [x["rank"] for x in ranks] == [0, 1], ranks
    for x in ranks:
        assert x["simulated_ll_miss_bytes"] == 64 * x["ll_misses"] > 0, x
        assert x["bytes_communicated"] > 0, x  # the rank's bytes_sent counter
        assert x["ratio"] > 0, x
    assert p["app_result"]["verified"] is True
assert any(x["process"] == "router" and x["ll_misses"] > 0 for x in r["placements"]["host"]["processes"])
PY
echo "ok: perf/cachegrind simulated miss bytes per rank and router, inproc and host"
