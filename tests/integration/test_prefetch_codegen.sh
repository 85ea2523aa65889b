#!/usr/bin/env bash
# A handler's prefetch step is in its run loop: the disassembly of each of
# prefetch_probe's run loops (one 8-byte argument, two, and a narrow pair)
# holds a prefetch instruction.  GCC 12 once deleted the whole step of the
# one-argument handler (the step has no effect GCC counts, and it reached it
# through calls it took for pure): index_gather with one packed word per
# request then ran without its prefetch, 20% slower, and nothing failed.
source "$(dirname "$0")/lib.sh"
PROBE="$BUILD_DIR/tests/integration/prefetch_probe"
[[ -x $PROBE ]] || fail "no $PROBE"
command -v objdump >/dev/null || fail "objdump (binutils) is missing"
listing=$(objdump -d --no-show-raw-insn "$PROBE") || fail "objdump $PROBE failed"
for fn in probe_run_one_word probe_run_two_words probe_run_narrow; do
    body=$(awk -v fn="<$fn>:" '$2 == fn { on = 1; next } on && /^$/ { exit } on' <<<"$listing")
    [[ -n $body ]] || fail "$fn not found in $PROBE"
    # The loop may call an out-of-line copy of the run (a clone GCC made); look there too.
    grep -q 'prefetcht0' <<<"$body" && { echo "ok: $fn prefetches"; continue; }
    callee=$(grep -oE 'call +[0-9a-f]+ <[^>]*lambda_handler[^>]*run[^>]*>' <<<"$body" | head -1 | sed 's/.*<\(.*\)>/\1/' || true)
    if [[ -n $callee ]]; then
        cbody=$(awk -v fn="<$callee>:" '$2 == fn { on = 1; next } on && /^$/ { exit } on' <<<"$listing")
        grep -q 'prefetcht0' <<<"$cbody" && { echo "ok: $fn prefetches (in $callee)"; continue; }
    fi
    fail "$fn: no prefetch instruction in its run loop: the handler's prefetch step was compiled away"
done
echo "PASS: prefetch_codegen"
