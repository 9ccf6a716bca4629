"""Capture from crafted pcaps: reordered, duplicated, overlapping and missing
segments, chunked bodies, pipelining, 100-continue, connections joined
mid-stream, wrap-around, several link types, and bad input."""
import json
import os
import random
import re
import subprocess
import tempfile
import unittest

from .kt import kintape_bin
from .pcapgen import Conn, request, response, tool_bin, write_pcap


def capture(pcap, *args, expect_rc=(0,)):
    """Runs kintape capture -r on pcap; returns (rc, exchanges, end record, stderr)."""
    out = pcap + ".snap.jsonl"
    p = subprocess.run([kintape_bin(), "capture", "-r", pcap, "-o", out, *args], capture_output=True, text=True,
                       timeout=120)
    if p.returncode not in expect_rc:
        raise AssertionError(f"capture exited {p.returncode}: {p.stderr}")
    lines = [json.loads(line) for line in open(out)]
    header, body = lines[0], lines[1:]
    end = body[-1].get("kintape_snapshot_end") if body and "kintape_snapshot_end" in body[-1] else None
    exchanges = [x for x in body if "http" in x]
    assert header["kintape_snapshot"] == 1
    return p.returncode, exchanges, end, p.stderr


def put_records_body(n, size=100, stream="orders", seed=1):
    rnd = random.Random(seed)
    import base64
    return json.dumps({"StreamName": stream, "Records": [
        {"Data": base64.b64encode(rnd.randbytes(size)).decode(), "PartitionKey": f"pk-{i}"} for i in range(n)]})


OK_PUT = {"FailedRecordCount": 0, "Records": []}


class Crafted(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kintape-cap-")
        self.n = 0

    def tearDown(self):
        self.tmp.cleanup()

    def pcap(self, segs, **kw):
        self.n += 1
        return write_pcap(os.path.join(self.tmp.name, f"t{self.n}.pcap"), segs, **kw)

    def one_exchange(self, segs, body, **kw):
        rc, xs, end, err = capture(self.pcap(segs, **kw))
        self.assertEqual(len(xs), 1, xs)
        self.assertEqual(xs[0]["http"]["request"]["body"], body)
        return xs[0], end

    def test_simple_exchange(self):
        c = Conn()
        body = put_records_body(3)
        segs = c.handshake() + c.c2s(request("PutRecords", body)) + c.s2c(response(200, OK_PUT)) + c.close()
        x, end = self.one_exchange(segs, body)
        self.assertEqual(x["kinesis"], {"operation": "PutRecords", "stream": "orders"})
        self.assertEqual(x["http"]["response"]["status"], 200)
        self.assertEqual(json.loads(x["http"]["response"]["body"]), OK_PUT)
        self.assertEqual(x["client"], {"ip": "10.0.0.1", "port": 40001})
        self.assertEqual(x["server"], {"ip": "10.0.0.2", "port": 4566})
        self.assertEqual((x["conn"], x["n"]), (1, 1))
        self.assertNotIn("incomplete", x)
        self.assertGreater(x["duration_ns"], 0)
        headers = dict(x["http"]["request"]["headers"])
        self.assertEqual(headers["X-Amz-Target"], "Kinesis_20131202.PutRecords")
        self.assertTrue(end["lossless"], end)
        self.assertEqual((end["exchanges"], end["complete"], end["incomplete"]), (1, 1, 0))

    def test_reordered_duplicated_overlapping_segments(self):
        c = Conn()
        body = put_records_body(60)
        hs = c.handshake()
        data = c.c2s(request("PutRecords", body), mss=500)
        rnd = random.Random(3)
        shuffled = data[:]
        rnd.shuffle(shuffled)
        dups = [shuffled[i].copy() for i in range(0, len(shuffled), 4)]
        # Overlaps: a segment re-sent merged with the half of the next one.
        overlaps = []
        for i in range(0, len(data) - 1, 5):
            a, b = data[i], data[i + 1]
            overlaps.append(a.copy(payload=a.payload + b.payload[: len(b.payload) // 2]))
        mixed = shuffled + dups + overlaps
        rnd.shuffle(mixed)
        segs = hs + mixed + c.s2c(response(200, OK_PUT)) + c.close()
        x, end = self.one_exchange(segs, body)
        self.assertNotIn("incomplete", x)
        self.assertGreater(end["retransmissions"], 0)
        self.assertGreater(end["out_of_order"], 0)
        self.assertEqual(end["tcp_gaps"], 0)

    def test_missing_segment_is_a_gap_and_the_next_request_resyncs(self):
        c = Conn()
        first = put_records_body(40, seed=5)
        second = put_records_body(2, seed=6)
        hs = c.handshake()
        req1 = c.c2s(request("PutRecords", first), mss=400)
        del req1[5]
        segs = (hs + req1 + c.s2c(response(200, OK_PUT)) + c.c2s(request("PutRecords", second)) +
                c.s2c(response(200, OK_PUT)) + c.close())
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(1,))
        self.assertEqual(len(xs), 2)
        self.assertIn("gap", xs[0]["incomplete"])
        self.assertEqual(xs[1]["http"]["request"]["body"], second)
        self.assertNotIn("incomplete", xs[1])
        self.assertEqual(end["tcp_gaps"], 1)
        self.assertEqual(end["tcp_gap_bytes"], 400)
        self.assertFalse(end["lossless"])
        self.assertIn("data was lost", err)

    def test_chunked_bodies(self):
        c = Conn()
        body = put_records_body(5)
        resp = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "shardId-000000000000"}]}
        segs = (c.handshake() + c.c2s(request("PutRecords", body, chunked=True), mss=50) +
                c.s2c(response(200, resp, chunked=True), mss=30) + c.close())
        x, _ = self.one_exchange(segs, body)
        self.assertEqual(json.loads(x["http"]["response"]["body"]), resp)
        self.assertEqual(x["http"]["request"]["body_bytes"], len(body))

    def test_pipelined_requests(self):
        c = Conn()
        bodies = [json.dumps({"StreamName": f"s{i}"}) for i in range(3)]
        reqs = b"".join(request("DescribeStreamSummary", b) for b in bodies)
        resps = b"".join(response(200 + i, {"i": i}) for i in range(3))
        segs = c.handshake() + c.c2s(reqs, mss=10000) + c.s2c(resps, mss=10000) + c.close()
        rc, xs, end, _ = capture(self.pcap(segs))
        self.assertEqual([x["kinesis"]["stream"] for x in xs], ["s0", "s1", "s2"])
        self.assertEqual([x["http"]["response"]["status"] for x in xs], [200, 201, 202])
        self.assertEqual([x["n"] for x in xs], [1, 2, 3])

    def test_expect_100_continue(self):
        c = Conn()
        body = put_records_body(2)
        req = request("PutRecords", body, extra=[("Expect", "100-continue")])
        head, _, rest = req.partition(b"\r\n\r\n")
        segs = (c.handshake() + c.c2s(head + b"\r\n\r\n") + c.s2c(b"HTTP/1.1 100 Continue\r\n\r\n") +
                c.c2s(rest) + c.s2c(response(200, OK_PUT)) + c.close())
        x, end = self.one_exchange(segs, body)
        self.assertEqual(x["http"]["response"]["status"], 200)
        self.assertEqual(end["orphan_responses"], 0)

    def test_joined_mid_stream(self):
        c = Conn()
        c.handshake()  # not captured
        old = c.c2s(request("PutRecords", put_records_body(20)), mss=300)
        old_resp = c.s2c(response(200, OK_PUT))
        body = json.dumps({"StreamName": "late"})
        segs = old[3:] + old_resp + c.c2s(request("ListShards", body)) + c.s2c(response(200, {"Shards": []})) + c.close()
        # The rest of the PutRecords under way at the join could not be read: loss, named per connection.
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(1,))
        self.assertIn("10.0.0.1:40001 -> 10.0.0.2:4566 was already open when the capture started", err)
        self.assertIn("WARNING: data was lost", err)
        self.assertEqual(len(xs), 1, xs)
        self.assertEqual(xs[0]["kinesis"], {"operation": "ListShards", "stream": "late"})
        self.assertEqual(xs[0]["http"]["response"]["body"], '{"Shards": []}')
        self.assertGreater(end["unparsable_bytes"], 0)
        self.assertEqual(xs[0]["client"]["port"], 40001)  # the server was told by its port

    def test_sequence_wrap_around(self):
        c = Conn(isn_c=2 ** 32 - 700, isn_s=2 ** 32 - 10)
        body = put_records_body(30)
        segs = c.handshake() + c.c2s(request("PutRecords", body), mss=256) + c.s2c(response(200, OK_PUT)) + c.close()
        random.Random(9).shuffle(segs[3:10])
        x, end = self.one_exchange(segs, body)
        self.assertNotIn("incomplete", x)
        self.assertTrue(end["lossless"])

    def test_many_connections_in_request_order(self):
        conns = [Conn(cli=("10.0.0.1", 41000 + i)) for i in range(40)]
        per_conn = []
        for i, c in enumerate(conns):
            segs = c.handshake()
            for k in range(3):
                segs += c.c2s(request("PutRecord", {"StreamName": f"c{i}-{k}", "Data": "YQ==", "PartitionKey": "p"}))
                segs += c.s2c(response(200, {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}))
            per_conn.append(segs + c.close())
        # Interleave connections packet by packet, keeping each connection's own order.
        rnd = random.Random(11)
        order = []
        queues = [list(s) for s in per_conn]
        while any(queues):
            q = rnd.choice([q for q in queues if q])
            order.append(q.pop(0))
        rc, xs, end, _ = capture(self.pcap(order))
        self.assertEqual(len(xs), 120)
        self.assertEqual(sorted(x["kinesis"]["stream"] for x in xs),
                         sorted(f"c{i}-{k}" for i in range(40) for k in range(3)))
        ts = [x["ts_ns"] for x in xs]
        self.assertEqual(ts, sorted(ts))
        self.assertEqual(len({x["conn"] for x in xs}), 40)
        self.assertTrue(end["lossless"])

    def test_no_response_rst_and_orphans(self):
        c1 = Conn(cli=("10.0.0.1", 42001))
        a = c1.handshake() + c1.c2s(request("ListStreams", "{}"))  # never answered, capture ends
        c2 = Conn(cli=("10.0.0.1", 42002))
        b = c2.handshake() + c2.c2s(request("ListStreams", "{}")) + c2.s2c(response(200, "x" * 5000))[:2] \
            + c2.rst_from_server()
        c3 = Conn(cli=("10.0.0.1", 42003))
        cc = c3.handshake() + c3.s2c(response(200, "{}")) + c3.close()  # a response nobody asked for
        rc, xs, end, _ = capture(self.pcap(a + b + cc))
        reasons = sorted(x.get("incomplete") for x in xs)
        self.assertEqual(reasons, ["connection closed mid-response", "no response"])
        self.assertEqual(end["orphan_responses"], 1)
        self.assertEqual(end["incomplete"], 2)

    def test_non_http_and_garbage_headers(self):
        c = Conn()
        segs = c.handshake() + c.c2s(bytes(range(256)) * 8) + c.s2c(b"\x00\x01garbage") + c.close()
        d = Conn(cli=("10.0.0.1", 43000))
        good = json.dumps({"StreamName": "after-garbage"})
        segs += (d.handshake() + d.c2s(b"POST / HTTP/1.1\r\nBad Header Line\r\n\r\n") +
                 d.c2s(request("DescribeStream", good)) + d.s2c(response(400, {"__type": "X"})) +
                 d.s2c(response(200, {"ok": 1})) + d.close())
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(1,))
        ok = [x for x in xs if x["kinesis"]["stream"] == "after-garbage"]
        self.assertEqual(len(ok), 1)
        self.assertGreater(end["unparsable"], 0)
        # The connection that never spoke HTTP is named, with its first bytes; the one that did is not.
        self.assertEqual(end["other_connections"], 1)
        self.assertIn("10.0.0.1:40001 -> 10.0.0.2:4566 does not start with HTTP/1.1, HTTP/2 or TLS", err)
        self.assertIn("00 01 02 03", err)
        self.assertNotIn(":43000 ->", err)

    def test_large_body_across_many_segments(self):
        c = Conn()
        body = put_records_body(500, size=10000)  # about 6.7 MB of JSON
        segs = c.handshake() + c.c2s(request("PutRecords", body), mss=65000) + c.s2c(response(200, OK_PUT)) + c.close()
        x, end = self.one_exchange(segs, body)
        self.assertEqual(x["http"]["request"]["body_bytes"], len(body))

    def test_link_types_and_ipv6(self):
        for link, cli, srv in (("RAW", "10.1.1.1", "10.1.1.2"), ("NULL", "127.0.0.1", "127.0.0.1"),
                               ("SLL", "192.168.0.5", "192.168.0.6"), ("ETHERNET_VLAN", "10.9.9.9", "10.9.9.10"),
                               ("ETHERNET", "fd00::1", "fd00::2")):
            c = Conn(cli=(cli, 40500), srv=(srv, 4566))
            body = json.dumps({"StreamName": f"via-{link.lower()}"})
            segs = c.handshake() + c.c2s(request("DescribeStream", body)) + c.s2c(response(200, "{}")) + c.close()
            x, _ = self.one_exchange(segs, body, link=link)
            self.assertEqual(x["client"]["ip"], cli)

    def test_snaplen_cut_packets(self):
        c = Conn()
        body = put_records_body(10)
        hs = c.handshake()
        data = c.c2s(request("PutRecords", body), mss=600)
        data[2] = data[2].copy(cut=100)
        segs = hs + data + c.s2c(response(200, OK_PUT)) + c.close()
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(1,))
        self.assertEqual(end["truncated_packets"], 1)
        self.assertIn("gap", xs[0]["incomplete"])

    def test_head_response_has_no_body(self):
        c = Conn()
        segs = (c.handshake() + c.c2s(request("X", "", method="HEAD").replace(b"Content-Length: 0\r\n", b"")) +
                c.s2c(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n") +
                c.c2s(request("ListStreams", "{}")) + c.s2c(response(200, "{}")) + c.close())
        rc, xs, end, _ = capture(self.pcap(segs))
        self.assertEqual([x["http"]["request"]["method"] for x in xs], ["HEAD", "POST"])
        self.assertEqual(xs[1]["http"]["response"]["body"], "{}")


    def test_one_unreadable_region_counts_once(self):
        # Joined mid-stream inside a long body: 40 segments of bytes that are not HTTP, then a request.
        c = Conn()
        c.handshake()  # not captured
        junk = c.c2s(b"x" * 12000, mss=300)
        body = json.dumps({"StreamName": "after"})
        segs = junk + c.c2s(request("ListShards", body)) + c.s2c(response(200, "{}")) + c.close()
        rc, xs, end, _ = capture(self.pcap(segs), expect_rc=(1,))
        self.assertEqual([x["kinesis"]["stream"] for x in xs], ["after"])
        self.assertEqual(end["unparsable"], 1, end)
        self.assertEqual(end["unparsable_bytes"], 12000)

    def test_exchange_cut_by_the_end_of_the_file_says_so(self):
        c = Conn()
        body = put_records_body(20)
        segs = c.handshake() + c.c2s(request("PutRecords", body), mss=500)[:3]  # the file ends mid-body
        rc, xs, end, _ = capture(self.pcap(segs))
        self.assertEqual(len(xs), 1)
        self.assertEqual(xs[0]["incomplete"], "the capture file ended mid-request")

    def test_max_memory_holds_for_pipelined_bodies(self):
        # 48 pipelined PutRecords of 1 MB that are never answered: the HTTP parser holds their bodies.
        c = Conn()
        big = put_records_body(1, size=760000)
        segs = c.handshake()
        for _ in range(48):
            segs += c.c2s(request("PutRecords", big), mss=65000)
        segs += c.close()
        pcap = self.pcap(segs)
        out = pcap + ".snap.jsonl"
        p = subprocess.run([tool_bin("peakrss"), kintape_bin(), "capture", "-r", pcap, "-o", out,
                            "--max-memory", str(4 << 20)], capture_output=True, text=True, timeout=300)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        peak_kib = int(re.search(r"peak_rss_kib (\d+)", p.stderr).group(1))
        with open(out) as f:
            lines = [json.loads(line) for line in f]
        end = lines[-1]["kintape_snapshot_end"]
        self.assertGreater(end["evicted_memory"], 0, end)
        self.assertGreater(end["evicted_bytes"], 4 << 20)
        self.assertFalse(end["lossless"])
        self.assertIn("evicted by the memory cap", " ".join(end["problems"]))
        cut = [x for x in lines[1:-1] if "evicted by the memory cap" in x.get("incomplete", "")]
        self.assertGreater(len(cut), 0)
        if "/san/" not in kintape_bin():  # ASan's shadow memory is not the program's
            self.assertLess(peak_kib, 40 * 1024, "peak resident KiB for 48 MB of pipelined bodies")

    def test_max_memory_holds_for_many_connections(self):
        # 3000 connections that open and send one byte, never more: each costs memory until it is idle.
        segs = []
        for i in range(3000):
            c = Conn(cli=("10.1.%d.%d" % (i // 250, i % 250 + 1), 40000 + i % 20000))
            segs += c.handshake() + c.c2s(b"P")
        # What the evicted connections held is dropped: data lost, exit 1.
        rc, xs, end, err = capture(self.pcap(segs), "--max-memory", str(1 << 20), expect_rc=(1,))
        self.assertGreater(end["evicted_memory"], 0, end)
        self.assertIn("WARNING: data was lost", err)


class BadFiles(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kintape-cap-")

    def tearDown(self):
        self.tmp.cleanup()

    def test_truncated_pcap_keeps_what_came_before(self):
        segs = []
        for i in range(20):
            c = Conn(cli=("10.0.0.1", 44000 + i))
            segs += c.handshake() + c.c2s(request("ListStreams", "{}")) + c.s2c(response(200, "{}")) + c.close()
        path = write_pcap(os.path.join(self.tmp.name, "cut.pcap"), segs)
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size * 2 // 3)
        rc, xs, end, err = capture(path, expect_rc=(1,))
        self.assertIn("truncated", err)
        self.assertIn("after packet", err)
        self.assertIn("byte", err)
        self.assertGreater(len(xs), 5)
        self.assertLess(len(xs), 20)
        self.assertIsNotNone(end)
        self.assertFalse(end["lossless"])

    def test_empty_pcap_and_one_where_nothing_matches(self):
        empty = os.path.join(self.tmp.name, "empty.pcap")
        open(empty, "wb").close()
        p = subprocess.run([kintape_bin(), "capture", "-r", empty, "-o", empty + ".snap"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("the file is empty (0 bytes), not a pcap file", p.stderr)
        with open(empty, "wb") as f:
            f.write(b"\xd4\xc3\xb2\xa1\x02\x00")
        p = subprocess.run([kintape_bin(), "capture", "-r", empty, "-o", empty + ".snap"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("6 bytes, shorter than a pcap file header", p.stderr)
        segs = []
        for i in range(3):
            c = Conn(cli=("10.0.0.7", 44100 + i), srv=("10.0.0.9", 8443))
            segs += c.handshake() + c.c2s(request("ListStreams", "{}")) + c.s2c(response(200, "{}")) + c.close()
        path = write_pcap(os.path.join(self.tmp.name, "other.pcap"), segs)
        p = subprocess.run([kintape_bin(), "capture", "-r", path, "-o", path + ".snap"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nothing in", p.stderr)
        self.assertIn("port 4566))'; it holds 21 packets", p.stderr)
        self.assertRegex(p.stderr, r"TCP ports seen most: 8443 \(\d+ packets\)")
        self.assertIn("10.0.0.9", p.stderr)

    def test_not_a_pcap(self):
        path = os.path.join(self.tmp.name, "junk.pcap")
        with open(path, "wb") as f:
            f.write(b"this is not a capture file at all\n" * 10)
        p = subprocess.run([kintape_bin(), "capture", "-r", path, "-o", path + ".snap"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot read", p.stderr)
        p = subprocess.run([kintape_bin(), "capture", "-r", "/nonexistent.pcap", "-o", path + ".snap"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("/nonexistent.pcap", p.stderr)

    def test_bad_usage(self):
        for args in ([], ["-i", "lo", "-r", "x.pcap", "-o", "o"], ["-r", "x.pcap"], ["-r", "x.pcap", "-o", "o",
                                                                                       "--port", "99999"],
                     ["-r", "x.pcap", "-o", "o", "--port", "1", "--filter", "tcp"]):
            p = subprocess.run([kintape_bin(), "capture", *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, args)
            self.assertTrue(p.stderr.strip(), args)

    def test_bad_filter(self):
        path = write_pcap(os.path.join(self.tmp.name, "e.pcap"), [])
        p = subprocess.run([kintape_bin(), "capture", "-r", path, "-o", path + ".snap", "--filter", "tcp port ("],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad filter", p.stderr)


if __name__ == "__main__":
    unittest.main()
