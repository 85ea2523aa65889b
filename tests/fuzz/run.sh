#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time and prints what it did.
# Usage: run.sh FUZZER SEED_DIR WORK_DIR SECONDS [libFuzzer flags...]
#
# SEED_DIR (in the repository) is only read; inputs the fuzzer finds go to
# WORK_DIR/corpus, which later runs start from too, and a crashing input to
# WORK_DIR/crashes/ (its path is printed: reproduce with `FUZZER FILE`).
set -uo pipefail
exe=$1 seeds=$2 work=$3 seconds=$4
shift 4
name=$(basename "$exe")
mkdir -p "$work/corpus" "$work/crashes"
log=$work/last.log
# -timeout: one input taking this long is a failure (a parser must not hang);
# -rss_limit_mb / -malloc_limit_mb: one input must not make a parser allocate
# without bound (the parsers check counts against the bytes present).
"$exe" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/" "$@" "$work/corpus" "$seeds" >"$log" 2>&1
rc=$?
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
corpus=$(ls "$work/corpus" | wc -l)
seeds_n=$(ls "$seeds" | wc -l)
echo "$name: ${execs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, $seeds_n seeds, $corpus inputs found so far (exit $rc)"
if [[ $rc -ne 0 ]]; then
    tail -60 "$log"
    ls "$work/crashes"/* 2>/dev/null | sed 's/^/crashing input: /'
fi
# libFuzzer exits 77 after a crash or a violated contract by default, which
# meson reads as "skipped": any failure of the fuzzer is a failure here.
(( rc == 0 )) || exit 1
