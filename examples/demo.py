#!/usr/bin/env python3
"""`make demo`: kintape end to end on the built-in emulator.

The whole job, printing every command and its answer:
  1. starts `kintape emulator` on a free loopback port;
  2. starts `kintape capture` on lo;
  3. makes traffic: the README's quick-start with the AWS CLI (create a
     stream with 2 shards, put records, read them back, list, describe,
     delete), then an application-like boto3 producer that sends bursts of
     click events for a few seconds;
  4. stops the capture and shows `kintape snapshot stats`;
  5. `kintape extract` turns the snapshot into CSV;
  6. `kintape replay` sends the CSV to a new stream at full speed, then again
     with the original timing, each with its report, and reads both streams
     back to check every record arrived.
Live capture needs root or CAP_NET_RAW; without them the capture, extract and
replay steps say so and are skipped.
"""
import argparse
import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def banner(text):
    print(f"\n==> {text}", flush=True)


class Demo:
    def __init__(self, kintape):
        self.kintape = kintape
        self.env = dict(os.environ)
        self.env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                         "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                         "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
        self.emu = None
        self.url = None
        self.cap = None

    def start_emulator(self):
        banner("starting the emulator")
        cmd = [self.kintape, "emulator", "--port", "0"]
        print("$ " + " ".join(cmd[:2]) + " --port 0   # a free port", flush=True)
        self.emu = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.emu.stdout.readline()
        print(line.rstrip(), flush=True)
        if "https://" in line:  # then where its certificate is, and how to trust it
            for _ in range(2):
                print(self.emu.stdout.readline().rstrip(), flush=True)
        m = re.search(r"http://(127\.0\.0\.1:\d+)", line)
        if not m:
            sys.exit("demo: the emulator did not start")
        self.url = "http://" + m.group(1)

    def stop_emulator(self):
        if self.emu and self.emu.poll() is None:
            banner("stopping the emulator")
            self.emu.send_signal(signal.SIGTERM)
            self.emu.wait(timeout=30)
            print(f"emulator exited with status {self.emu.returncode}")

    def start_capture(self, snap):
        banner("capturing the traffic on lo")
        port = self.url.rsplit(":", 1)[1]
        cmd = [self.kintape, "capture", "-i", "lo", "--port", port, "-o", snap]
        print("$ kintape capture -i lo --port " + port + " -o " + snap, flush=True)
        self.cap = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        line = self.cap.stderr.readline()
        print(line.rstrip(), flush=True)
        if "capturing on" not in line:
            rest = self.cap.stderr.read()
            print(rest.rstrip())
            print("(capture step skipped: live capture needs root or CAP_NET_RAW)")
            self.cap = None
            return False
        time.sleep(0.3)
        return True

    def stop_capture(self, snap):
        if not self.cap:
            return
        time.sleep(0.3)
        self.cap.send_signal(signal.SIGINT)
        _, err = self.cap.communicate(timeout=60)
        print(err.rstrip(), flush=True)
        banner("what the capture recorded")
        print(f"$ kintape snapshot stats {snap}", flush=True)
        p = subprocess.run([self.kintape, "snapshot", "stats", snap], capture_output=True, text=True)
        print(p.stdout.rstrip(), flush=True)
        if p.returncode != 0:
            sys.exit(f"demo: snapshot stats failed: {p.stderr}")

    def extract(self, snap, csv_path):
        banner("extracting the records to CSV")
        print(f"$ kintape extract {snap} -o {csv_path}", flush=True)
        p = subprocess.run([self.kintape, "extract", snap, "-o", csv_path], capture_output=True, text=True)
        print(p.stderr.rstrip(), flush=True)
        if p.returncode != 0:
            sys.exit("demo: extract failed")
        print(f"$ head -4 {csv_path}")
        with open(csv_path, encoding="utf-8") as f:
            for _, line in zip(range(4), f):
                print(line.rstrip("\r\n"))

    def aws(self, *args, show=True):
        cmd = ["aws", "--endpoint-url", self.url, "kinesis", *args]
        if show:
            print("$ " + " ".join(shlex.quote(a) for a in cmd), flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=120)
        if p.returncode != 0:
            sys.exit(f"demo: command failed ({p.returncode}): {p.stderr}")
        out = p.stdout.strip()
        if show and out:
            print(out, flush=True)
        return json.loads(out) if out.startswith("{") else out

    def clicks(self, bursts=20, per_burst=50):
        """An application's traffic: bursts of PutRecords 100 ms apart, keyed by user."""
        import boto3
        banner(f"an application sends click events: {bursts} bursts of {per_burst} records, 100 ms apart (boto3)")
        k = boto3.client("kinesis", endpoint_url=self.url, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")
        k.create_stream(StreamName="clicks", ShardCount=2)
        k.get_waiter("stream_exists").wait(StreamName="clicks", WaiterConfig={"Delay": 1})
        n = 0
        for b in range(bursts):
            records = [{"Data": json.dumps({"user": f"u{(n + i) % 17}", "page": f"/p/{(n + i) % 9}",
                                            "n": n + i}).encode(), "PartitionKey": f"u{(n + i) % 17}"}
                       for i in range(per_burst)]
            while records:
                r = k.put_records(StreamName="clicks", Records=records)
                records = [rec for rec, res in zip(records, r["Records"]) if "ErrorCode" in res]
            n += per_burst
            time.sleep(0.1)
        print(f"sent {n} records to stream clicks", flush=True)
        return n

    def replay(self, csv_path, stream, *extra):
        cmd = [self.kintape, "replay", csv_path, "--stream", stream, "--endpoint", self.url,
               "--create-stream", "--shards", "2", *extra]
        print("$ kintape replay " + " ".join(shlex.quote(a) for a in cmd[2:]), flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        print(p.stderr.rstrip(), flush=True)
        if p.returncode != 0:
            sys.exit(f"demo: replay failed ({p.returncode})")

    def count(self, stream):
        import boto3
        k = boto3.client("kinesis", endpoint_url=self.url, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")
        total = 0
        for shard in k.list_shards(StreamName=stream)["Shards"]:
            it = k.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while it:
                r = k.get_records(ShardIterator=it, Limit=10000)
                total += len(r["Records"])
                if not r["Records"]:
                    break
                it = r.get("NextShardIterator")
        return total

    def quickstart(self):
        banner("quick-start with the AWS CLI")
        self.aws("create-stream", "--stream-name", "orders", "--shard-count", "2")
        self.aws("wait", "stream-exists", "--stream-name", "orders")
        for i, customer in enumerate(("alice", "bob", "carol"), 1):
            self.aws("put-record", "--stream-name", "orders", "--partition-key", customer,
                     "--data", json.dumps({"order": i, "customer": customer}))
        shards = self.aws("list-shards", "--stream-name", "orders")["Shards"]
        total = 0
        for shard in shards:
            it = self.aws("get-shard-iterator", "--stream-name", "orders", "--shard-id", shard["ShardId"],
                          "--shard-iterator-type", "TRIM_HORIZON", "--query", "ShardIterator", "--output", "text")
            got = self.aws("get-records", "--shard-iterator", it)
            total += len(got["Records"])
        self.aws("list-streams")
        self.aws("describe-stream-summary", "--stream-name", "orders")
        self.aws("delete-stream", "--stream-name", "orders")
        if total != 3:
            sys.exit(f"demo: read back {total} records, expected 3")
        banner("quick-start done: 3 records put and read back across 2 shards")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin", "kintape"))
    args = ap.parse_args()
    demo = Demo(os.path.abspath(args.bin))
    t0 = time.time()
    work = tempfile.mkdtemp(prefix="kintape-demo-")
    snap = os.path.join(work, "traffic.snap.jsonl")
    try:
        demo.start_emulator()
        demo.start_capture(snap)
        demo.quickstart()
        clicks = demo.clicks()
        demo.stop_capture(snap)
        if demo.cap:
            csv_path = os.path.join(work, "captured.csv")
            demo.extract(snap, csv_path)
            with open(csv_path, newline="", encoding="utf-8") as f:
                rows = sum(1 for _ in csv.reader(f)) - 1
            banner(f"replaying the {rows} captured records at full speed")
            demo.replay(csv_path, "replayed-fast")
            banner("replaying them again with the original timing")
            demo.replay(csv_path, "replayed-timed", "--respect-timing")
            banner("reading the replayed streams back")
            for stream in ("replayed-fast", "replayed-timed"):
                got = demo.count(stream)
                print(f"{stream}: {got} records (the capture held {rows}: 3 from the quick-start, "
                      f"{clicks} clicks)", flush=True)
                if got != rows:
                    sys.exit(f"demo: {stream} holds {got} records, expected {rows}")
    finally:
        if demo.cap and demo.cap.poll() is None:
            demo.cap.kill()
        demo.stop_emulator()
    print(f"\nfiles of this run are in {work}")
    print(f"\ndemo finished in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
