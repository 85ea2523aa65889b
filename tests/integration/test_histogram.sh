#!/usr/bin/env bash
# histogram verified at 1-4 ranks and several granularities, one so small that
# nearly every message is its own batch; the MPI baseline; and --corrupt must
# make verification fail.
source "$(dirname "$0")/lib.sh"
H="$APPS/histogram"
PLACEMENTS=${BUDDY_TEST_PLACEMENTS:-inproc}

for placement in $PLACEMENTS; do
  for n in 1 2 3 4; do
    for g in 64 4K 1M; do
      out=$(BUDDY_PLACEMENT=$placement BUDDY_GRANULARITY=$g run_mpi 60 "$n" -x BUDDY_PLACEMENT -x BUDDY_GRANULARITY \
            "$H" --updates 20000 --table 1000 --json)
      line=$(tail -n 1 <<<"$out")
      json_parse "$line"
      expect_verified "$line" "histogram $placement n=$n granularity=$g"
      [[ $(json_field "$line" messages) == $((20000 * n)) ]] || fail "messages field: $line"
      [[ $(json_field "$line" placement) == "$placement" ]] || fail "placement field: $line"
      [[ $(json_field "$line" ranks) == "$n" ]] || fail "ranks field: $line"
    done
  done
done

# Depth 1 (no pipelining) with tiny batches: the most backpressure.
line=$(BUDDY_DEPTH=1 BUDDY_GRANULARITY=128 run_mpi 60 4 -x BUDDY_DEPTH -x BUDDY_GRANULARITY \
       "$H" --updates 20000 --table 64 --json | tail -n 1)
expect_verified "$line" "histogram depth=1 granularity=128 n=4"

# The counter report: one entry per rank, totals that match the messages sent
# (two passes: add, then subtract), and the human table with --stats.
report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT
out=$(BUDDY_REPORT=$report run_mpi 60 3 -x BUDDY_REPORT "$H" --updates 10000 --stats --json)
expect_verified "$(tail -n 1 <<<"$out")" "histogram with BUDDY_REPORT"
python3 - "$report" <<'PY' || fail "report content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["placement"] == "inproc", r["placement"]
assert [x["rank"] for x in r["ranks"]] == [0, 1, 2], r["ranks"]
t = r["total"]
assert t["messages_sent"] == 2 * 3 * 10000, t
assert t["messages_handled"] == t["messages_sent"], t
assert t["batches_sent"] >= 1 and t["barriers"] >= 6, t
assert r["schema"] == 4 and r["routers"] == [], r
PY
grep -q "^total " <<<"$out" || fail "--stats printed no counter table: $out"
echo "ok: counter report (JSON file and table)"

# Under host placement the report covers the routers: the records they wrote
# into the ranks' inbound rings are the messages the ranks handled, and
# messages sent == handled.  Two routers per node also route between routers.
for rpn in 1 2; do
  out=$(BUDDY_PLACEMENT=host BUDDY_ROUTERS_PER_NODE=$rpn BUDDY_ROUTER_THREADS=2 BUDDY_REPORT=$report \
        run_mpi 60 3 -x BUDDY_PLACEMENT -x BUDDY_ROUTERS_PER_NODE -x BUDDY_ROUTER_THREADS -x BUDDY_REPORT \
        "$H" --updates 10000 --stats --json)
  expect_verified "$(tail -n 1 <<<"$out")" "histogram host, $rpn routers, with BUDDY_REPORT"
  python3 - "$report" "$rpn" <<'PY' || fail "host report content ($rpn routers per node)"
import json, sys
r = json.load(open(sys.argv[1]))
routers = int(sys.argv[2])
assert r["schema"] == 4 and r["placement"] == "host", r
t, rt = r["total"], r["routers_total"]
assert t["messages_sent"] == 2 * 3 * 10000, t
assert t["messages_handled"] == t["messages_sent"], t
assert sorted((x["router"], x["thread"]) for x in r["routers"]) == [(i, k) for i in range(routers) for k in range(2)], r["routers"]
assert rt["records_local"] == t["messages_handled"], (rt, t)
assert rt["bad_batches"] == 0 and rt["bad_records"] == 0, rt
if routers > 1:
    assert rt["records_remote"] > 0 and rt["batches_sent"] == rt["batches_received"], rt
    assert 0 < r["routers_batch_fill"] <= 2.0, r
PY
  grep -q "^per router thread" <<<"$out" || fail "--stats printed no router table: $out"
  echo "ok: host report with $rpn routers per node: routers' records into ranks == messages handled"
done

# Flags on the command line instead of the environment.
line=$(run_mpi 60 2 "$H" --buddy-granularity=2K --buddy-depth=2 --updates 10000 --json | tail -n 1)
expect_verified "$line" "histogram with --buddy-* flags"
[[ $(json_field "$line" granularity) == 2048 ]] || fail "--buddy-granularity not applied: $line"

for n in 1 2 3; do
  line=$(run_mpi 60 "$n" "$H" --mode mpi --updates 20000 --chunk 3000 --json | tail -n 1)
  expect_verified "$line" "histogram mpi baseline n=$n"
  [[ $(json_field "$line" placement) == none ]] || fail "mpi mode placement: $line"
done

# --work changes the local work, not the answer.
line=$(run_mpi 60 2 "$H" --updates 5000 --work 4 --work-bytes 1048576 --json | tail -n 1)
expect_verified "$line" "histogram --work 4"

# The prefetching handler (--prefetch): auto takes it for a table larger than
# L2 (8 MiB per rank is, on any core this runs on) and not for a small one;
# forced either way, the answer is the same.
for args in "--table 1048576:true" "--table 1000:false" "--table 1000 --prefetch on:true" \
            "--table 1048576 --prefetch off:false"; do
  line=$(run_mpi 60 2 "$H" --updates 20000 ${args%%:*} --json | tail -n 1)
  expect_verified "$line" "histogram ${args%%:*}"
  [[ $(json_field "$line" prefetch) == "${args##*:}" ]] || fail "histogram ${args%%:*}: prefetch is not ${args##*:}: $line"
done
expect_refused_saying "--prefetch sometimes" "prefetch" run_mpi 30 1 "$H" --updates 10 --prefetch sometimes
echo "ok: --prefetch auto, on and off give the same answer"

# The check must bite: one corrupted counter fails verification and the exit status.
expect_corrupt_fails "histogram at 2 ranks" run_mpi 60 2 "$H" --updates 5000 --json --corrupt

# Bad input is refused clearly.
BUDDY_GRANULARITY=abc expect_refused_saying "BUDDY_GRANULARITY=abc" "invalid BUDDY_GRANULARITY 'abc'" \
  run_mpi 30 1 -x BUDDY_GRANULARITY "$H" --updates 10
BUDDY_GRANULARITY=0 expect_refused_saying "BUDDY_GRANULARITY=0" "out of range: accepted 64 to 64M" \
  run_mpi 30 1 -x BUDDY_GRANULARITY "$H" --updates 10
echo "ok: bad knob values refused with their range"
