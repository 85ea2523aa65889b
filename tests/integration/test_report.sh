#!/usr/bin/env bash
# The job report (docs/report.md) from real apps under inproc and host:
#  - validated against docs/report.schema.json (python3-jsonschema);
#  - counters consistent per job: messages sent by all ranks == messages
#    handled == (host) records the routers wrote into the ranks' inbound rings;
#  - time: application = wall - handlers - barrier - stalls, per rank;
#  - hardware counters: values, or "available": false with a non-empty reason
#    (these VMs expose no PMU: the reason must name what was tried);
#  - rank 0 prints the human table (stderr) with the advice line.
# About 10 s.
source "$(dirname "$0")/lib.sh"
SCHEMA="${SOURCE_DIR:?}/docs/report.schema.json"
[[ -f $SCHEMA ]] || fail "no $SCHEMA"

# A python3 with jsonschema: Debian's (/usr/bin/python3, python3-jsonschema), or the first in PATH.
PY=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[[ -n $PY ]] || fail "no python3 with jsonschema (Debian: python3-jsonschema; scripts/install-deps installs it)"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

check() {  # NAME PLACEMENT APP ARGS...: runs APP with a report, then checks it
    local name=$1 placement=$2
    shift 2
    local report="$dir/$name.json" err="$dir/$name.err" out
    out=$(BUDDY_PLACEMENT=$placement BUDDY_REPORT=$report \
          run_mpi 60 2 -x BUDDY_PLACEMENT -x BUDDY_REPORT "$@" --json 2>"$err") \
        || fail "$name: exit status non-zero: $(tail -5 "$err")"
    expect_verified "$(last_line "$out")" "$name"
    "$PY" - "$SCHEMA" "$report" "$placement" <<'PY' || fail "$name: report check"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
placement = sys.argv[3]
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(r)
assert r["placement"] == placement, r["placement"]
t = r["total"]
sent = sum(k["counters"]["messages_sent"] for k in r["ranks"])
handled = sum(k["counters"]["messages_handled"] for k in r["ranks"])
assert sent == t["messages_sent"] == handled == t["messages_handled"] > 0, (sent, handled, t)
if placement == "host":
    rt = r["routers_total"]
    assert rt["records_local"] == handled, ("routers wrote", rt["records_local"], "ranks handled", handled)
    assert rt["bad_batches"] == 0 and rt["bad_records"] == 0, rt
    for th in r["routers"]:
        c = th["counters"]
        assert c["passes"] >= c["passes_idle"] > 0 and c["time_ns"] >= c["time_idle_ns"], c
        assert c["in_flight_max"] <= r["depth"], (c, r["depth"])
else:
    assert r["routers"] == [], r["routers"]
    # Every batch went over some link, and the links add up to the batches sent.
    for k in r["ranks"]:
        assert sum(l["batches"] for l in k["links"]) == k["counters"]["batches_sent"], k
        assert sum(l["bytes"] for l in k["links"]) == k["counters"]["batch_bytes_sent"], k
        assert 1 <= k["counters"]["in_flight_max"] <= r["depth"], k["counters"]
for k in r["ranks"]:
    c = k["counters"]
    rest = c["time_handlers_ns"] + c["time_barrier_ns"] + c["time_stall_ns"]
    assert c["time_wall_ns"] > 0 and c["time_handlers_ns"] > 0, c
    assert c["time_application_ns"] == max(0, c["time_wall_ns"] - rest), c
    hw = k["hw_counters"]
    if hw["available"]:
        assert hw["values"], hw
    else:
        assert len(hw["reason"]) > 20 and hw["not_opened"], hw
        assert all(f["tried"] and f["error"] for f in hw["not_opened"]), hw
# Router threads: their own hardware counters while the job ran, or why not.
for t in r["routers"]:
    hw = t["hw_counters"]
    if hw["available"]:
        assert hw["values"], hw
    else:
        assert len(hw["reason"]) > 20, hw
assert {s["name"] for s in r["settings"]} >= {"placement", "granularity", "depth"}, r["settings"]
assert r["memory_ratio"]["kind"] in ("time_per_message", "llc_miss_bytes_per_byte", "dram_bytes_per_byte")
if not any(k["hw_counters"]["available"] for k in r["ranks"]):
    assert r["memory_ratio"]["kind"] == "time_per_message" and not r["memory_ratio"]["measured"], r["memory_ratio"]
print("  %s: %d sent == %d handled; ratio %.4g %s; advice %s" % (
    placement, sent, handled, r["memory_ratio"]["value"], r["memory_ratio"]["unit"], r["advice"]["offload"]))
PY
    grep -q "^per rank" "$err" || fail "$name: rank 0 printed no table: $(head -5 "$err")"
    grep -q "^settings in force" "$err" || fail "$name: the table has no settings"
    grep -q "^advice: " "$err" || fail "$name: the table has no advice line"
    grep -qE "^  rank 0: (unavailable: .+|llc miss bytes)" "$err" || fail "$name: the table has no hardware-counter line"
    [[ $placement != host ]] || grep -q "^per router thread" "$err" || fail "$name: no router section"
    [[ $placement != host ]] || grep -qE "^  router 0/0: (unavailable: .+|counted)" "$err" ||
        fail "$name: the table has no hardware-counter line for router 0/0"
    echo "ok: $name report: schema, consistency, time, hardware counters, table"
}

check histogram-inproc inproc "$APPS/histogram" --updates 20000
check histogram-host host "$APPS/histogram" --updates 20000
# Handlers that send (requests and replies): handled counts both.
check index_gather-inproc inproc "$APPS/index_gather" --requests 5000
check index_gather-host host "$APPS/index_gather" --requests 5000

# Here (no PMU) the reason is in the report, saying what was tried.
if ! "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["ranks"][0]["hw_counters"]["available"] else 1)' \
        "$dir/histogram-inproc.json"; then
    grep -q "perf_event_open\|libpfm4\|PMU" <<<"$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ranks"][0]["hw_counters"]["reason"])' "$dir/histogram-inproc.json")" \
        || fail "the unavailable reason names neither libpfm4, perf_event_open nor a PMU"
    echo "ok: hardware counters unavailable here, and the report says why"
fi
if ! "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["routers"][0]["hw_counters"]["available"] else 1)' \
        "$dir/histogram-host.json"; then
    grep -q "perf_event_open\|libpfm4\|PMU" <<<"$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["routers"][0]["hw_counters"]["reason"])' "$dir/histogram-host.json")" \
        || fail "the router's unavailable reason names neither libpfm4, perf_event_open nor a PMU"
    echo "ok: router threads' hardware counters unavailable here, and the report says why"
fi
