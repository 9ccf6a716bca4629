"""kintape replay against the real emulator: every record delivered exactly once,
byte for byte and in each key's order (also under injected failures), the
PutRecords limits, the original timing, SigV4 against botocore and the AWS
CLI, and bad input."""
import base64
import csv
import datetime
import http.server
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .kt import ROOT, Emulator, boto3_client, client_env, kintape_bin, sanitized

T0 = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.timezone.utc)


def ts(seconds):
    t = T0 + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}000Z"


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        if header:
            w.writerow(header)
        w.writerows(rows)


def replay(csv_path, *args, endpoint=None, expect_rc=(0,), env=None, timeout=300):
    """Runs kintape replay; returns (process, report dict or None)."""
    report = csv_path + ".report.json"
    if os.path.exists(report):
        os.unlink(report)
    cmd = [kintape_bin(), "replay", csv_path, "--report", report, *args]
    if endpoint:
        cmd += ["--endpoint", endpoint]
    full_env = client_env()
    for k in list(full_env):
        if k.startswith("AWS_"):
            del full_env[k]
    full_env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/kintape-test-credentials"
    full_env["AWS_CONFIG_FILE"] = "/nonexistent/kintape-test-config"
    if env:
        full_env.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
    if p.returncode not in expect_rc:
        raise AssertionError(f"replay exited {p.returncode}, expected {expect_rc}:\n{p.stderr[-4000:]}")
    if "AddressSanitizer" in p.stderr or "LeakSanitizer" in p.stderr or "runtime error:" in p.stderr:
        raise AssertionError(f"the sanitizers reported:\n{p.stderr[-6000:]}")
    rep = None
    if os.path.exists(report):
        with open(report, encoding="utf-8") as f:
            rep = json.load(f)
    return p, rep


def read_stream(emu, stream):
    """Every record of every shard: [(shard, sequence, key, data, arrival)] in shard order."""
    k = boto3_client(emu)
    out = []
    for shard in k.list_shards(StreamName=stream)["Shards"]:
        it = k.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = k.get_records(ShardIterator=it, Limit=10000)
            for rec in r["Records"]:
                out.append((shard["ShardId"], int(rec["SequenceNumber"]), rec["PartitionKey"], rec["Data"],
                            rec["ApproximateArrivalTimestamp"]))
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")
    return out


def check_delivery(test, sent, got, ordered=True):
    """sent: [(key, data)] in CSV order; got: read_stream(). Exactly once, byte for byte, each key in order.
    Returns how many records arrived after a later record of their key."""
    test.assertEqual(len(got), len(sent))
    test.assertEqual(sorted((k, d) for k, d in sent), sorted((g[2], g[3]) for g in got))
    per_key_sent, per_key_got = {}, {}
    for k, d in sent:
        per_key_sent.setdefault(k, []).append(d)
    for shard, seq, k, d, _ in sorted(got, key=lambda g: (g[0], g[1])):
        per_key_got.setdefault(k, []).append(d)
    late = 0
    for k, want in per_key_sent.items():
        got_k = per_key_got.get(k)
        if ordered:
            test.assertEqual(got_k, want, f"key {k}: records out of CSV order")
        position = {d: i for i, d in enumerate(want)}
        highest = -1
        for d in got_k:
            if position[d] < highest:
                late += 1
            highest = max(highest, position[d])
    return late


TEXTS = ["plain", "comma, and \"quotes\"", "new\nline and\r\nCRLF", "  spaces kept  ", "ünïcödé ✓ 日本",
         "{\"json\": [1, 2, 3]}", "tab\there", "x" * 3000]



def replay_on_a_terminal(args, on_output=None, columns=0):
    """Runs `kintape replay ARGS` with stderr on a pseudo-terminal (so it draws its progress line), of
    `columns` columns if given; on_output(all output so far) is called as output comes. Returns (exit
    status, output text)."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([kintape_bin(), "replay", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, env=client_env())
    os.close(slave)
    out = b""
    while True:
        if on_output:
            on_output(out)
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out.decode(errors="replace")

class TempDirCase(unittest.TestCase):
    """Each test gets its own folder, self.tmp, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kintape-replay-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class ReplayDelivery(TempDirCase):

    def make_records(self, n, keys, seed, binary):
        rnd = random.Random(seed)
        recs = []
        for i in range(n):
            key = f"key-{rnd.randrange(keys)}"
            if binary:
                data = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 300))) + i.to_bytes(4, "big")
            else:
                data = (f"{i:06d} " + rnd.choice(TEXTS)).encode()
            recs.append((key, data))
        return recs

    def deliver(self, emu, n, keys, shards, extra=(), seed=1, ordered=True):
        text = self.make_records(n, keys, seed, binary=False)
        binary = self.make_records(n, keys, seed + 1, binary=True)
        tpath = os.path.join(self.tmp, "text.csv")
        bpath = os.path.join(self.tmp, "binary.csv")
        write_csv(tpath, ["data", "ts", "partition_key"],
                  [(d.decode(), ts(i * 0.001), k) for i, (k, d) in enumerate(text)])
        write_csv(bpath, ["data_base64", "ts", "partition_key"],
                  [(base64.b64encode(d).decode(), ts(i * 0.001), k) for i, (k, d) in enumerate(binary)])
        _, rep_t = replay(tpath, "--stream", "text", "--create-stream", "--shards", str(shards), *extra,
                          endpoint=emu.url)
        _, rep_b = replay(bpath, "--stream", "bin", "--create-stream", "--shards", str(shards), *extra,
                          endpoint=emu.url)
        for rep, sent, stream in ((rep_t, text, "text"), (rep_b, binary, "bin")):
            late = check_delivery(self, sent, read_stream(emu, stream), ordered=ordered)
            # A record can only arrive late if the report counted it overtaken.
            self.assertLessEqual(late, rep["records"]["overtaken"])
            if rep["records"]["overtaken"] == 0:
                self.assertEqual(late, 0)
            self.assertEqual(rep["records"]["read"], n)
            self.assertEqual(rep["records"]["sent"], n)
            self.assertEqual(rep["records"]["failed"], 0)
        return rep_t, rep_b

    def test_every_record_once_in_key_order(self):
        with Emulator() as emu:
            rep_t, rep_b = self.deliver(emu, 4000, keys=13, shards=4)
            self.assertEqual(rep_t["records"]["retries"], 0)
            self.assertEqual(rep_t["errors"], {})
            self.assertEqual(rep_t["bytes_sent"], sum(len(k) + len(d) for k, d in
                                                      self.make_records(4000, 13, 1, False)))

    def test_injected_failures_are_retried(self):
        with Emulator(env={"KINESIS_ERROR_PROBABILITY": "0.3"}) as emu:
            # Calls fail record by record: a key's later record can get in ahead of a failed one; the
            # report counts each such record.
            rep_t, rep_b = self.deliver(emu, 1500, keys=7, shards=3, extra=("--max-retries", "40"), seed=5,
                                        ordered=False)
            self.assertGreater(rep_t["records"]["overtaken"], 0)
            for rep in (rep_t, rep_b):
                self.assertGreater(rep["records"]["retries"], 100)
                self.assertGreater(rep["errors"].get("ProvisionedThroughputExceededException", 0), 100)
                self.assertEqual(rep["errors"]["ProvisionedThroughputExceededException"],
                                 rep["records"]["retries"])

    def test_strict_order_under_injected_failures(self):
        with Emulator(env={"KINESIS_ERROR_PROBABILITY": "0.3"}) as emu:
            rep_t, rep_b = self.deliver(emu, 600, keys=40, shards=3, extra=("--max-retries", "40", "--strict-order"),
                                        seed=9)
            for rep in (rep_t, rep_b):
                self.assertEqual(rep["records"]["overtaken"], 0)
                self.assertGreater(rep["records"]["retries"], 50)
                self.assertLessEqual(rep["batches"]["max_records"], 40)

    def test_headerless_random_keys_split_and_loop(self):
        path = os.path.join(self.tmp, "plain.csv")
        datas = [f"row {i}" for i in range(600)]
        write_csv(path, None, [(d, ts(i)) for i, d in enumerate(datas)])
        with Emulator() as emu:
            boto3_client(emu).create_stream(StreamName="s", ShardCount=2)
            # Two processes, each its slice: together every record once.
            for part in ("1/2", "2/2"):
                _, rep = replay(path, "--stream", "s", "--split", part, "--partition-key", "random",
                                endpoint=emu.url)
                self.assertGreater(rep["records"]["sent"], 200)
            got = read_stream(emu, "s")
            self.assertEqual(sorted(g[3].decode() for g in got), sorted(datas))
            self.assertEqual(len({g[2] for g in got}), 600)  # a random key each
            boto3_client(emu).create_stream(StreamName="twice", ShardCount=1)
            _, rep = replay(path, "--stream", "twice", "--loop", "2", "--partition-key", "one", endpoint=emu.url)
            got = read_stream(emu, "twice")
            self.assertEqual([g[3].decode() for g in got], datas + datas)
            self.assertEqual({g[2] for g in got}, {"one"})

    def test_own_column_names_and_epoch_times(self):
        path = os.path.join(self.tmp, "own.csv")
        t0 = int(T0.timestamp() * 1000)
        write_csv(path, ["id", "message", "time", "user"],
                  [(i, f"m{i}", t0 + i * 100, f"u{i % 2}") for i in range(6)])
        with Emulator() as emu:
            _, rep = replay(path, "--stream", "own", "--create-stream", "--shards", "1", "--column", "data=message",
                            "--column", "ts=time", "--column", "partition_key=user", "--ts-format", "epoch-ms",
                            "--respect-timing", endpoint=emu.url)
            self.assertAlmostEqual(rep["schedule_s"], 0.5, places=3)
            got = read_stream(emu, "own")
            self.assertEqual([(g[2], g[3].decode()) for g in got], [(f"u{i % 2}", f"m{i}") for i in range(6)])
            # Without a mapping: the error names the columns and the --column flags that would read them.
            p, _ = replay(path, "--stream", "own", endpoint=emu.url, expect_rc=(2,))
            self.assertIn("found 'id', 'message', 'time', 'user'", p.stderr)
            self.assertIn("(e.g. --column data=message --column ts=time)", p.stderr)
            p, _ = replay(path, "--stream", "own", "--column", "data=msg", endpoint=emu.url, expect_rc=(2,))
            self.assertIn("the header has no column 'msg' (--column data=msg)", p.stderr)
            p, _ = replay(path, "--stream", "own", "--column", "data=message", "--column", "ts=time",
                          "--respect-timing", endpoint=emu.url, expect_rc=(2,))
            self.assertIn("row 2: the time '1795514400000' in column time is not an RFC 3339 time", p.stderr)

    def test_refused_attempts_are_skipped(self):
        """A CSV from `kintape extract --all-attempts`: attempts the server refused are not sent again."""
        src = os.path.join(self.tmp, "mixed.all.csv")  # a copy: the report is written beside it
        shutil.copy(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden", "extract",
                                 "mixed.all.csv"), src)
        with open(src, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        accepted = [r[0] for r in rows if not r[7]]
        with Emulator() as emu:
            k = boto3_client(emu)
            k.create_stream(StreamName="a", ShardCount=1)
            k.create_stream(StreamName="b", ShardCount=1)
            p, rep = replay(src, "--stream", "a", "--partition-key", "k", endpoint=emu.url)
            self.assertEqual(rep["records"]["refused_skipped"], 3)
            self.assertIn("9 read: 3 refused when captured (their error_code; --include-refused sends them), 6 records",
                          p.stderr)
            self.assertEqual([g[3].decode() for g in read_stream(emu, "a")], accepted)
            _, rep = replay(src, "--stream", "b", "--partition-key", "k", "--include-refused", endpoint=emu.url)
            self.assertEqual(rep["records"]["refused_skipped"], 0)
            self.assertEqual([g[3].decode() for g in read_stream(emu, "b")], [r[0] for r in rows])

    def test_stream_column_and_explicit_hash_key(self):
        path = os.path.join(self.tmp, "multi.csv")
        rows = []
        for i in range(300):
            rows.append((f"a{i}", ts(0), "k", "", "alpha"))
            rows.append((f"b{i}", ts(0), "k", str(2 ** 128 - 1), "beta"))
        write_csv(path, ["data", "ts", "partition_key", "explicit_hash_key", "stream"], rows)
        with Emulator() as emu:
            k = boto3_client(emu)
            k.create_stream(StreamName="alpha", ShardCount=1)
            k.create_stream(StreamName="beta", ShardCount=4)
            _, rep = replay(path, endpoint=emu.url)
            self.assertEqual(rep["records"]["sent"], 600)
            self.assertEqual([(x["name"], x["records"], x["sent"]) for x in rep["streams"]],
                             [("alpha", 300, 300), ("beta", 300, 300)])
            alpha = read_stream(emu, "alpha")
            beta = read_stream(emu, "beta")
            self.assertEqual([g[3].decode() for g in alpha], [f"a{i}" for i in range(300)])
            self.assertEqual([g[3].decode() for g in beta], [f"b{i}" for i in range(300)])
            self.assertEqual({g[0] for g in beta}, {"shardId-000000000003"})  # the top of the hash range


class ReplayLimits(TempDirCase):

    def test_batches_stay_within_the_limits(self):
        path = os.path.join(self.tmp, "limits.csv")
        rows, sent = [], []
        for i in range(1203):                       # the 500-record limit
            rows.append((base64.b64encode(b"s%d" % i).decode(), ts(0), "small"))
            sent.append(("small", b"s%d" % i))
        key = "K" * 256                             # keys count towards 5 MiB
        for i in range(12):                         # 6 of these are 5 MiB of data alone, over it with keys
            d = bytes([i]) * 873813
            rows.append((base64.b64encode(d).decode(), ts(0), key))
            sent.append((key, d))
        exact = b"e" * (1048576 - 5)                # data + key exactly 1 MiB: allowed
        rows.append((base64.b64encode(exact).decode(), ts(0), "exact"))
        sent.append(("exact", exact))
        over = b"o" * (1048576 - 3)                 # one byte over: not sendable, named by its row
        rows.append((base64.b64encode(over).decode(), ts(0), "over"))
        over_row = len(rows) + 1
        write_csv(path, ["data_base64", "ts", "partition_key"], rows)
        with Emulator() as emu:
            p, rep = replay(path, "--stream", "lim", "--create-stream", "--shards", "2", endpoint=emu.url,
                            expect_rc=(1,))
            self.assertIn(f"row {over_row}: not sent: data and partition key are 1048577 bytes", p.stderr)
            self.assertEqual(rep["records"]["not_sendable"], 1)
            self.assertEqual(rep["records"]["sent"], len(sent))
            self.assertEqual(rep["errors"], {})       # the emulator never refused a batch
            self.assertEqual(rep["batches"]["max_records"], 500)
            self.assertLessEqual(rep["batches"]["max_bytes"], 5 * 1024 * 1024)
            # 12 big records at most 5 a call (6 would be 5 MiB + 1.5 KiB with keys)
            self.assertGreaterEqual(rep["requests"]["total"], 3 + 3 + 1)
            check_delivery(self, sent, read_stream(emu, "lim"))
            # A larger --max-record-size is for streams configured so; the emulator's limit is 1 MiB.
            p, rep = replay(path, "--stream", "lim", "--dry-run", "--max-record-size", "2000000",
                            endpoint=emu.url)
            self.assertEqual(rep["records"]["not_sendable"], 0)
            self.assertIn("dry run", p.stderr)

    def test_dry_run_sends_nothing(self):
        path = os.path.join(self.tmp, "d.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i * 0.5)) for i in range(1234)])
        # No emulator at all: a dry run does not connect.
        p, rep = replay(path, "--stream", "nowhere", "--dry-run", "--respect-timing", "--partition-key", "one",
                        endpoint="http://127.0.0.1:9")
        self.assertIn("1234 records in", p.stderr)
        self.assertEqual(rep["records"]["sent"], 0)
        self.assertEqual(rep["batches"]["count"], 3)
        self.assertAlmostEqual(rep["schedule_s"], 616.5, places=3)


class ReplayTiming(TempDirCase):

    def test_respect_timing_follows_the_gaps(self):
        gaps = [0, 0.05, 0.05, 0.3, 0.0, 0.01, 0.5, 0.1, 0.2, 0.05, 0.25]   # 1.51 s in all
        times, t = [], 0.0
        for g in gaps:
            t += g
            times.append(t)
        path = os.path.join(self.tmp, "t.csv")
        write_csv(path, ["data", "ts", "partition_key"], [(f"t{i}", ts(x), "k") for i, x in enumerate(times)])
        with Emulator() as emu:
            for speed in (1, 2):
                stream = f"timed{speed}"
                boto3_client(emu).create_stream(StreamName=stream, ShardCount=1)
                start = time.monotonic()
                _, rep = replay(path, "--stream", stream, "--respect-timing", "--speed", str(speed),
                                endpoint=emu.url)
                wall = time.monotonic() - start
                span = times[-1] / speed
                self.assertAlmostEqual(rep["schedule_s"], span, places=3)
                self.assertAlmostEqual(rep["original_span_s"], times[-1], places=3)
                self.assertGreaterEqual(rep["duration_s"], span)
                self.assertLess(rep["duration_s"], span + 0.5)
                self.assertGreaterEqual(wall, span)
                late = rep["lateness"]
                self.assertEqual(late["count"], len(times))
                self.assertLessEqual(late["p50_ms"], late["p99_ms"])
                self.assertLessEqual(late["p99_ms"], late["max_ms"] + 0.001)
                self.assertLess(late["max_ms"], 200)
                # The emulator saw them arrive with the same gaps (arrival times are in milliseconds).
                got = read_stream(emu, stream)
                self.assertEqual([g[3].decode() for g in got], [f"t{i}" for i in range(len(times))])
                arrivals = [g[4].timestamp() for g in got]
                for i in range(1, len(times)):
                    want = (times[i] - times[0]) / speed
                    seen = arrivals[i] - arrivals[0]
                    self.assertLess(abs(seen - want), 0.1, f"record {i}: {seen:.3f}s after the first, "
                                                           f"want {want:.3f}s")
            # --max-gap shortens the long gaps: 0.3 and 0.5 become 0.1 each, 0.25 -> 0.1
            _, rep = replay(path, "--stream", "timed1", "--respect-timing", "--max-gap", "0.1",
                            endpoint=emu.url)
            self.assertAlmostEqual(rep["schedule_s"], times[-1] - 0.2 - 0.4 - 0.1 - 0.15, places=3)

    def test_rate_paces(self):
        path = os.path.join(self.tmp, "r.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(0)) for i in range(201)])
        with Emulator() as emu:
            _, rep = replay(path, "--stream", "paced", "--create-stream", "--rate", "400", endpoint=emu.url)
            self.assertEqual(rep["records"]["sent"], 201)
            self.assertGreaterEqual(rep["duration_s"], 0.5)
            self.assertLess(rep["duration_s"], 1.5)

    def test_out_of_order_times_are_counted(self):
        path = os.path.join(self.tmp, "o.csv")
        write_csv(path, ["data", "ts"], [("a", ts(0.2)), ("b", ts(0.1)), ("c", ts(0.3))])
        with Emulator() as emu:
            _, rep = replay(path, "--stream", "o", "--create-stream", "--respect-timing", endpoint=emu.url)
            self.assertEqual(rep["out_of_order"], 1)
            self.assertAlmostEqual(rep["schedule_s"], 0.1, places=3)


class StandIn(http.server.BaseHTTPRequestHandler):
    """A loopback server answering in Kinesis's JSON protocol."""

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Recorder(StandIn):
    """Keeps every request and answers as Kinesis would."""
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Recorder.seen.append((self.command, self.path, dict(self.headers.items()), body))
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith("DescribeStreamSummary"):
            out = {"StreamDescriptionSummary": {"StreamName": "sig", "StreamStatus": "ACTIVE"}}
        elif target.endswith("PutRecords"):
            n = len(json.loads(body)["Records"])
            out = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "shardId-000000000000"}] * n}
        else:
            out = {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}
        self.answer(200, out)


class ReplaySigV4(TempDirCase):

    def setUp(self):
        super().setUp()
        Recorder.seen = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        super().tearDown()

    def botocore_signature(self, method, url, headers, body, key, secret, token, region):
        """What botocore (the AWS CLI's signer) computes for this request at the same time."""
        signed = {k: v for k, v in headers.items()
                  if k.lower() in ("content-type", "x-amz-target", "x-amz-security-token")}
        req = AWSRequest(method=method, url=url, data=body, headers=signed)
        auth = SigV4Auth(Credentials(key, secret, token), "kinesis", region)
        # add_auth() with the clock set to the request's own X-Amz-Date.
        req.context["timestamp"] = headers["X-Amz-Date"]
        auth._modify_request_before_signing(req)
        canonical = auth.canonical_request(req)
        auth._inject_signature_to_request(req, auth.signature(auth.string_to_sign(req, canonical), req))
        return req.headers["Authorization"]

    def test_replay_signs_as_botocore_does(self):
        path = os.path.join(self.tmp, "s.csv")
        write_csv(path, ["data", "ts", "partition_key"], [("héllo, wörld", ts(0), "k1"), ("x", ts(1), "k2")])
        for token in (None, "FQoGZXIvYXdzEJr//////////session+token/="):
            Recorder.seen = []
            args = ["--stream", "sig", "--region", "eu-west-1", "--access-key", "AKIDEXAMPLE",
                    "--secret-key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"]
            if token:
                args += ["--session-token", token]
            replay(path, *args, endpoint=self.url)
            targets = [h.get("X-Amz-Target") for _, _, h, _ in Recorder.seen]
            self.assertEqual(targets[0], "Kinesis_20131202.DescribeStreamSummary")
            self.assertEqual(set(targets[1:]), {"Kinesis_20131202.PutRecords"})
            self.assertEqual(sum(len(json.loads(b)["Records"]) for _, _, _, b in Recorder.seen[1:]), 2)
            for method, p, headers, body in Recorder.seen:
                want = self.botocore_signature(method, self.url + p, headers, body, "AKIDEXAMPLE",
                                               "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token, "eu-west-1")
                self.assertEqual(headers["Authorization"], want)
                if token:
                    self.assertEqual(headers["X-Amz-Security-Token"], token)

    def test_https_endpoint_with_a_ca_bundle(self):
        """TLS to an https endpoint, trusting the certificate authority named by AWS_CA_BUNDLE or --ca-bundle."""
        import ssl
        key, cert = os.path.join(self.tmp, "key.pem"), os.path.join(self.tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"https://127.0.0.1:{server.server_address[1]}"
        try:
            path = os.path.join(self.tmp, "tls.csv")
            write_csv(path, ["data", "ts", "partition_key"], [("over tls", ts(0), "k")])
            # Not trusted: refused, saying why.
            p, _ = replay(path, "--stream", "sig", "--timeout", "10", endpoint=url, expect_rc=(2,))
            self.assertIn("cannot reach", p.stderr)
            self.assertRegex(p.stderr, "(?i)certificate")
            Recorder.seen = []
            replay(path, "--stream", "sig", endpoint=url, env={"AWS_CA_BUNDLE": cert})
            replay(path, "--stream", "sig", "--ca-bundle", cert, endpoint=url)
            bodies = [json.loads(b) for _, _, h, b in Recorder.seen if h.get("X-Amz-Target", "").endswith("PutRecords")]
            self.assertEqual(len(bodies), 2)
            self.assertEqual(base64.b64decode(bodies[0]["Records"][0]["Data"]), b"over tls")
            self.assertTrue(all(h["Host"] == url[len("https://"):] for _, _, h, _ in Recorder.seen))
        finally:
            server.shutdown()
            server.server_close()

    def test_same_signature_as_the_aws_cli(self):
        """The AWS CLI sends a request; kintape's signer, given the same request, computes its signature."""
        env = client_env({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                          "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
        p = subprocess.run(["aws", "--endpoint-url", self.url, "--region", "ap-southeast-2", "kinesis",
                            "put-record", "--stream-name", "sig", "--partition-key", "pk",
                            "--data", "aGVsbG8=", "--cli-binary-format", "base64"],
                           capture_output=True, text=True, env=env, timeout=120)
        if p.returncode != 0 and "cli-binary-format" in p.stderr:
            p = subprocess.run(["aws", "--endpoint-url", self.url, "--region", "ap-southeast-2", "kinesis",
                                "put-record", "--stream-name", "sig", "--partition-key", "pk", "--data", "hello"],
                               capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        method, path, headers, body = Recorder.seen[-1]
        auth = headers["Authorization"]
        signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        bodyfile = os.path.join(self.tmp, "body")
        with open(bodyfile, "wb") as f:
            f.write(body)
        lower = {k.lower(): v for k, v in headers.items()}
        tool = os.path.join(os.path.dirname(os.path.dirname(kintape_bin())),
                            "build", "san" if sanitized() else "default", "tools", "sigv4sign")
        if not os.path.exists(tool):
            tool = os.path.join(ROOT, "build", "default", "tools", "sigv4sign")
        cred_scope = auth.split("Credential=")[1].split(",")[0].split("/")
        out = subprocess.run([tool, method, path, cred_scope[2], cred_scope[3], "AKIDEXAMPLE",
                              "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", lower["x-amz-date"], bodyfile,
                              *[f"{h}:{lower[h]}" for h in signed]], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), auth)
        self.assertEqual(cred_scope[2], "ap-southeast-2")


class Refuser(StandIn):
    """Answers every call as AWS answers a key it does not know."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(400, {"__type": "UnrecognizedClientException",
                          "message": "The security token included in the request is invalid."})


class ReplayControl(TempDirCase):

    def test_bad_credentials_stop_with_the_cause(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuser)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            path = os.path.join(self.tmp, "c.csv")
            write_csv(path, ["data", "ts"], [("a", ts(0))])
            creds = os.path.join(self.tmp, "credentials")
            with open(creds, "w") as f:
                f.write("[ops]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = nope\n")
            p, _ = replay(path, "--stream", "s", "--profile", "ops", "--region", "eu-west-1",
                          endpoint=f"http://127.0.0.1:{server.server_address[1]}", expect_rc=(2,),
                          env={"AWS_SHARED_CREDENTIALS_FILE": creds})
            self.assertIn("UnrecognizedClientException", p.stderr)
            self.assertIn(f"credentials from {creds} [ops]", p.stderr)
        finally:
            server.shutdown()
            server.server_close()

    def test_interrupt_reports_what_was_sent(self):
        path = os.path.join(self.tmp, "long.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i * 0.01)) for i in range(2000)])  # 20 s
        report = path + ".json"
        with Emulator() as emu:
            p = subprocess.Popen([kintape_bin(), "replay", path, "--stream", "long", "--create-stream",
                                  "--respect-timing", "--endpoint", emu.url, "--report", report],
                                 stderr=subprocess.PIPE, text=True, env=client_env())
            time.sleep(1.5)
            p.send_signal(2)
            _, err = p.communicate(timeout=30)
            self.assertEqual(p.returncode, 1, err)
            self.assertIn("stopped: interrupted by SIGINT", err)
            rep = json.load(open(report))
            self.assertGreater(rep["records"]["sent"], 50)
            self.assertLess(rep["records"]["sent"], 1000)
            self.assertEqual(rep["records"]["sent"] + rep["records"]["not_sent"], rep["records"]["read"])
            got = read_stream(emu, "long")
            self.assertEqual(len(got), rep["records"]["sent"])

    def test_progress_line_on_a_terminal(self):
        path = os.path.join(self.tmp, "p.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i * 0.002)) for i in range(400)])
        with Emulator() as emu:
            rc, text = replay_on_a_terminal([path, "--stream", "p", "--create-stream", "--respect-timing",
                                             "--endpoint", emu.url])
            self.assertEqual(rc, 0, text)
            self.assertIn("\x1b[K", text)                 # the line is redrawn in place
            self.assertRegex(text, r"400 sent +\d+ rec/s +in flight \d+ +retries 0 +failed 0 +100\.0%")
            self.assertIn("records    400 read, 400 sent", text)

    def test_loop_whose_file_goes_away_stops_with_its_report(self):
        # The file cannot be opened again for the second pass: the replay stops and says why, the
        # progress line included, instead of reading a file it no longer has.
        path = os.path.join(self.tmp, "gone.csv")
        # More rows than the replay reads ahead, so the first pass is still being read when the file goes.
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i * 0.001)) for i in range(30000)])
        removed = []

        def remove_once(out):
            if not removed and b"sent" in out:
                os.unlink(path)  # the first pass has the file open; the second cannot open it
                removed.append(1)

        with Emulator() as emu:
            rc, text = replay_on_a_terminal([path, "--stream", "gone", "--create-stream", "--loop", "3", "--rate",
                                             "15000", "--endpoint", emu.url], remove_once)
            self.assertTrue(removed, text)
            self.assertEqual(rc, 2, text)
            self.assertIn("cannot open", text)
            self.assertIn("records    30000 read,", text)
            self.assertIn("stopped: cannot open", text)


if __name__ == "__main__":
    unittest.main()
