"""`kintape snapshot ls|show|stats` on snapshots made by capture, and on damaged ones."""
import json
import os
import subprocess
import tempfile
import unittest

from .kt import kintape_bin
from .pcapgen import Conn, request, response, write_pcap


def run(*args):
    return subprocess.run([kintape_bin(), "snapshot", *args], capture_output=True, text=True, timeout=60)


class SnapshotCommand(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="kintape-snapcmd-")
        segs = []
        for i in range(4):
            c = Conn(cli=("10.0.0.1", 45000 + i))
            body = json.dumps({"StreamName": "orders" if i < 3 else "clicks",
                               "Records": [{"Data": "YQ==", "PartitionKey": f"k{j}"} for j in range(i + 1)]})
            segs += c.handshake() + c.c2s(request("PutRecords", body)) + c.s2c(response(200, {"ok": i}))
            segs += c.c2s(request("ListStreams", "{}")) + c.s2c(response(400, {"__type": "X"}, reason="Bad"))
            segs += c.close()
        pcap = write_pcap(os.path.join(cls.tmp.name, "t.pcap"), segs)
        cls.snap = pcap + ".snap.jsonl"
        p = subprocess.run([kintape_bin(), "capture", "-r", pcap, "-o", cls.snap, "-q"], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_stats(self):
        p = run("stats", self.snap)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        self.assertIn("exchanges  8,", out)
        self.assertIn("records    10 put", out)
        self.assertRegex(out, r"PutRecords\s+4\s+0\s+10")
        self.assertRegex(out, r"ListStreams\s+4\s+4\s+0")
        self.assertRegex(out, r"orders\s+3\s+6")
        self.assertRegex(out, r"clicks\s+1\s+4")
        self.assertIn("200: 4", out)
        self.assertIn("400: 4", out)
        self.assertIn("verdict    lossless", out)

    def test_stats_counts_records_from_the_decoded_bodies(self):
        # A 200 answer failing 2 of 5 records, and a request the capture cut after 3 of its records.
        c = Conn(cli=("10.0.0.1", 46000))
        body = json.dumps({"StreamName": "orders", "Records": [{"Data": "YQ==", "PartitionKey": f"k{j}"}
                                                                for j in range(5)]})
        answer = {"FailedRecordCount": 2, "Records": [
            {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"},
            {"SequenceNumber": "2", "ShardId": "shardId-000000000000"},
            {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"},
            {"SequenceNumber": "3", "ShardId": "shardId-000000000000"}]}
        segs = c.handshake() + c.c2s(request("PutRecords", body)) + c.s2c(response(200, answer))
        cut = json.dumps({"StreamName": "orders", "Records": [{"Data": "YQ==", "PartitionKey": f"c{j}"}
                                                               for j in range(20)]})
        segs += c.c2s(request("PutRecords", cut), mss=200)[:2]
        pcap = write_pcap(os.path.join(self.tmp.name, "failed.pcap"), segs)
        snap = pcap + ".snap.jsonl"
        subprocess.run([kintape_bin(), "capture", "-r", pcap, "-o", snap, "-q"], check=True, timeout=60)
        p = run("stats", snap)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("records    5 put (PutRecord, PutRecords), 2 of them not accepted", p.stdout)
        self.assertIn("not counted: 1 put requests the capture cut", p.stdout)
        self.assertRegex(p.stdout, r"PutRecords\s+2\s+1\s+5\s+2\s")
        self.assertRegex(p.stdout, r"orders\s+2\s+5\s+2\s")

    def test_ls_and_show_filters(self):
        p = run("ls", self.snap, "--op", "PutRecords")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(p.stdout.splitlines()), 4)
        p = run("show", self.snap, "--stream", "clicks", "-n", "1")
        self.assertEqual(p.returncode, 0)
        self.assertIn("X-Amz-Target: Kinesis_20131202.PutRecords", p.stdout)
        self.assertIn('"clicks"', p.stdout)
        self.assertIn("HTTP/1.1 200 OK", p.stdout)
        self.assertEqual(p.stdout.count("==="), 1)

    def test_stats_exits_1_when_its_capture_lost_data(self):
        golden = os.path.join(os.path.dirname(__file__), "..", "golden", "capture")
        p = run("stats", os.path.join(golden, "gap.snap.jsonl"))
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("NOT lossless: 1 TCP gap (300 bytes missing)", p.stdout)
        self.assertIn("DATA LOST", p.stdout)
        # An exchange the file ended inside is noted in the verdict, as capture notes it, not a failure.
        p = run("stats", os.path.join(golden, "file-ends.snap.jsonl"))
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("NOT lossless: 1 exchange incomplete", p.stdout)
        self.assertNotIn("DATA LOST", p.stdout)

    def test_cut_snapshot(self):
        data = open(self.snap, "rb").read()
        lines = data.split(b"\n")
        cut = os.path.join(self.tmp.name, "cut.snap.jsonl")
        with open(cut, "wb") as f:
            f.write(b"\n".join(lines[:4]) + b"\n" + lines[4][:50])
        p = run("stats", cut)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cut.snap.jsonl:5: the file ends in the middle of this line", p.stderr)
        self.assertIn("NO END RECORD", p.stdout)
        self.assertIn("exchanges  3,", p.stdout)
        p = run("ls", cut)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stdout.splitlines()), 3)

    def test_refused_files(self):
        v2 = os.path.join(self.tmp.name, "v2.snap.jsonl")
        with open(v2, "w") as f:
            f.write('{"kintape_snapshot": 2, "minor": 0}\n')
        p = run("stats", v2)
        self.assertEqual(p.returncode, 2)
        self.assertIn("version 2 is not supported", p.stderr)
        p = run("stats", "/nonexistent.snap.jsonl")
        self.assertEqual(p.returncode, 2)
        p = run("frobnicate", self.snap)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown subcommand", p.stderr)


if __name__ == "__main__":
    unittest.main()
