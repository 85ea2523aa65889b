#!/usr/bin/env python3
"""Prints the line each fuzz test wrote (executions, coverage, corpus) from a
meson testlog.json: scripts/test shows them whether the runs passed or not."""
import json
import sys

for line in open(sys.argv[1]):
    r = json.loads(line)
    for out in r.get("stdout", "").splitlines():
        if " executions in " in out:
            print("  " + out)
