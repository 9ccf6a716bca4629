#!/usr/bin/env python3
"""Writes the capture golden fixtures: crafted pcaps (tests/e2e/pcapgen.py,
written by libpcap through tests/tools/mkpcap) and the snapshot each gives,
as `kintape capture -r PCAP --reproducible` writes it today.

    make && python3 tests/golden/make_capture_fixtures.py

Run it only to add a fixture or to accept a change of output on purpose,
after reading the diff of the snapshots: the test suite (TESTLIST) compares
capture's output with these files byte for byte.
"""
import base64
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
os.environ.setdefault("KINTAPE_BIN", os.path.join(ROOT, "bin", "kintape"))
from e2e.pcapgen import Conn, request, response, write_pcap  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "capture")
OK_PUT = {"FailedRecordCount": 0, "Records": []}


def put_records(n, size=60, seed=1, stream="orders"):
    rnd = random.Random(seed)
    return json.dumps({"StreamName": stream, "Records": [
        {"Data": base64.b64encode(rnd.randbytes(size)).decode(), "PartitionKey": f"pk-{i}"} for i in range(n)]})


def simple():
    c = Conn()
    return c.handshake() + c.c2s(request("PutRecords", put_records(3))) + c.s2c(response(200, OK_PUT)) + c.close()


def reordered():
    c = Conn()
    hs = c.handshake()
    data = c.c2s(request("PutRecords", put_records(20)), mss=200)
    rnd = random.Random(3)
    mixed = data[:] + [data[i].copy() for i in range(0, len(data), 4)]
    mixed += [data[i].copy(payload=data[i].payload + data[i + 1].payload[:50]) for i in range(0, len(data) - 1, 5)]
    rnd.shuffle(mixed)
    return hs + mixed + c.s2c(response(200, OK_PUT)) + c.close()


def gap():
    c = Conn()
    hs = c.handshake()
    req = c.c2s(request("PutRecords", put_records(20, seed=5)), mss=300)
    del req[3]
    return (hs + req + c.s2c(response(200, OK_PUT)) + c.c2s(request("PutRecords", put_records(2, seed=6))) +
            c.s2c(response(200, OK_PUT)) + c.close())


def chunked_pipelined_continue():
    c = Conn()
    body = put_records(4)
    req = request("PutRecords", body, extra=[("Expect", "100-continue")])
    head, _, rest = req.partition(b"\r\n\r\n")
    pipelined = b"".join(request("DescribeStreamSummary", json.dumps({"StreamName": f"s{i}"})) for i in range(3))
    return (c.handshake() + c.c2s(request("PutRecords", put_records(2), chunked=True), mss=40) +
            c.s2c(response(200, OK_PUT, chunked=True), mss=20) +
            c.c2s(head + b"\r\n\r\n") + c.s2c(b"HTTP/1.1 100 Continue\r\n\r\n") + c.c2s(rest) +
            c.s2c(response(200, OK_PUT)) +
            c.c2s(pipelined, mss=5000) + c.s2c(b"".join(response(200, {"i": i}) for i in range(3)), mss=5000) +
            c.close())


def midstream_wrap():
    c = Conn(isn_c=2 ** 32 - 300, isn_s=2 ** 32 - 5)
    c.handshake()  # not captured
    old = c.c2s(request("PutRecords", put_records(10)), mss=200)
    return old[2:] + c.s2c(response(200, OK_PUT)) + c.c2s(request("ListShards", json.dumps({"StreamName": "late"}))) + \
        c.s2c(response(200, {"Shards": []})) + c.close()


def many_connections():
    conns = [Conn(cli=("10.0.0.1", 41000 + i)) for i in range(6)]
    queues = []
    for i, c in enumerate(conns):
        segs = c.handshake()
        for k in range(2):
            segs += c.c2s(request("PutRecord", {"StreamName": f"c{i}-{k}", "Data": "YQ==", "PartitionKey": "p"}))
            segs += c.s2c(response(200, {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}))
        queues.append(segs + c.close())
    rnd = random.Random(11)
    order = []
    while any(queues):
        q = rnd.choice([q for q in queues if q])
        order.append(q.pop(0))
    return order


def unanswered_reset_orphan_garbage():
    c1 = Conn(cli=("10.0.0.1", 42001))
    a = c1.handshake() + c1.c2s(request("ListStreams", "{}"))
    c2 = Conn(cli=("10.0.0.1", 42002))
    b = c2.handshake() + c2.c2s(request("ListStreams", "{}")) + c2.s2c(response(200, "x" * 3000))[:1] + \
        c2.rst_from_server()
    c3 = Conn(cli=("10.0.0.1", 42003))
    cc = c3.handshake() + c3.s2c(response(200, "{}")) + c3.close()
    c4 = Conn(cli=("10.0.0.1", 42004))
    g = c4.handshake() + c4.c2s(bytes(range(256)) * 4) + c4.c2s(b"POST / HTTP/1.1\r\nBad Header Line\r\n\r\n") + \
        c4.c2s(request("DescribeStream", json.dumps({"StreamName": "after-garbage"}))) + \
        c4.s2c(response(400, {"__type": "X"})) + c4.s2c(response(200, {"ok": 1})) + c4.close()
    return a + b + cc + g


def cut_by_snaplen():
    c = Conn()
    hs = c.handshake()
    data = c.c2s(request("PutRecords", put_records(6)), mss=300)
    data[1] = data[1].copy(cut=100)
    return hs + data + c.s2c(response(200, OK_PUT)) + c.close()


def half_space():
    # A SYN at 0 and data exactly 2^31 past the next byte: once undefined behaviour in the reassembler.
    c = Conn(isn_c=0)
    hs = c.handshake()
    far = c.c2s(b"far away")[0].copy(seq=0x80000001)
    c.cseq -= len(far.payload)  # it is not part of the stream
    return hs + [far] + c.c2s(request("ListStreams", "{}")) + c.s2c(response(200, "{}")) + c.close()


def file_ends_mid_request():
    c = Conn()
    return c.handshake() + c.c2s(request("PutRecords", put_records(10)), mss=200)[:2]


def evicted():
    # A request that declares a 1.2 MB body: the parser reserves it, which the 1 MiB cap does not allow.
    c = Conn()
    d = Conn(cli=("10.0.0.1", 40002))
    head = (b"POST / HTTP/1.1\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\n"
            b"Content-Length: 1200000\r\n\r\n")
    return (c.handshake() + d.handshake() + c.c2s(head + b"{" + b" " * 1500) +
            d.c2s(request("ListStreams", "{}")) + d.s2c(response(200, "{}")) + d.close())


FIXTURES = [
    ("simple", simple, "ETHERNET", []),
    ("reordered", reordered, "ETHERNET", []),
    ("gap", gap, "ETHERNET", []),
    ("http-details", chunked_pipelined_continue, "ETHERNET", []),
    ("midstream-wrap", midstream_wrap, "RAW", []),
    ("connections", many_connections, "SLL", []),
    ("broken", unanswered_reset_orphan_garbage, "NULL", []),
    ("snaplen", cut_by_snaplen, "ETHERNET_VLAN", []),
    ("half-space", half_space, "ETHERNET", []),
    ("file-ends", file_ends_mid_request, "ETHERNET", []),
    ("evicted", evicted, "ETHERNET", ["--max-memory", "1048576"]),
]


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, make, link, args in FIXTURES:
        write_pcap(os.path.join(HERE, name + ".pcap"), make(), link=link)
        # Run from tests/golden with relative paths, as the test does: the snapshot names its pcap.
        p = subprocess.run([os.path.abspath(os.environ["KINTAPE_BIN"]), "capture", "-r", f"capture/{name}.pcap",
                            "-o", f"capture/{name}.snap.jsonl", "--reproducible", "-q", *args],
                           cwd=os.path.dirname(HERE), capture_output=True, text=True)
        status = f"rc={p.returncode} " if p.returncode else ""
        print(f"capture    capture/{name}.pcap{' ' * (16 - len(name))}capture/{name}.snap.jsonl  "
              f"{status}--reproducible {' '.join(args)}".rstrip())
        if p.returncode not in (0, 1):
            sys.exit(f"{name}: {p.stderr}")


if __name__ == "__main__":
    main()
