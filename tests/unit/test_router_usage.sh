#!/usr/bin/env bash
# buddy-router --help prints its usage and exits 0.  In a cross build (the
# aarch64 router under qemu) meson puts the cross file's exe_wrapper in
# MESON_EXE_WRAPPER; natively it is unset and the router runs directly.
# Usage: test_router_usage.sh BUDDY_ROUTER
set -u
router=${1:?usage: test_router_usage.sh BUDDY_ROUTER}
# Word-split on purpose: the wrapper is a command with arguments ("qemu-aarch64-static -L /").
# shellcheck disable=SC2086
out=$(timeout 60 ${MESON_EXE_WRAPPER:-} "$router" --help 2>&1)
rc=$?
if [[ $rc -ne 0 ]]; then
    echo "FAIL: buddy-router --help exited $rc: $out"
    exit 1
fi
for want in "Usage:" "--socket" "--threads" "--router-cores"; do
    if [[ $out != *"$want"* ]]; then
        echo "FAIL: buddy-router --help does not mention '$want':"
        echo "$out"
        exit 1
    fi
done
echo "ok: buddy-router --help prints usage and exits 0${MESON_EXE_WRAPPER:+ (under $MESON_EXE_WRAPPER)}"
