"""make bench, part fanout: enhanced fan-out under load, side by side in one run.

A 5-shard stream takes the emulator bench's PutRecords load (wrk, 500 x 100-byte
records a call) while N subscribers (0, 1, 10, 100: up to 20 consumers x 5
shards) read it with SubscribeToShard (HTTP/1.1, JSON). A prober puts one
record every 10 ms on each shard in turn, its partition key carrying the time
it was sent. Printed for each N: PutRecords records/s (beside N = 0),
records/s delivered to all subscribers, and put-to-receipt latency p50/p99 of
the probes; first, the probes alone with one subscriber (no other load). The subscribers run in their own process (this file, run as a
script), reading raw sockets and counting records without decoding them.
"""
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time

AUTH = ("AWS4-HMAC-SHA256 Credential=bench/20261124/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
SHARDS = 5
PROBE = re.compile(rb'"PartitionKey":"probe-(\d+)"')


def request(target, body):
    body = body.encode() if isinstance(body, str) else body
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
            f"X-Amz-Target: Kinesis_20131202.{target}\r\nX-Amz-Date: 20261124T000000Z\r\n"
            f"Authorization: {AUTH}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def read_answer(sock, buf=b""):
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(rest) < n:
        rest += sock.recv(65536)
    return head, rest[:n], rest[n:]


def reader(port, subs, seconds):
    """Subscribes (consumer ARN, shard) pairs and counts what arrives for `seconds`: prints a JSON summary."""
    sel = selectors.DefaultSelector()
    for carn, shard in subs:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request("SubscribeToShard", json.dumps({
            "ConsumerARN": carn, "ShardId": shard, "StartingPosition": {"Type": "LATEST"}})))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, {"head": False, "buf": b""})
    records, delays, tail = 0, [], b""
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                continue
            now = time.time_ns()
            st = key.data
            if not st["head"]:
                st["buf"] += data
                if b"\r\n\r\n" not in st["buf"]:
                    continue
                head, data = st["buf"].split(b"\r\n\r\n", 1)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"subscribe refused: {head[:200]!r} {data[:300]!r}")
                st["head"] = True
            records += data.count(b'"SequenceNumber"')
            for m in PROBE.finditer(data):
                delays.append((now - int(m.group(1))) / 1e6)
    delays.sort()
    pick = (lambda q: delays[min(len(delays) - 1, int(len(delays) * q))]) if delays else (lambda q: 0.0)
    print(json.dumps({"records": records, "seconds": seconds, "probes": len(delays), "p50": pick(0.5),
                      "p99": pick(0.99)}), flush=True)


def prober(port, stop, sent):
    """One PutRecord every 10 ms, on each shard in turn, its partition key the time it was sent."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf, i = b"", 0
    while not stop.is_set():
        key = f"probe-{time.time_ns()}"
        body = json.dumps({"StreamName": "bench", "Data": "cHJvYmU=", "PartitionKey": key,
                           "ExplicitHashKey": str((i % SHARDS) * (2 ** 128 // SHARDS))})
        s.sendall(request("PutRecord", body))
        _, _, buf = read_answer(s, buf)
        sent[0] += 1
        i += 1
        time.sleep(0.01)
    s.close()


def bench_fanout(args, tmp, bench):
    lua = os.path.join(tmp, "putrecords.lua")
    body_file = os.path.join(tmp, "putrecords.json")
    print(f"\n== emulator-fanout: PutRecords load (500 x 100 B, {args.connections} connections) on a {SHARDS}-shard "
          f"stream with N SubscribeToShard readers, {args.duration}s each")
    base = None
    for n, load in ((1, False), (0, True), (1, True), (10, True), (100, True)):
        proc, port = bench.start_server("kintape", args.bin, None)
        try:
            bench.create_stream(port, SHARDS)
            arn = bench.call(port, "DescribeStreamSummary", {"StreamName": "bench"})[
                "StreamDescriptionSummary"]["StreamARN"]
            carns = [bench.call(port, "RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": f"c{i}"})[
                "Consumer"]["ConsumerARN"] for i in range(min(n, 20))]
            subs = [(carns[i % 20], f"shardId-{i // 20 if n > 20 else i % SHARDS:012d}") for i in range(n)]
            rd = None
            if n:
                rd = subprocess.Popen([sys.executable, os.path.abspath(__file__), "reader", str(port),
                                       json.dumps(subs), str(args.duration + 2)], stdout=subprocess.PIPE, text=True)
                assert rd.stdout.readline().strip() == "ready"
                time.sleep(1)
            stop, sent = threading.Event(), [0]
            pt = threading.Thread(target=prober, args=(port, stop, sent))
            pt.start()
            if load:
                w = bench.run_wrk(port, args.duration, args.threads, args.connections, lua, body_file)
            else:
                time.sleep(args.duration)
            stop.set()
            pt.join()
            res = json.loads(rd.communicate(timeout=120)[0].strip().splitlines()[-1]) if rd else None
        finally:
            bench.stop(proc)
        if not load:
            print(f"  idle, N=1: put-to-receipt p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms ({res['probes']} probes "
                  f"of {sent[0]} put, no other load)", flush=True)
            continue
        put = w["rps"] * 500
        if n == 0:
            base = put
            print(f"  N=0:   PutRecords {put:>12,.0f} records/s", flush=True)
            continue
        print(f"  N={n:<3}: PutRecords {put:>12,.0f} records/s ({put / base:.2f}x of N=0)  delivered "
              f"{res['records'] / args.duration:>12,.0f} records/s to {n} subscribers  put-to-receipt "
              f"p50 {res['p50']:.1f} ms p99 {res['p99']:.1f} ms ({res['probes']} probes)", flush=True)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "reader":
    reader(int(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4]))
