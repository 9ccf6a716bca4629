"""Bodies in extract: CBOR PutRecords (what the AWS SDKs for Java send) captured
live and extracted to the same CSV as the same records sent as JSON; records
aggregated by the KPL (built here by an encoder of the documented format)
unpacked into their user records, a corrupt one kept and counted."""
import base64
import csv
import gzip
import json
import shutil
import hashlib
import os
import random
import signal
import subprocess
import tempfile
import time
import unittest

from .kt import Emulator, boto3_client, kintape_bin
from .test_emulator_cbor import cbor_calls
from .test_extract import extract, read_csv

KPL_MAGIC = bytes([0xF3, 0x89, 0x9A, 0xC2])


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(num, value):
    """A protobuf field: an int (varint) or bytes (length-delimited)."""
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def kpl_aggregate(user_records, keys, ehks=()):
    """user_records: [(key index, ehk index or None, data)] -> the KPL's aggregated record."""
    pb = b"".join(pb_field(1, k.encode()) for k in keys) + b"".join(pb_field(2, e.encode()) for e in ehks)
    for ki, ei, data in user_records:
        rec = pb_field(1, ki) + (pb_field(2, ei) if ei is not None else b"") + pb_field(3, data) + \
            pb_field(4, pb_field(1, b"tag") + pb_field(2, b"v"))
        pb += pb_field(3, rec)
    return KPL_MAGIC + pb + hashlib.md5(pb).digest()


class ExtractBodies(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kintape-bodies-")
        self.emu = Emulator("--no-tls")
        self.snap = os.path.join(self.tmp, "cap.snap.jsonl")
        self.cap = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(self.emu.port), "-o",
                                     self.snap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.cap.stderr.readline()
        if "capturing on lo" not in line:
            self.cap.kill()
            raise AssertionError(f"capture did not start: {line}{self.cap.stderr.read()}")
        time.sleep(0.3)

    def tearDown(self):
        if self.cap.poll() is None:
            self.cap.kill()
            self.cap.wait()
        rc, log = self.emu.close()
        self.assertEqual(rc, 0, log)

    def stop_capture(self):
        time.sleep(0.3)
        self.cap.send_signal(signal.SIGINT)
        _, err = self.cap.communicate(timeout=60)
        self.assertEqual(self.cap.returncode, 0, err)

    def rows(self, *args):
        out = os.path.join(self.tmp, f"out{random.randrange(10 ** 9)}.csv")
        p = extract(self.snap, "-o", out, *args)
        return read_csv(out), p.stderr.decode()

    def test_cbor_puts_extract_as_their_json_twins(self):
        rnd = random.Random(3)
        data = [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 300))) for _ in range(40)]
        data += ["caf\u00e9 text".encode(), b"", b"{\"order\": 7}"]
        recs = [(d, f"key-{i}", str(2 ** 120 + i) if i % 5 == 0 else None) for i, d in enumerate(data)]
        kin = boto3_client(self.emu)
        for s in ("bodies-json", "bodies-cbor"):
            kin.create_stream(StreamName=s, ShardCount=2)
        kin.put_records(StreamName="bodies-json", Records=[
            {"Data": d, "PartitionKey": k, **({"ExplicitHashKey": e} if e else {})} for d, k, e in recs])
        kin.put_record(StreamName="bodies-json", Data=b"single", PartitionKey="one")

        def b(x):
            return {"$bytes": base64.b64encode(x).decode()}
        got = cbor_calls(self.emu, [
            {"op": "PutRecords", "body": {"StreamName": "bodies-cbor", "Records": [
                {"Data": b(d), "PartitionKey": k, **({"ExplicitHashKey": e} if e else {})} for d, k, e in recs]}},
            {"op": "PutRecord", "body": {"StreamName": "bodies-cbor", "Data": b(b"single"), "PartitionKey": "one"}},
            # Refused by the server: counted, not written.
            {"op": "PutRecords", "body": {"StreamName": "no-such-stream", "Records": [
                {"Data": b(b"x"), "PartitionKey": "k"}]}},
        ])
        self.assertEqual([g["status"] for g in got], [200, 200, 400])
        self.stop_capture()
        (hj, rj), _ = self.rows("--stream", "bodies-json", "--encoding", "base64")
        (hc, rc), _ = self.rows("--stream", "bodies-cbor", "--encoding", "base64")
        self.assertEqual(hj, hc)
        self.assertEqual(len(rc), len(recs) + 1)
        # Payload, partition key and explicit hash key, row by row; the stream column names each's stream.
        self.assertEqual([r[:1] + r[2:4] for r in rj], [r[:1] + r[2:4] for r in rc])
        self.assertEqual({r[4] for r in rc}, {"bodies-cbor"})
        self.assertEqual([base64.b64decode(r[0]) for r in rc[:len(data)]], data)
        (_, every), err = self.rows("--all-attempts", "--encoding", "base64")
        self.assertIn("ResourceNotFoundException", [r[-1] for r in every])

    def test_kpl_aggregates_are_unpacked(self):
        kin = boto3_client(self.emu)
        kin.create_stream(StreamName="kpl", ShardCount=1)
        agg1 = kpl_aggregate([(0, None, b"user-0"), (1, None, b"user-1"), (0, 0, b"user-2")], ["alpha", "beta"],
                             [str(2 ** 100)])
        agg2 = kpl_aggregate([(0, None, bytes(range(256)))], ["binary-key"])
        corrupt = KPL_MAGIC + b"\x0a\x03abc" + b"\x00" * 16  # the MD5 does not match
        kin.put_records(StreamName="kpl", Records=[
            {"Data": agg1, "PartitionKey": "outer-1"},
            {"Data": b"plain record", "PartitionKey": "plain"},
            {"Data": corrupt, "PartitionKey": "outer-2"},
            {"Data": agg2, "PartitionKey": "outer-3"},
        ])
        self.stop_capture()
        (head, rows), err = self.rows("--encoding", "base64")
        got = [(base64.b64decode(r[0]), r[2], r[3]) for r in rows]
        self.assertEqual(got, [(b"user-0", "alpha", ""), (b"user-1", "beta", ""), (b"user-2", "alpha", str(2 ** 100)),
                               (b"plain record", "plain", ""), (corrupt, "outer-2", ""),
                               (bytes(range(256)), "binary-key", "")])
        self.assertIn("2 KPL-aggregated records unpacked into 4 user records", err)
        self.assertIn("1 record with the KPL magic but a bad checksum or protobuf", err)
        (_, whole), err = self.rows("--encoding", "base64", "--no-deaggregate")
        self.assertEqual([base64.b64decode(r[0]) for r in whole], [agg1, b"plain record", corrupt, agg2])
        self.assertNotIn("unpacked", err)


if __name__ == "__main__":
    unittest.main()


class GzipBodies(unittest.TestCase):
    """A body sent with Content-Encoding: gzip is decoded before it is read; one that says gzip and is not
    stops extract with a message naming the line."""

    def snapshot(self, body, encoding="gzip"):
        header = {"kintape_snapshot": 1, "minor": 2, "created": "2026-12-03T00:00:00Z", "tool": "test",
                  "source": {"type": "file", "name": "t.pcap", "filter": "", "snaplen": 0}}
        resp = json.dumps({"FailedRecordCount": 0, "Records": [
            {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}] * 2}).encode()
        x = {"ts": "2026-12-03T00:00:01Z", "ts_ns": 1796256001000000000, "client": {"ip": "127.0.0.1", "port": 1},
             "server": {"ip": "127.0.0.1", "port": 2}, "conn": 1, "n": 0,
             "http": {"request": {"method": "POST", "target": "/", "version": "HTTP/1.1",
                                  "headers": [["Content-Type", "application/x-amz-json-1.1"],
                                              ["X-Amz-Target", "Kinesis_20131202.PutRecords"],
                                              ["Content-Encoding", encoding]],
                                  "body": base64.b64encode(body).decode(), "body_encoding": "base64",
                                  "body_bytes": len(body)},
                      "response": {"ts": "2026-12-03T00:00:01Z", "ts_ns": 1796256001000000000, "status": 200,
                                   "reason": "OK", "version": "HTTP/1.1",
                                   "headers": [["Content-Type", "application/x-amz-json-1.1"]],
                                   "body": resp.decode(), "body_bytes": len(resp)}},
             "kinesis": {"operation": "PutRecords", "stream": "gz"}}
        d = tempfile.mkdtemp(prefix="kintape-gz-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "gz.snap.jsonl")
        with open(path, "w") as f:
            end = {"kintape_snapshot_end": {"ended": "2026-12-03T00:00:02Z", "exchanges": 1, "complete": 1,
                                            "incomplete": 0, "lossless": True, "problems": []}}
            f.write(json.dumps(header) + "\n" + json.dumps(x) + "\n" + json.dumps(end) + "\n")
        return path, os.path.join(d, "gz.csv")

    def test_gzip_request_is_decoded(self):
        req = json.dumps({"StreamName": "gz", "Records": [
            {"Data": base64.b64encode(b"one").decode(), "PartitionKey": "a"},
            {"Data": base64.b64encode(b"two").decode(), "PartitionKey": "b"}]}).encode()
        snap, out = self.snapshot(gzip.compress(req))
        p = subprocess.run([kintape_bin(), "extract", snap, "-o", out], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out, newline="") as f:
            self.assertEqual([r["data"] for r in csv.DictReader(f)], ["one", "two"])

    def test_body_that_says_gzip_and_is_not(self):
        snap, out = self.snapshot(b"{\"StreamName\": \"gz\"}")
        p = subprocess.run([kintape_bin(), "extract", snap, "-o", out], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("gz.snap.jsonl:2", p.stderr)
        self.assertIn("Content-Encoding: gzip but cannot be decoded", p.stderr)
        self.assertFalse(os.path.exists(out))
