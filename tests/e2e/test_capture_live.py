"""Live capture on lo of real clients talking to the real emulator, and the
same traffic recorded by tcpdump and read back with `capture -r` (golden:
the snapshot must hold exactly the requests the clients sent, byte for byte)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from .kt import Emulator, aws, boto3_client, kintape_bin


def snapshot(path):
    lines = [json.loads(line) for line in open(path)]
    assert lines[0]["kintape_snapshot"] == 1
    end = lines[-1].get("kintape_snapshot_end")
    return [x for x in lines if "http" in x], end


class Recorder:
    """Records what botocore puts on the wire (request bodies and X-Amz-Target), in order."""

    def __init__(self, client):
        self.sent = []
        client.meta.events.register("before-send", self.before_send)

    def before_send(self, request, **kwargs):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        self.sent.append((request.headers.get("X-Amz-Target").decode()
                          if isinstance(request.headers.get("X-Amz-Target"), bytes)
                          else request.headers.get("X-Amz-Target"), body or b""))


class LiveCapture(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kintape-live-")
        self.emu = Emulator()

    def tearDown(self):
        rc, log = self.emu.close()
        self.tmp.cleanup()
        self.assertEqual(rc, 0, log)

    def start_capture(self, out, *extra):
        p = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(self.emu.port), "-o", out, *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait until it is capturing (it says so on stderr before the loop).
        line = p.stderr.readline()
        if "capturing on lo" not in line:
            p.kill()
            raise AssertionError(f"capture did not start: {line}{p.stderr.read()}")
        time.sleep(0.3)
        return p

    def stop_capture(self, p):
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        return p.returncode, err

    def test_boto3_requests_captured_exactly(self):
        out = os.path.join(self.tmp.name, "live.snap.jsonl")
        cap = self.start_capture(out)
        k = boto3_client(self.emu)
        rec = Recorder(k)
        k.create_stream(StreamName="live", ShardCount=2)
        import random
        rnd = random.Random(5)
        for i in range(20):
            k.put_records(StreamName="live", Records=[
                {"Data": rnd.randbytes(rnd.randrange(1, 3000)), "PartitionKey": f"k{j}"} for j in range(50)])
        k.put_record(StreamName="live", Data=b"\x00\xff binary", PartitionKey="x")
        it = k.get_shard_iterator(StreamName="live", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        k.get_records(ShardIterator=it)
        rc, err = self.stop_capture(cap)
        self.assertEqual(rc, 0, err)
        xs, end = snapshot(out)
        self.assertEqual(len(xs), len(rec.sent))
        for x, (target, body) in zip(xs, rec.sent):
            self.assertEqual(dict(x["http"]["request"]["headers"])["X-Amz-Target"], target)
            self.assertEqual(x["http"]["request"]["body"].encode(), body)
            self.assertEqual(x["http"]["response"]["status"], 200)
            self.assertNotIn("incomplete", x)
        self.assertEqual([x["kinesis"]["operation"] for x in xs][:2], ["CreateStream", "PutRecords"])
        self.assertEqual(end["exchanges"], len(rec.sent))
        self.assertTrue(end["lossless"], end)
        self.assertEqual(end["dropped_kernel"], 0)
        self.assertIn("lossless", subprocess.run([kintape_bin(), "snapshot", "stats", out], capture_output=True,
                                                 text=True).stdout)

    def test_duration_and_count_stop_by_themselves(self):
        out = os.path.join(self.tmp.name, "d.snap.jsonl")
        t0 = time.monotonic()
        p = subprocess.run([kintape_bin(), "capture", "-i", "lo", "--port", str(self.emu.port), "-o", out,
                            "--duration", "1", "-q"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(time.monotonic() - t0, 10)
        xs, end = snapshot(out)
        self.assertEqual(len(xs), 0)
        self.assertIsNotNone(end)
        out = os.path.join(self.tmp.name, "c.snap.jsonl")
        cap = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(self.emu.port), "-o", out,
                                "--count", "3"], stderr=subprocess.PIPE, text=True)
        cap.stderr.readline()
        time.sleep(0.3)
        k = boto3_client(self.emu)
        for _ in range(6):
            k.list_streams()
            time.sleep(0.05)
        cap.wait(timeout=30)
        xs, end = snapshot(out)
        self.assertEqual(len(xs), 3)

    @unittest.skipUnless(shutil.which("tcpdump"), "tcpdump is not installed")
    def test_golden_tcpdump_pcap_of_aws_cli_and_boto3(self):
        pcap = os.path.join(self.tmp.name, "traffic.pcap")
        td = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-w", pcap, "tcp", "port", str(self.emu.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = td.stderr.readline()
        self.assertIn("listening", line)
        time.sleep(0.3)
        for args in (("create-stream", "--stream-name", "gold", "--shard-count", "1"),
                     ("put-record", "--stream-name", "gold", "--partition-key", "a", "--data", "from the cli"),
                     ("describe-stream-summary", "--stream-name", "gold")):
            rc, _, err = aws(self.emu, "kinesis", *args)
            self.assertEqual(rc, 0, err)
        k = boto3_client(self.emu)
        rec = Recorder(k)
        k.put_records(StreamName="gold", Records=[{"Data": b"b%d" % i, "PartitionKey": "p"} for i in range(10)])
        k.list_shards(StreamName="gold")
        time.sleep(0.3)
        td.send_signal(signal.SIGINT)
        td.communicate(timeout=30)
        out = pcap + ".snap.jsonl"
        p = subprocess.run([kintape_bin(), "capture", "-r", pcap, "--port", str(self.emu.port), "-o", out],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        xs, end = snapshot(out)
        self.assertEqual([x["kinesis"]["operation"] for x in xs],
                         ["CreateStream", "PutRecord", "DescribeStreamSummary", "PutRecords", "ListShards"])
        self.assertEqual({x["kinesis"]["stream"] for x in xs}, {"gold"})
        self.assertEqual(json.loads(xs[1]["http"]["request"]["body"])["PartitionKey"], "a")
        self.assertEqual([x["http"]["request"]["body"].encode() for x in xs[3:]], [b for _, b in rec.sent])
        self.assertTrue(all(x["http"]["response"]["status"] == 200 for x in xs))
        self.assertTrue(end["lossless"], end)


if __name__ == "__main__":
    unittest.main()


class LiveCaptureOfTls(unittest.TestCase):
    """A real TLS handshake on lo (boto3 to the emulator's https:// port): the capture says it cannot read
    it, by connection and server name, points at kintape proxy, and exits 1 (the traffic is lost)."""

    def test_tls_is_named_and_counted_as_lost(self):
        with tempfile.TemporaryDirectory(prefix="kintape-live-tls-") as tmp, Emulator() as emu:
            out = os.path.join(tmp, "tls.snap.jsonl")
            p = subprocess.Popen([kintape_bin(), "capture", "-i", "lo", "--port", str(emu.port), "-o", out],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = p.stderr.readline()
            self.assertIn("capturing on lo", line)
            time.sleep(0.3)
            c = boto3_client(emu, url=f"https://localhost:{emu.port}", verify=emu.cert)
            c.create_stream(StreamName="over-tls", ShardCount=1)
            c.list_streams()
            time.sleep(0.3)
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 1, err)
            self.assertIn("is TLS (server name localhost)", err)
            self.assertIn("kintape proxy", err)
            self.assertIn("WARNING: data was lost", err)
            xs, end = snapshot(out)
            self.assertEqual(xs, [])
            self.assertFalse(end["lossless"])
            self.assertGreaterEqual(end["tls_connections"], 1)
            self.assertEqual(end["tls_server_names"], "localhost")
            self.assertTrue(any("TLS connection" in pr and "kintape proxy" in pr for pr in end["problems"]))
            st = subprocess.run([kintape_bin(), "snapshot", "stats", out], capture_output=True, text=True)
            self.assertEqual(st.returncode, 1)
            self.assertIn("TLS connection", st.stdout)
            self.assertIn("DATA LOST", st.stdout)
            # Extract writes the (empty) CSV but says the capture lost data, and exits 1: a script can tell.
            csv_out = os.path.join(tmp, "tls.csv")
            ex = subprocess.run([kintape_bin(), "extract", out, "-o", csv_out], capture_output=True, text=True)
            self.assertEqual(ex.returncode, 1, ex.stderr)
            self.assertIn("WARNING: data was lost in the capture (", ex.stderr)
            self.assertIn("TLS connection not readable", ex.stderr)
