#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Run from anywhere: python3 tests/fuzz/make_seeds.py.  The files are checked
in; rerun this after a format change and commit what changes.  Layouts follow
lib/wire/buddy/wire/batch.hpp, include/buddy/detail/record.hpp,
lib/control/buddy/control/messages.hpp and bodies.hpp; the input layout of
each target is described at the top of its .cpp.
"""
import os
import re
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- wire
BATCH_MAGIC = 0x31594442
JOB = 7


def limits(mode=0, ranks=4, handlers=8, only_dest=0xFF, max_payload=0xFFFFFF):
    return struct.pack("<BHBB", mode, ranks, handlers, only_dest) + struct.pack("<I", max_payload)[:3]


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def record(dest, handler, payload, long_form=None):
    if long_form is None:
        long_form = len(payload) >= 0xFFFF
    if long_form:
        return pad8(struct.pack("<IHHII", dest, handler, 0xFFFF, len(payload), 0) + payload)
    return pad8(struct.pack("<IHH", dest, handler, len(payload)) + payload)


def batch(records, job=JOB, source=1, count=None, nbytes=None, magic=BATCH_MAGIC, version=1, flags=0):
    body = b"".join(records)
    count = len(records) if count is None else count
    nbytes = len(body) if nbytes is None else nbytes
    return struct.pack("<IHHQIIQ", magic, version, flags, job, source, count, nbytes) + body


def wire_seeds():
    small = [record(0, 1, b"hello"), record(3, 2, b""), record(1, 7, bytes(range(24)))]
    write("fuzz_wire", "batch_ok", limits() + batch(small))
    write("fuzz_wire", "batch_empty", limits() + batch([]))
    write("fuzz_wire", "batch_job_from_header", limits(mode=1) + batch(small, job=0x1234567890))
    write("fuzz_wire", "batch_long_record", limits() + batch([record(2, 0, b"x" * 0xFFFF), record(0, 0, b"y")]))
    write("fuzz_wire", "records_only_dest", limits(only_dest=1) + b"".join([record(1, 0, b"a"), record(1, 1, b"bc")]))
    # One of each error kind (parse_errc).
    write("fuzz_wire", "err_truncated_header", limits() + batch(small)[:20])
    write("fuzz_wire", "err_bad_magic", limits() + batch(small, magic=0x12345678))
    write("fuzz_wire", "err_bad_version", limits() + batch(small, version=2))
    write("fuzz_wire", "err_bad_flags", limits() + batch(small, flags=1))
    write("fuzz_wire", "err_foreign_job", limits() + batch(small, job=8))
    write("fuzz_wire", "err_length_mismatch", limits() + batch(small, nbytes=8))
    write("fuzz_wire", "err_truncated_record", limits() + batch([record(0, 0, b"abcdefgh")])[:-8])
    write("fuzz_wire", "err_oversized_record", limits(max_payload=16) + batch([record(0, 0, b"z" * 40)]))
    write("fuzz_wire", "err_bad_padding_reserved",
          limits() + batch([struct.pack("<IHHII", 0, 0, 0xFFFF, 0x10000, 1)]))
    write("fuzz_wire", "err_bad_padding_short_in_long",
          limits() + batch([record(0, 0, b"short", long_form=True)]))
    write("fuzz_wire", "err_bad_destination", limits(ranks=2) + batch([record(5, 0, b"q")]))
    write("fuzz_wire", "err_wrong_only_dest", limits(only_dest=0) + batch([record(1, 0, b"q")]))
    write("fuzz_wire", "err_unknown_handler", limits(handlers=2) + batch([record(0, 9, b"q")]))
    write("fuzz_wire", "err_count_mismatch", limits() + batch(small, count=5))


# ------------------------------------------------------------- control
CTL_MAGIC = 0x4C544442
CTL_VERSION = 7
# Counters per router thread in a stats reply: the X(...) lines of
# BUDDY_ROUTER_COUNTERS in the public header, counted, so the seed follows it.
with open(os.path.join(HERE, "..", "..", "include", "buddy", "stats.hpp")) as header:
    _text = header.read()
ROUTER_FIELDS = re.search(r"#define BUDDY_ROUTER_COUNTERS\(X\)(.*?)\n\n", _text, re.S).group(1).count("    X(")
SECRET = 32  # job secret bytes at the end of the hello
NAME = 128
T = dict(hello=1, hello_reply=2, attached=3, attached_reply=4, table=5, table_reply=6, detach=7,
         detach_reply=8, job_failed=9, stats=10, stats_reply=11)


def message(kind, body=b"", status=0):
    return struct.pack("<IHHII", CTL_MAGIC, CTL_VERSION, T[kind], 16 + len(body), status) + body


def blob(b):
    return pad8(struct.pack("<I", len(b)) + b)


def name(s):
    return s.encode().ljust(NAME, b"\0")


def hello(*fields, secret=bytes(range(1, SECRET + 1))):
    return struct.pack("<QIIIIQQQIiII", *fields) + secret


def control_seeds():
    write("fuzz_control", "hello", message("hello", hello(0xABCDEF, 1, 4, 1, 4242, 4 << 20, 32 << 10, 1 << 20, 4, 0, 0, 0)))
    write("fuzz_control", "hello_bad_ring", message("hello", hello(
        0xABCDEF, 1, 4, 1, 4242, 3 << 20, 32 << 10, 1 << 20, 4, -1, 0, 0)))
    write("fuzz_control", "hello_checksum", message("hello", hello(
        0xABCDEF, 2, 4, 0, 4243, 4 << 20, 32 << 10, 1 << 20, 4, 0, 1, 0)))
    write("fuzz_control", "hello_no_secret", message("hello", hello(
        0xABCDEF, 3, 4, 0, 4244, 4 << 20, 32 << 10, 1 << 20, 4, 0, 0, 0, secret=bytes(SECRET))))
    reply = struct.pack("<QII", 0x1111, 77, 2) + name("bdy-out-x") + name("bdy-in-x") + name("node1")
    reply += struct.pack("<II", 0, 0) + blob(b"ucx-address-0") + blob(b"ucx-address-one")
    write("fuzz_control", "hello_reply", message("hello_reply", reply))
    # Placement dpu: hello flag 2 (rings over RMA); the reply's flag 1 and, per
    # thread, the worker serving the rings and the router's two ring sides.
    write("fuzz_control", "hello_rma", message("hello", hello(
        0xABCDEF, 4, 8, 0, 4245, 4 << 20, 32 << 10, 1 << 20, 4, -1, 2, 0)))
    def rma_rings(entries):
        return struct.pack("<II", len(entries), 0) + b"".join(blob(w) + blob(o) + blob(i) for w, o, i in entries)
    side = b"BRS1" + struct.pack("<IQQ", 4, 1 << 20, (4 << 20) + 64) + b"rkey"
    rma_reply = struct.pack("<QII", 0x1111, 77, 2) + name("") + name("") + name("dpu1") + struct.pack("<II", 1, 0)
    rma_reply += blob(b"ucx-address-0") + blob(b"ucx-address-one")
    rma_reply += rma_rings([(b"rma-worker-0", side, side), (b"rma-worker-1", side, side)])
    write("fuzz_control", "hello_reply_rma", message("hello_reply", rma_reply))
    write("fuzz_control", "attached_rma", message("attached", rma_rings([(b"rank-worker", side, side)])))
    ranks = [0, 1, 1]
    table = struct.pack("<QIIII", 0xABCDEF, 2, len(ranks), 1, 0) + pad8(b"".join(struct.pack("<I", r) for r in ranks))
    table += struct.pack("<QII", 0x1111, 1, 0) + blob(b"addr-a")
    table += struct.pack("<QII", 0x2222, 2, 0) + blob(b"addr-b0") + blob(b"addr-b1")
    write("fuzz_control", "table", message("table", table))
    write("fuzz_control", "table_huge_counts", message("table", struct.pack("<QIIII", 1, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0)))
    for kind in ("attached", "attached_reply", "table_reply", "detach", "detach_reply"):
        write("fuzz_control", kind, message(kind))
    write("fuzz_control", "job_failed", message("job_failed", struct.pack("<II", 3, 0) + b"rank 3 died", status=1))
    write("fuzz_control", "stats", message("stats", struct.pack("<Q", 0xABCDEF)))
    # Two threads of ROUTER_FIELDS counters each (buddy::router_counter_fields),
    # links, then hardware counters: available, reason, the JSON object.
    def stats_thread(base, links, available, reason, hw):
        body = struct.pack(f"<{ROUTER_FIELDS}Q", *range(base, base + ROUTER_FIELDS))
        body += struct.pack("<Q", len(links)) + b"".join(struct.pack("<3Q", *l) for l in links)
        return body + struct.pack("<Q", available) + blob(reason) + blob(hw)
    stats = struct.pack("<II", 2, ROUTER_FIELDS)
    stats += stats_thread(1, [(1, 5, 4096)], 0, b"no hardware event could be counted",
                          b'{"available": false, "reason": "no hardware event could be counted"}')
    stats += stats_thread(100, [], 1, b"", b'{"available": true, "reason": "", "values": {}}')
    write("fuzz_control", "stats_reply", message("stats_reply", stats))
    write("fuzz_control", "refusal", message("hello_reply", b"buddy-router refuses: depth out of range", status=1))


# -------------------------------------------------------------- config
KNOBS = [  # (name, a valid value): the order of the table in lib/config/knobs.cpp
    ("placement", "host"), ("route", "mesh2d"), ("granularity", "64K"), ("depth", "8"), ("max-message", "1M"), ("timeout", "2.5"),
    ("report", "/tmp/report.json"), ("router-threads", "2"), ("routers-per-node", "1"), ("router-cores", "0-1"),
    ("router-bin", "/bin/true"), ("ring-bytes", "4M"), ("router-socket", "/tmp/buddy/r.sock"),
    ("dpu-map", "/tmp/dpu.map"), ("wait", "spin"),
    ("verbose", "on"), ("checksum", "on"), ("node-rings", "on"),
]


def config_seeds():
    for i, (knob, value) in enumerate(KNOBS):
        write("fuzz_config", "knob_" + knob, bytes([1, i]) + value.encode())
    args = ["app", "--buddy-granularity=1M", "--buddy-depth", "2", "--buddy-verbose", "-x",
            "--", "--buddy-not-mine"]
    write("fuzz_config", "args", bytes([0]) + "\n".join(args).encode())
    write("fuzz_config", "args_every_flag",
          bytes([0]) + "\n".join("--buddy-%s=%s" % kv for kv in KNOBS if kv[0] not in ("router-bin", "router-socket")).encode())
    write("fuzz_config", "args_unknown_flag", bytes([0]) + b"--buddy-granularty=1M")
    write("fuzz_config", "args_missing_value", bytes([0]) + b"--buddy-depth")
    for i, text in enumerate(["64K", "0", "18446744073709551615", "16G", "0-3,8,10-11", "1-0", "a,b"]):
        write("fuzz_config", "helper_%d" % i, bytes([2]) + text.encode())


if __name__ == "__main__":
    shutil.rmtree(CORPUS, ignore_errors=True)
    wire_seeds()
    control_seeds()
    config_seeds()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        print("%s: %d seeds" % (t, len(files)))
