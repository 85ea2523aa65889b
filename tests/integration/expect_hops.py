#!/usr/bin/env python3
"""Checks a route_check report: records by hops equal what the route implies.

Usage: expect_hops.py REPORT ROUTE ROUNDS

route_check sends count(s, d) = 40 + 7 s + 3 d messages from rank s to rank d
per round.  A rank's router is the rank itself without routers (inproc), else
routers are numbered in the order of their first ranks (one router per host,
as the ranks' table exchange numbers them).  mesh2d is worked out here on its
own, not with the library's code: cols = ceil(sqrt(n)), row first, column
first from a partial last row where the corner is missing.
"""
import json
import sys


def cols_of(n):
    c = 1
    while c * c < n:
        c += 1
    return c


def next_hop(route, a, b, n):
    if route == "direct":
        return b
    c = cols_of(n)
    ra, ca = divmod(a, c)
    rb, cb = divmod(b, c)
    if ra == rb or ca == cb:
        return b
    corner = ra * c + cb
    return corner if corner < n else rb * c + ca


def main():
    path, route, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    r = json.load(open(path))
    ranks = sorted(r["ranks"], key=lambda x: x["rank"])
    if r["routers"]:
        order = []
        for k in ranks:
            if k["host"] not in order:
                order.append(k["host"])
        router_of = [order.index(k["host"]) for k in ranks]
    else:
        router_of = [k["rank"] for k in ranks]
    n = max(router_of) + 1
    expected = [0, 0, 0]
    for s in range(len(ranks)):
        for d in range(len(ranks)):
            a, b, hops = router_of[s], router_of[d], 0
            while a != b:
                a = next_hop(route, a, b, n)
                hops += 1
            expected[hops] += (40 + 7 * s + 3 * d) * rounds
    got = [r["hops"][str(h)] for h in range(3)]
    if got != expected:
        print(f"records by hops {got}, expected {expected} ({route}, {n} routers)")
        return 1
    print(f"records by hops 0/1/2: {got[0]}/{got[1]}/{got[2]} as {route} implies on {n} routers")
    return 0


sys.exit(main())
