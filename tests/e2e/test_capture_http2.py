"""HTTP/2 with prior knowledge in kintape capture: crafted conversations (many
streams at once, CONTINUATION, padding, priority, HPACK's dynamic table,
RST_STREAM, a TCP gap) through libpcap files, and a live capture of the AWS SDK
for JavaScript v3 producer in examples/js, every record byte for byte."""
import base64
import json
import os
import signal
import struct
import subprocess
import tempfile
import time
import unittest

from .kt import Emulator, boto3_client, client_env, kintape_bin
from .pcapgen import Conn, write_pcap
from .test_capture_crafted import capture, put_records_body
from .test_emulator_examples import JS, npm_install
from .test_extract import extract, read_csv

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out, value = [first | limit], value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal(name, value, index=False):
    """Literal header, new name: with incremental indexing (into the dynamic table) or without."""
    return (b"\x40" if index else b"\x00") + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def indexed(i):
    return hpack_int(i, 7, 0x80)


def frame(typ, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) + struct.pack(">I", stream) + payload


def req_block(target, dynamic_first=True):
    """Request headers; the first block puts x-amz-target into the dynamic table, later ones refer to it (62)."""
    common = literal(b":method", b"POST") + literal(b":path", b"/") + literal(b":scheme", b"http") + \
        literal(b":authority", b"10.0.0.2:4566") + literal(b"content-type", b"application/x-amz-json-1.1")
    if dynamic_first:
        return common + literal(b"x-amz-target", b"Kinesis_20131202." + target.encode(), index=True)
    return common + indexed(62)


def resp_block(status=b"200"):
    return literal(b":status", status) + literal(b"content-type", b"application/x-amz-json-1.1")


class CraftedHttp2(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kintape-h2cap-")

    def tearDown(self):
        self.tmp.cleanup()

    def pcap(self, segs, name="h2.pcap"):
        return write_pcap(os.path.join(self.tmp.name, name), segs)

    def test_streams_interleaved_with_continuation_padding_and_reset(self):
        c = Conn()
        b1 = put_records_body(3, stream="h2a").encode()
        b3 = put_records_body(2, stream="h2b", seed=2).encode()
        blk1 = req_block("PutRecords")
        cli = PREFACE + frame(4, 0, 0, b"") + \
            frame(1, 0x08, 1, bytes([3]) + blk1[:20] + b"\0\0\0") + frame(9, 0x04, 1, blk1[20:]) + \
            frame(1, 0x24, 3, b"\x00\x00\x00\x00\x10" + req_block("PutRecords", False)) + \
            frame(0, 0x08, 3, bytes([5]) + b3[:50] + b"\0" * 5) + frame(0, 0, 1, b1[:100]) + \
            frame(0, 0x01, 3, b3[50:]) + frame(0, 0x01, 1, b1[100:]) + \
            frame(1, 0x05, 5, req_block("ListStreams", False).replace(b"PutRecords", b"")) + \
            frame(3, 0, 7, b"\0\0\0\x08")
        ok = json.dumps({"FailedRecordCount": 0, "Records": []}).encode()
        srv = frame(4, 0, 0, b"") + frame(4, 0x01, 0, b"") + \
            frame(1, 0x04, 3, resp_block()) + frame(0, 0x01, 3, ok) + \
            frame(1, 0x04, 1, resp_block()) + frame(0, 0, 1, ok[:10]) + frame(0, 0x01, 1, ok[10:]) + \
            frame(3, 0, 5, b"\0\0\0\x02")
        segs = c.handshake() + c.c2s(cli, mss=97) + c.s2c(srv, mss=61) + c.close()
        rc, xs, end, err = capture(self.pcap(segs))
        by_target = {}
        for x in xs:
            by_target.setdefault(json.loads(x["http"]["request"]["body"] or "{}").get("StreamName", "none"), x)
        self.assertEqual(len(xs), 3, xs)
        for name, body in (("h2a", b1), ("h2b", b3)):
            x = by_target[name]
            self.assertEqual(x["http"]["request"]["body"].encode(), body)
            self.assertEqual(x["http"]["request"]["version"], "HTTP/2")
            self.assertEqual(x["http"]["response"]["status"], 200)
            self.assertEqual(json.loads(x["http"]["response"]["body"]), json.loads(ok))
            self.assertEqual(x["kinesis"], {"operation": "PutRecords", "stream": name})
            self.assertNotIn("incomplete", x)
        reset = by_target["none"]
        self.assertIn("RST_STREAM", reset["incomplete"])
        self.assertEqual(end["unparsable"], 0)

    def test_gap_cuts_open_streams_and_is_loss(self):
        c = Conn()
        body = put_records_body(2, stream="gap").encode()
        cli = PREFACE + frame(1, 0x04, 1, req_block("PutRecords")) + frame(0, 0x01, 1, body) + \
            frame(1, 0x04, 3, req_block("PutRecords", False)) + frame(0, 0x01, 3, body)
        segs = c.handshake() + c.c2s(cli, mss=40)
        srv = c.s2c(frame(1, 0x04, 1, resp_block()) + frame(0, 0x01, 1, b"{}"))
        segs = segs[:-3] + segs[-2:] + srv  # a client segment inside stream 3's body is lost
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(0, 1))
        self.assertEqual(len(xs), 2, xs)
        whole = [x for x in xs if "incomplete" not in x]
        self.assertEqual(len(whole), 1)
        self.assertEqual(whole[0]["http"]["request"]["body"].encode(), body)
        cut = [x for x in xs if "incomplete" in x][0]
        self.assertIn("TCP gap", cut["incomplete"])
        self.assertFalse(end["lossless"])


    def test_joined_mid_stream_records_what_decodes(self):
        # Before the capture: the preface, SETTINGS and stream 1, whose block put x-amz-target (PutRecords)
        # into the client's HPACK table; the capture starts inside stream 1's body.
        c = Conn()
        c.handshake()
        early = put_records_body(40, stream="early").encode()
        before = PREFACE + frame(4, 0, 0, b"") + frame(1, 0x04, 1, req_block("PutRecords")) + \
            frame(0, 0x01, 1, early)
        c.c2s(before[:len(before) - 700])  # not captured
        b3 = put_records_body(3, stream="refers-back", seed=3).encode()
        b5 = put_records_body(2, stream="new-entry", seed=5).encode()
        b7 = put_records_body(4, stream="refers-to-seen", seed=7).encode()
        cli = before[len(before) - 700:] + \
            frame(1, 0x04, 3, req_block("PutRecords", False)) + frame(0, 0x01, 3, b3) + \
            frame(1, 0x04, 5, req_block("PutRecords")) + frame(0, 0x01, 5, b5) + \
            frame(1, 0x04, 7, req_block("PutRecords", False)) + frame(0, 0x01, 7, b7)
        ok = json.dumps({"FailedRecordCount": 0, "Records": []}).encode()
        srv = b"".join(frame(1, 0x04, i, resp_block()) + frame(0, 0x01, i, ok) for i in (1, 3, 5, 7))
        segs = c.c2s(cli, mss=300) + c.s2c(srv, mss=200) + c.close()
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(1,))
        self.assertIn("10.0.0.1:40001 -> 10.0.0.2:4566 was already open when the capture started: read as HTTP/2",
                      err)
        by_stream = {json.loads(x["http"]["request"]["body"])["StreamName"]: x for x in xs}
        # Stream 1 began before the capture: not recorded, its bytes counted as not read.
        self.assertEqual(sorted(by_stream), ["new-entry", "refers-back", "refers-to-seen"])
        self.assertGreater(end["unparsable_bytes"], 0)
        self.assertFalse(end["lossless"])
        for name, body in (("refers-back", b3), ("new-entry", b5), ("refers-to-seen", b7)):
            x = by_stream[name]
            self.assertEqual(x["http"]["request"]["body"].encode(), body)
            self.assertEqual(x["http"]["request"]["version"], "HTTP/2")
            self.assertEqual(x["http"]["response"]["status"], 200)
        # Stream 3's x-amz-target is the entry added before the join: not decodable, marked, never guessed.
        x3 = by_stream["refers-back"]
        self.assertIn("not all of them could be decoded", x3["incomplete"])
        self.assertNotIn("x-amz-target", [h[0] for h in x3["http"]["request"]["headers"]])
        # Stream 5 added its own entry, and stream 7 refers to it at the index the encoder used.
        for name in ("new-entry", "refers-to-seen"):
            self.assertNotIn("incomplete", by_stream[name])
            self.assertEqual(by_stream[name]["kinesis"], {"operation": "PutRecords", "stream": name})

    def test_reading_goes_on_after_a_gap(self):
        c = Conn()
        body = put_records_body(2, stream="gap").encode()
        after = put_records_body(3, stream="after-gap", seed=4).encode()
        cli = PREFACE + frame(1, 0x04, 1, req_block("PutRecords")) + frame(0, 0x01, 1, body)
        lost = frame(1, 0x04, 3, req_block("ListShards")) + frame(0, 0, 3, b"x" * 900)
        later = frame(0, 0x01, 3, b"y" * 50) + frame(1, 0x04, 5, req_block("PutRecords", False)) + \
            frame(0, 0x01, 5, after)
        segs = c.handshake() + c.c2s(cli)
        c.c2s(lost)  # lost on the wire: a gap
        segs += c.c2s(later, mss=100)
        ok = json.dumps({"FailedRecordCount": 0, "Records": []}).encode()
        segs += c.s2c(b"".join(frame(1, 0x04, i, resp_block()) + frame(0, 0x01, i, ok) for i in (1, 3, 5)))
        segs += c.close()
        rc, xs, end, err = capture(self.pcap(segs), expect_rc=(1,))
        self.assertGreater(end["tcp_gaps"], 0)
        bodies = {x["http"]["request"]["body"]: x for x in xs}
        self.assertNotIn("incomplete", bodies[body.decode()])
        # Stream 3 lost its head and part of its body: its own bytes are not recorded as a request.
        self.assertNotIn("y" * 50, bodies)
        # Stream 5 came after the gap: read, its x-amz-target refers to stream 1's entry, seen before the gap.
        x5 = bodies[after.decode()]
        self.assertEqual(x5["http"]["response"]["status"], 200)
        self.assertIn("not all of them could be decoded", x5.get("incomplete", ""))


class LiveHttp2(unittest.TestCase):

    def test_javascript_sdk_producer_captured_byte_for_byte(self):
        npm_install()
        tmp = tempfile.mkdtemp(prefix="kintape-h2live-")
        emu = Emulator("--no-tls")
        snap, out = os.path.join(tmp, "js.snap.jsonl"), os.path.join(tmp, "js.csv")
        cap = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(emu.port), "-o", snap],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertIn("capturing on lo", cap.stderr.readline())
            time.sleep(0.3)
            env = client_env({"KINESIS_ENDPOINT": emu.url, "NODE_NO_WARNINGS": "1"})
            p = subprocess.run(["node", os.path.join(JS, "producer.js"), "js-live", "2000"], capture_output=True,
                               text=True, env=env, timeout=300, cwd=JS)
            self.assertEqual(p.returncode, 0, p.stderr)
            time.sleep(0.5)
            cap.send_signal(signal.SIGINT)
            _, err = cap.communicate(timeout=60)
            self.assertEqual(cap.returncode, 0, err)
            self.assertIn("unparsable 0", err)
            extract(snap, "-o", out, "--stream", "js-live")
            head, rows = read_csv(out)
            kin = boto3_client(emu)
            stored = []
            for shard in kin.list_shards(StreamName="js-live")["Shards"]:
                it = kin.get_shard_iterator(StreamName="js-live", ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                stored += [(r["Data"].decode(), r["PartitionKey"], r["SequenceNumber"])
                           for r in kin.get_records(ShardIterator=it, Limit=10000)["Records"]]
            self.assertEqual(len(rows), 2000)
            self.assertEqual(sorted((r[0], r[2], r[6]) for r in rows), sorted(stored))
        finally:
            if cap.poll() is None:
                cap.kill()
            rc, log = emu.close()
            self.assertEqual(rc, 0, log)

    def test_node_http2_connection_joined_mid_stream(self):
        # The AWS SDK for JavaScript v3 opens a connection per Kinesis call; a long-lived one (a
        # consumer's stream, or Node's own http2 client, here) is open, its HPACK tables filled, before
        # the capture starts.
        npm_install()
        emu = Emulator("--no-tls")
        tmp = tempfile.mkdtemp(prefix="kintape-h2join-")
        snap = os.path.join(tmp, "join.snap.jsonl")
        boto3_client(emu).create_stream(StreamName="js-join", ShardCount=1)
        script = r'''
const http2 = require("http2");
const s = http2.connect(process.env.KINESIS_ENDPOINT);
const put = (b) => new Promise((resolve, reject) => {
  const body = JSON.stringify({ StreamName: "js-join", Records: Array.from({ length: 5 }, (_, i) =>
    ({ Data: Buffer.from(`batch ${b} record ${i}`).toString("base64"), PartitionKey: `p${i}` })) });
  const r = s.request({ ":method": "POST", ":path": "/", "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "Kinesis_20131202.PutRecords", "user-agent": "kintape-test/1 node-http2",
    "x-amz-date": "20261203T000000Z", authorization: "AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000" });
  r.on("response", (h) => { if (h[":status"] !== 200) reject(new Error(`status ${h[":status"]}`)); });
  r.on("data", () => {});
  r.on("end", resolve);
  r.on("error", reject);
  r.end(body);
});
(async () => {
  await put(0);
  console.log("ready");
  process.stdin.once("data", async () => {
    for (let b = 1; b <= 3; b++) await put(b);
    console.log("done");
    s.close(() => process.exit(0));
  });
})().catch((e) => { console.error(e); process.exit(1); });
'''
        env = client_env({"KINESIS_ENDPOINT": emu.url, "NODE_NO_WARNINGS": "1"})
        node = subprocess.Popen(["node", "-e", script], cwd=JS, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        cap = None
        try:
            self.assertEqual(node.stdout.readline().strip(), "ready", node.stderr.read() if node.poll() else "")
            cap = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(emu.port), "-o", snap],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertIn("capturing on lo", cap.stderr.readline())
            time.sleep(0.3)
            node.stdin.write("go\n")
            node.stdin.flush()
            self.assertEqual(node.stdout.readline().strip(), "done")
            node.wait(timeout=60)
            time.sleep(0.3)
            cap.send_signal(signal.SIGINT)
            _, err = cap.communicate(timeout=60)
            # What came before the join could not be read: loss, said per connection.
            self.assertEqual(cap.returncode, 1, err)
            self.assertIn("was already open when the capture started: read as HTTP/2", err)
            with open(snap) as f:
                xs = [json.loads(line) for line in f][1:-1]
            puts = [x for x in xs if x["http"]["request"]["body"]]
            self.assertEqual(len(puts), 3, xs)
            for b, x in enumerate(puts, 1):
                self.assertEqual(x["http"]["request"]["version"], "HTTP/2")
                self.assertEqual(x["http"]["response"]["status"], 200)
                body = json.loads(x["http"]["request"]["body"])
                self.assertEqual(body["StreamName"], "js-join")
                self.assertEqual([base64.b64decode(r["Data"]).decode() for r in body["Records"]],
                                 [f"batch {b} record {i}" for i in range(5)])
                # x-amz-target and the rest refer to entries made before the join: not decodable, marked,
                # and what was decoded is what was sent.
                self.assertIn("not all of them could be decoded", x["incomplete"])
                self.assertEqual(x["http"]["request"]["method"], "POST")
                self.assertEqual(x["http"]["request"]["target"], "/")
                sent = {"content-type": "application/x-amz-json-1.1", "x-amz-target": "Kinesis_20131202.PutRecords",
                        "user-agent": "kintape-test/1 node-http2", "x-amz-date": "20261203T000000Z",
                        "content-length": str(len(x["http"]["request"]["body"])),
                        "authorization": "AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000"}
                for name, value in x["http"]["request"]["headers"]:
                    if not name.startswith(":"):
                        self.assertEqual(sent.get(name), value, name)
        finally:
            for p in (node, cap):
                if p and p.poll() is None:
                    p.kill()
                    p.wait()
            rc, log = emu.close()
            self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main()
