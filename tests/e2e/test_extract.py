"""kintape extract: the round trip through real parts (boto3 -> emulator, captured
on lo -> snapshot -> CSV), and bad input."""
import base64
import csv
import io
import json
import os
import random
import signal
import subprocess
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

from .kt import Emulator, boto3_client, kintape_bin
from .pcapgen import Conn, request, response, write_pcap

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden", "extract")


def extract(*args, expect_rc=(0,)):
    p = subprocess.run([kintape_bin(), "extract", *args], capture_output=True, timeout=300)
    if p.returncode not in expect_rc:
        raise AssertionError(f"extract exited {p.returncode}: {p.stderr.decode()}")
    return p


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


class RoundTrip(unittest.TestCase):

    def test_boto3_records_come_out_exactly(self):
        tmp = tempfile.mkdtemp(prefix="kintape-rt-")
        emu = Emulator(env={"KINESIS_ERROR_PROBABILITY": "0.3"})
        try:
            snap = os.path.join(tmp, "rt.snap.jsonl")
            cap = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(emu.port), "-o", snap],
                                   stderr=subprocess.PIPE, text=True)
            self.assertIn("capturing on lo", cap.stderr.readline())
            time.sleep(0.3)
            k = boto3_client(emu)
            k.create_stream(StreamName="rt", ShardCount=3)
            rnd = random.Random(42)
            sent = []   # (data, key) in the order they were finally accepted
            accepted = {}  # (data, key) -> (shard, seq)
            for batch in range(6):
                recs = []
                for i in range(80):
                    kind = rnd.randrange(3)
                    if kind == 0:
                        data = rnd.randbytes(rnd.randrange(0, 2000))  # binary, sometimes empty
                    elif kind == 1:
                        data = f'text "{batch}-{i}", with, commas\nand lines é'.encode()
                    else:
                        data = bytes(rnd.randrange(32, 127) for _ in range(rnd.randrange(1, 300)))
                    recs.append({"Data": data, "PartitionKey": f"key-{rnd.randrange(50)}"})
                pending = recs
                for attempt in range(30):
                    r = k.put_records(StreamName="rt", Records=pending)
                    retry = []
                    for rec, res in zip(pending, r["Records"]):
                        if "ErrorCode" in res:
                            retry.append(rec)
                        else:
                            sent.append((rec["Data"], rec["PartitionKey"]))
                            accepted[(rec["Data"], rec["PartitionKey"], len(sent))] = (res["ShardId"],
                                                                                     res["SequenceNumber"])
                    pending = retry
                    if not pending:
                        break
                self.assertEqual(pending, [])
            for i in range(20):
                data, key = f"single-{i}".encode(), "single"
                while True:
                    try:
                        r = k.put_record(StreamName="rt", Data=data, PartitionKey=key)
                        break
                    except ClientError as e:
                        self.assertEqual(e.response["Error"]["Code"], "ProvisionedThroughputExceededException")
                sent.append((data, key))
                accepted[(data, key, len(sent))] = (r["ShardId"], r["SequenceNumber"])
            time.sleep(0.3)
            cap.send_signal(signal.SIGINT)
            _, err = cap.communicate(timeout=60)
            self.assertEqual(cap.returncode, 0, err)

            out = os.path.join(tmp, "rt.csv")
            p = extract(snap, "-o", out)
            self.assertIn(b"records the server rejected", p.stderr)
            header, rows = read_csv(out)
            self.assertEqual(header, ["data_base64", "ts", "partition_key", "explicit_hash_key", "stream",
                                      "shard_id", "sequence_number"])
            self.assertEqual(len(rows), len(sent))
            expected = [(d, key, *accepted[(d, key, i + 1)]) for i, (d, key) in enumerate(sent)]
            got = [(base64.b64decode(r[0]), r[2], r[5], r[6]) for r in rows]
            self.assertEqual(got, expected)
            self.assertTrue(all(r[4] == "rt" for r in rows))
            ts = [r[1] for r in rows]
            self.assertEqual(ts, sorted(ts))
            # --all-attempts adds the throttled attempts, with their error code.
            allout = os.path.join(tmp, "all.csv")
            extract(snap, "-o", allout, "--all-attempts")
            h2, rows2 = read_csv(allout)
            self.assertEqual(h2[-1], "error_code")
            throttled = [r for r in rows2 if r[-1]]
            self.assertGreater(len(throttled), 50)
            self.assertEqual({r[-1] for r in throttled}, {"ProvisionedThroughputExceededException"})
            self.assertEqual(len(rows2) - len(throttled), len(sent))
        finally:
            rc, log = emu.close()
            self.assertEqual(rc, 0, log)
            subprocess.run(["rm", "-rf", tmp])


class BadInput(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kintape-xbad-")
        self.lines = open(os.path.join(GOLDEN, "mixed.snap.jsonl"), encoding="utf-8").read().splitlines()

    def tearDown(self):
        self.tmp.cleanup()

    def snap(self, lines):
        path = os.path.join(self.tmp.name, "s.snap.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def test_bad_line_is_named_and_skip_bad_counts_it(self):
        lines = self.lines[:]
        lines.insert(3, '{"ts_ns": 1, "http": {"request": ')
        path = self.snap(lines)
        p = extract(path, "-o", path + ".csv", expect_rc=(2,))
        self.assertIn(b"s.snap.jsonl:4: truncated JSON", p.stderr)
        p = extract(path, "-o", path + ".csv", "--skip-bad", expect_rc=(1,))
        self.assertIn(b"1 problem skipped (--skip-bad)", p.stderr)
        _, rows = read_csv(path + ".csv")
        self.assertEqual(len(rows), 6)

    def test_body_that_is_not_put_records(self):
        x = json.loads(self.lines[1])
        x["http"]["request"]["body"] = '{"StreamName": "orders", "Records": 7}'
        path = self.snap([self.lines[0], json.dumps(x), self.lines[-1]])
        p = extract(path, "-o", path + ".csv", expect_rc=(2,))
        self.assertIn(b"s.snap.jsonl:2: the PutRecords request has no Records array", p.stderr)
        x["http"]["request"]["body"] = "not json at all"
        path = self.snap([self.lines[0], json.dumps(x), self.lines[-1]])
        p = extract(path, "-o", path + ".csv", expect_rc=(2,))
        self.assertIn(b"s.snap.jsonl:2: the request body is not a JSON object", p.stderr)

    def test_invalid_base64_data(self):
        x = json.loads(self.lines[1])
        body = json.loads(x["http"]["request"]["body"])
        body["Records"][3]["Data"] = "@@@@"
        x["http"]["request"]["body"] = json.dumps(body)
        path = self.snap([self.lines[0], json.dumps(x), self.lines[-1]])
        p = extract(path, "-o", path + ".csv", expect_rc=(2,))
        self.assertIn(b"s.snap.jsonl:2: record 4: Data is not valid base64 (character 1)", p.stderr)
        p = extract(path, "-o", path + ".csv", "--skip-bad", expect_rc=(1,))
        _, rows = read_csv(path + ".csv")
        self.assertEqual(len(rows), 3)  # 5 records, 1 throttled, 1 bad

    def test_unknown_version_and_cut_file(self):
        path = self.snap(['{"kintape_snapshot": 7}'] + self.lines[1:])
        p = extract(path, expect_rc=(2,))
        self.assertIn(b"version 7 is not supported", p.stderr)
        path = self.snap(self.lines[:3])
        p = extract(path, "-o", path + ".csv", expect_rc=(1,))
        self.assertIn(b"no end record", p.stderr)
        _, rows = read_csv(path + ".csv")
        self.assertEqual(len(rows), 5)

    def test_snapshot_cut_mid_line_gives_every_whole_line(self):
        # A capture killed mid-write: the last line stops half-way, with no end record after it.
        data = "\n".join(self.lines[:-1]) + "\n"
        path = os.path.join(self.tmp.name, "cut.snap.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write(data[:len(data) - len(self.lines[-2]) // 2 - 1])
        whole = len(self.lines) - 2  # header and whole exchanges before the cut one
        p = extract(path, "-o", path + ".csv", expect_rc=(1,))
        self.assertIn(f"cut.snap.jsonl:{whole + 1}: the file ends in the middle of this line".encode(), p.stderr)
        self.assertIn(f"the records of the {whole} whole lines before it were written".encode(), p.stderr)
        _, rows = read_csv(path + ".csv")
        full = self.snap(self.lines[:-2] + [self.lines[-1]])  # the same exchanges, whole
        extract(full, "-o", full + ".csv")
        self.assertEqual(rows, read_csv(full + ".csv")[1])
        self.assertTrue(rows)

    def test_failure_leaves_an_existing_output_as_it_was(self):
        keep = os.path.join(self.tmp.name, "keep.csv")
        with open(keep, "w") as f:
            f.write("precious\n")
        zero = os.path.join(self.tmp.name, "zero.snap")
        open(zero, "w").close()
        p = extract(zero, "-o", keep, expect_rc=(2,))
        self.assertIn(b"empty file", p.stderr)
        self.assertIn(b"keep.csv was not written (a file there is as it was)", p.stderr)
        self.assertEqual(open(keep).read(), "precious\n")
        self.assertFalse(os.path.exists(keep + ".partial"))

    def test_capture_cut_mid_request_keeps_every_accepted_record(self):
        # Two whole PutRecords of 40 records, then a third cut by the end of the pcap (as Ctrl-C,
        # --duration or --count leave a live capture): the cut one is skipped, not fatal.
        c = Conn()
        segs = c.handshake()
        accepted = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": str(i), "ShardId": "shardId-000000000000"}
                                                       for i in range(40)]}
        for k in range(3):
            body = json.dumps({"StreamName": "s", "Records": [
                {"Data": base64.b64encode(f"r{k}-{i}".encode()).decode(), "PartitionKey": "p"} for i in range(40)]})
            segs += c.c2s(request("PutRecords", body), mss=700)
            if k < 2:
                segs += c.s2c(response(200, accepted))
        segs = segs[:-2]  # the file ends inside the third request
        pcap = write_pcap(os.path.join(self.tmp.name, "cut.pcap"), segs)
        snap = pcap + ".snap.jsonl"
        subprocess.run([kintape_bin(), "capture", "-r", pcap, "-o", snap, "-q"], check=True, timeout=60)
        out = os.path.join(self.tmp.name, "cut.csv")
        p = extract(snap, "-o", out)
        _, rows = read_csv(out)
        self.assertEqual([r[0] for r in rows],
                         [f"r{k}-{i}" for k in range(2) for i in range(40)])
        self.assertIn(b"1 put requests the capture cut", p.stderr)
        self.assertFalse(os.path.exists(out + ".partial"))

    def test_failure_keeps_every_row_as_partial_and_no_whole_looking_file(self):
        # Many good rows, then a bad record: the output file is not written; FILE.partial has every row before.
        x = json.loads(self.lines[1])
        body = json.loads(x["http"]["request"]["body"])
        good = []
        for k in range(300):
            y = json.loads(self.lines[1])
            y["ts_ns"] += k
            good.append(json.dumps(y))
        body["Records"][0]["Data"] = "@@@@"
        x["http"]["request"]["body"] = json.dumps(body)
        path = self.snap([self.lines[0]] + good + [json.dumps(x), self.lines[-1]])
        out = path + ".csv"
        with open(out, "w") as f:
            f.write("an older file\n")
        p = extract(path, "-o", out, expect_rc=(2,))
        self.assertIn(b"Data is not valid base64", p.stderr)
        self.assertIn(b".csv.partial", p.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "an older file\n")  # untouched
        _, whole = read_csv(os.path.join(GOLDEN, "mixed.csv"))
        per_line = len([r for r in whole if r[1] == whole[0][1]])
        _, rows = read_csv(out + ".partial")
        self.assertEqual(len(rows), 300 * per_line)

    def test_binary_with_forced_raw(self):
        p = extract(os.path.join(GOLDEN, "binary.snap.jsonl"), "--encoding", "raw", expect_rc=(2,))
        self.assertIn(b"binary.snap.jsonl:2: record 1 is binary", p.stderr)

    def test_bad_expressions_rejected_before_reading(self):
        for args, where in ((["--filter", 'op == "PutRecord" &&'], b"at character 21"),
                            (["--filter", "status >= \"x\""], b"at character 11"),
                            (["--filter", "ts > \"yesterday\""], b"at character 6"),
                            (["--filter", "(op == \"a\""], b"expected ')'"),
                            (["--path", "http.body"], b"at character 1"),
                            (["--path", ".a[x]"], b"at character 4"),
                            (["--since", "2026-13-01"], b"--since")):
            p = extract("/nonexistent.snap.jsonl", *args, expect_rc=(2,))
            self.assertIn(where, p.stderr, args)
            self.assertNotIn(b"nonexistent", p.stderr, args)


if __name__ == "__main__":
    unittest.main()
