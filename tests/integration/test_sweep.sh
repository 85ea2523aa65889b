#!/usr/bin/env bash
# perf/sweep: a 2-point sweep writes a CSV with the expected columns (a row per
# run and a median per point), a PNG that is a real image and a summary; a
# sweep stopped by SIGTERM keeps the rows it measured.
source "$(dirname "$0")/lib.sh"
SWEEP="$(dirname "$0")/../../perf/sweep"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

timeout 300 "$SWEEP" --app histogram --granularity 4K,64K --placement inproc --reps 1 --ranks 2 \
    --build "$BUILD_DIR" --out "$out/two" -- --updates 5000 --table 1000 2>/dev/null \
    || fail "2-point sweep exited non-zero"
/usr/bin/python3 - "$out/two" <<'PY' || fail "sweep output"
import csv, sys
from PIL import Image
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/sweep.csv")))
expected = {"kind", "run", "rep", "app", "placement", "granularity", "granularity_bytes", "depth",
            "router_threads", "work", "ranks", "rate", "seconds", "batch_fill", "verified", "status", "error"}
assert expected <= set(rows[0].keys()), sorted(set(rows[0].keys()))
runs = [r for r in rows if r["kind"] == "run"]
medians = [r for r in rows if r["kind"] == "median"]
assert len(runs) == 2 and len(medians) == 2, (len(runs), len(medians))
assert sorted(r["granularity_bytes"] for r in runs) == ["4096", "65536"], runs
assert all(r["status"] == "ok" and r["verified"] == "True" and float(r["rate"]) > 0 for r in runs), runs
png = f"{d}/rate_vs_granularity.png"
assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "no PNG signature"
with Image.open(png) as im:
    im.verify()
with Image.open(png) as im:
    assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100, (im.format, im.size)
summary = open(f"{d}/summary.md").read()
assert "Best point" in summary and "interleaved" in summary, summary
PY
echo "ok: 2-point sweep: CSV rows and medians, a readable PNG, summary.md"

# A run that is not verified is an error: recorded, shown, not in a median.
rc=0
timeout 120 "$SWEEP" --app histogram --granularity 4K --placement inproc --reps 1 --ranks 2 \
    --build "$BUILD_DIR" --out "$out/bad" -- --updates 2000 --corrupt 2>/dev/null || rc=$?
(( rc == 1 )) || fail "sweep with an unverified run: exit $rc, expected 1"
grep -qE '^run,.*,error,"?not verified' "$out/bad/sweep.csv" || fail "unverified run not recorded as an error"
grep -q "^## Errors (1 runs)" "$out/bad/summary.md" || fail "summary does not show the error"
echo "ok: an unverified run is an error, recorded and shown"

# A long sweep, stopped with SIGTERM once it has written rows: it must keep them.
timeout 600 "$SWEEP" --app histogram --granularity 4K,64K --placement inproc --reps 50 --ranks 2 \
    --build "$BUILD_DIR" --out "$out/stopped" -- --updates 5000 --table 1000 2>/dev/null &
pid=$!
rows_before=0
for _ in $(seq 1200); do   # wait for the first written rows (bounded: 1200 x 0.25 s)
  if [[ -f $out/stopped/sweep.csv ]]; then
    rows_before=$(grep -c '^run,' "$out/stopped/sweep.csv" || true)
    (( rows_before >= 2 )) && break
  fi
  sleep 0.25
done
(( rows_before >= 2 )) || fail "the long sweep wrote no rows"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 143 ]] || fail "interrupted sweep exit status $rc, expected 143 (128 + SIGTERM)"
rows_after=$(grep -c '^run,' "$out/stopped/sweep.csv")
(( rows_after >= rows_before && rows_after < 100 )) || fail "rows: $rows_before before SIGTERM, $rows_after after"
grep -q '^median,' "$out/stopped/sweep.csv" || fail "interrupted sweep wrote no medians"
grep -q "Interrupted" "$out/stopped/summary.md" || fail "summary does not say it was interrupted"
[[ -f $out/stopped/rate_vs_granularity.png ]] || fail "interrupted sweep wrote no plot"
echo "ok: sweep stopped by SIGTERM kept its $rows_after runs"
