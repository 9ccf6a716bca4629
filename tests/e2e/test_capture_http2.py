"""HTTP/2 with prior knowledge in kintape capture: crafted conversations (many
streams at once, CONTINUATION, padding, priority, HPACK's dynamic table,
RST_STREAM, a TCP gap) through libpcap files, and a live capture of the AWS SDK
for JavaScript v3 producer in examples/js, every record byte for byte."""
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


if __name__ == "__main__":
    unittest.main()
