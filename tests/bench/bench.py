#!/usr/bin/env python3
"""`make bench`: kintape's benchmarks, each run side by side with the tools it
is compared to, so the figures that matter are ratios from one run.

emulator-putrecords: PutRecords of 500 records x 100 bytes into a 4-shard
stream over 16 keep-alive connections (wrk, 2 threads, Lua script), against
the kintape emulator, kinesalite and kinesis-mock (npm `kinesalite`,
`kinesis-local`, installed into tests/bench/.node and pinned to 127.0.0.1 by a
preload). Prints records/s, latency percentiles and kintape's ratio to each,
and the emulator's resident memory against the payload bytes it holds.

emulator-wire (wire.py): the same load over TLS, as CBOR and with
--verify-signatures, each beside plain HTTP/1.1 JSON in the same round.

emulator-fanout (fanout.py): the same load with 0, 1, 10 and 100
SubscribeToShard readers: records/s in and delivered, put-to-receipt latency.
"""
import argparse
import base64
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NODE_DIR = os.path.join(HERE, ".node")

AUTH = ("AWS4-HMAC-SHA256 Credential=bench/20261124/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64)

# Listen on 127.0.0.1 whatever address the server asks for.
PIN_JS = r"""
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || typeof args[0] === "string" && /^\d+$/.test(args[0])) {
    const rest = args.slice(1).filter((a) => typeof a !== "string");
    args = [Number(args[0]), "127.0.0.1", ...rest];
  } else if (args[0] && typeof args[0] === "object" && args[0].path === undefined) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
"""

WRK_LUA = r"""
wrk.method = "POST"
local f = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "Kinesis_20131202.PutRecords"
wrk.headers["X-Amz-Date"] = os.getenv("BENCH_DATE") or "20261124T000000Z"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("MAX %d\n", latency.max))
end
"""


def call(port, target, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=json.dumps(body).encode(), method="POST",
                                 headers={"X-Amz-Target": "Kinesis_20131202." + target, "Authorization": AUTH,
                                          "X-Amz-Date": "20261124T000000Z",
                                          "Content-Type": "application/x-amz-json-1.1"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return json.loads(e.read() or b"{}")


def wait_port(port, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            call(port, "ListStreams", {})
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def create_stream(port, shards):
    call(port, "CreateStream", {"StreamName": "bench", "ShardCount": shards})
    for _ in range(100):
        d = call(port, "DescribeStreamSummary", {"StreamName": "bench"})
        if d.get("StreamDescriptionSummary", {}).get("StreamStatus") == "ACTIVE":
            return
        time.sleep(0.1)
    raise RuntimeError("stream did not become ACTIVE")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def npm_install():
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kinesalite")) and \
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kinesis-local")):
        return
    os.makedirs(NODE_DIR, exist_ok=True)
    subprocess.run(["npm", "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                    "--loglevel=error", "kinesalite", "kinesis-local"], cwd=NODE_DIR, check=True, timeout=900)


def start_server(name, kintape, pin):
    port = free_port()
    env = dict(os.environ)
    if name == "kintape":
        cmd = [kintape, "emulator", "--port", str(port), "--quiet"]
        cwd = ROOT
        if pin is None:
            cmd = [kintape, "emulator", "--port", str(port), "--quiet"]
    elif name == "kinesalite":
        cmd = ["node", "-r", pin, os.path.join(NODE_DIR, "node_modules", "kinesalite", "cli.js"),
               "--port", str(port), "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0",
               "--shardLimit", "100"]
        cwd = NODE_DIR
    else:
        tls = free_port()
        cwd = os.path.join(NODE_DIR, "node_modules", "kinesis-local")
        cmd = ["node", "-r", pin, "main.js"]
        env.update({"KINESIS_MOCK_PLAIN_PORT": str(port), "KINESIS_MOCK_TLS_PORT": str(tls), "LOG_LEVEL": "ERROR"})
        for k in ("CREATE_STREAM", "DELETE_STREAM", "REGISTER_STREAM_CONSUMER", "START_STREAM_ENCRYPTION",
                  "STOP_STREAM_ENCRYPTION", "DEREGISTER_STREAM_CONSUMER", "MERGE_SHARDS", "SPLIT_SHARD",
                  "UPDATE_SHARD_COUNT", "UPDATE_STREAM_MODE"):
            env[k + "_DURATION"] = "0ms"
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_port(port, proc)
    return proc, port


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_wrk(port, seconds, threads, conns, lua, body_file, extra_env=None):
    """wrk against port (or a URL); extra_env overrides the Lua script's BENCH_* settings."""
    env = dict(os.environ, BENCH_BODY=body_file, BENCH_AUTH=AUTH)
    env.update(extra_env or {})
    url = port if isinstance(port, str) else f"http://127.0.0.1:{port}/"
    p = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s", "-s", lua,
                        url], capture_output=True, text=True, env=env, timeout=seconds + 120)
    out = p.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res = {"rps": float(m.group(1)) if m else 0.0, "pct": {}, "non2xx": 0, "errors": ""}
    for pm in re.finditer(r"PCT ([\d.]+) (\d+)", out):
        res["pct"][pm.group(1)] = int(pm.group(2)) / 1000.0
    mm = re.search(r"MAX (\d+)", out)
    res["max"] = int(mm.group(1)) / 1000.0 if mm else 0.0
    nm = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if nm:
        res["non2xx"] = int(nm.group(1))
    em = re.search(r"Socket errors: (.*)", out)
    if em:
        res["errors"] = em.group(1)
    res["requests"] = int(re.search(r"(\d+) requests in", out).group(1)) if "requests in" in out else 0
    return res


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bench_emulators(args, tmp):
    random.seed(7)
    records = [{"Data": base64.b64encode(random.randbytes(100)).decode(),
                "PartitionKey": f"pk-{random.randrange(10 ** 9)}"} for _ in range(500)]
    body_file = os.path.join(tmp, "putrecords.json")
    with open(body_file, "w") as f:
        json.dump({"StreamName": "bench", "Records": records}, f)
    lua = os.path.join(tmp, "putrecords.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    pin = os.path.join(tmp, "pin-loopback.js")
    with open(pin, "w") as f:
        f.write(PIN_JS)

    names = ["kintape", "kinesalite", "kinesis-mock"] if not args.only else args.only.split(",")
    if any(n != "kintape" for n in names):
        npm_install()
    print(f"\n== emulator-putrecords: PutRecords of 500 x 100-byte records, 4 shards, {args.connections} "
          f"connections, wrk -t{args.threads}, {args.duration}s per server")
    results = {}
    for name in names:
        proc, port = start_server(name, args.bin, pin)
        try:
            create_stream(port, 4)
            check = call(port, "PutRecords", {"StreamName": "bench", "Records": records})
            if check.get("FailedRecordCount") != 0:
                raise RuntimeError(f"{name}: PutRecords failed: {str(check)[:300]}")
            r = run_wrk(port, args.duration, args.threads, args.connections, lua, body_file)
            if name == "kintape":
                h = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read())
                r["rss_bytes"] = rss_kib(proc.pid) * 1024
                r["held_bytes"] = h["bytes"]
                r["held_records"] = h["records"]
            results[name] = r
        finally:
            stop(proc)
        r["records_per_s"] = r["rps"] * 500
        bad = f", {r['non2xx']} non-2xx" if r["non2xx"] else ""
        bad += f", socket errors: {r['errors']}" if r["errors"] else ""
        p = r["pct"]
        print(f"{name:>13}: {r['records_per_s']:>12,.0f} records/s  ({r['rps']:,.1f} requests/s{bad})  "
              f"latency p50 {p.get('50', 0):.1f} ms  p90 {p.get('90', 0):.1f} ms  p99 {p.get('99', 0):.1f} ms  "
              f"p99.9 {p.get('99.9', 0):.1f} ms  max {r['max']:.1f} ms", flush=True)
    k = results.get("kintape")
    if k:
        for other in ("kinesalite", "kinesis-mock"):
            if other in results and results[other]["records_per_s"] > 0:
                print(f"  kintape / {other}: {k['records_per_s'] / results[other]['records_per_s']:.1f}x records/s")
        if k.get("held_bytes"):
            print(f"  kintape memory: {k['rss_bytes'] / 2**20:,.0f} MiB resident holding "
                  f"{k['held_records']:,} records, {k['held_bytes'] / 2**20:,.0f} MiB of data and keys: "
                  f"{k['rss_bytes'] / k['held_bytes']:.2f}x")
    return results, records, lua, body_file


def timed(cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.monotonic() - t0, p


def last_line(path):
    """The last line of a file, read from its end (snapshots are gigabytes)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65536))
        return f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1].decode()


def record_pcap(port, pcap, load):
    """tcpdump on lo records the traffic to port into pcap while load() runs."""
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-B", "524288", "--immediate-mode", "-w", pcap,
                           "tcp", "port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    td.stderr.readline()
    time.sleep(0.5)
    load()
    time.sleep(0.5)
    td.send_signal(signal.SIGINT)
    td.communicate(timeout=60)


def bench_capture(args, tmp, records, lua, body_file):
    """Offline pcap to snapshot (MB/s of pcap), and a live capture under the PutRecords load."""
    if not shutil.which("tcpdump"):
        print("\n== capture: skipped (tcpdump is needed to record the pcap; apt-get install tcpdump)")
        return
    print(f"\n== capture-offline: a pcap of PutRecords traffic recorded by tcpdump, read by kintape capture -r")
    proc, port = start_server("kintape", args.bin, None)
    pcap = os.path.join(tmp, "load.pcap")
    try:
        create_stream(port, 4)
        record_pcap(port, pcap, lambda: run_wrk(port, 4, 1, 8, lua, body_file))
    finally:
        stop(proc)
    size = os.path.getsize(pcap)
    snap = os.path.join(tmp, "load.snap.jsonl")
    t_file, p = timed([args.bin, "capture", "-r", pcap, "--port", str(port), "-o", snap])
    m = re.search(r"(\d+) exchanges", p.stderr)
    t_null, _ = timed([args.bin, "capture", "-r", pcap, "--port", str(port), "-o", "/dev/null", "-q"])
    t_cp, _ = timed(["cp", pcap, pcap + ".copy"])
    os.unlink(pcap + ".copy")
    mb = size / 1e6
    print(f"  pcap {mb:,.0f} MB, {m.group(1) if m else '?'} exchanges")
    print(f"  kintape capture -r, snapshot to a file:  {mb / t_file:8,.0f} MB/s  ({t_file:.2f}s)")
    print(f"  kintape capture -r, snapshot to /dev/null: {mb / t_null:6,.0f} MB/s  ({t_null:.2f}s)")
    print(f"  cp of the same pcap (the disk's own pace): {mb / t_cp:6,.0f} MB/s  ({t_cp:.2f}s); "
          f"capture to a file / cp = {t_cp / t_file:.2f}x")
    os.unlink(snap)
    os.unlink(pcap)
    bench_capture_h2(args, tmp, body_file, mb / t_file)

    print(f"\n== capture-live: kintape capture -i lo while the emulator takes the PutRecords load "
          f"({args.connections} connections, {args.duration}s)")
    proc, port = start_server("kintape", args.bin, None)
    snap = os.path.join(tmp, "live.snap.jsonl")
    try:
        create_stream(port, 4)
        before = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read())
        cap = subprocess.Popen([args.bin, "capture", "-i", "lo", "--port", str(port), "-o", snap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cap.stderr.readline()
        time.sleep(0.5)
        r = run_wrk(port, args.duration, args.threads, args.connections, lua, body_file)
        time.sleep(1)
        h = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read())
        time.sleep(0.5)
        cap.send_signal(signal.SIGINT)
        _, err = cap.communicate(timeout=120)
    finally:
        stop(proc)
    end = json.loads(last_line(snap))["kintape_snapshot_end"]
    served = h["requests"] - before["requests"]  # API calls made while capturing
    got = end["exchanges"] - 1  # the /health request is captured too
    print(f"  load: {r['rps'] * 500:,.0f} records/s ({r['rps']:,.0f} PutRecords/s) with the capture running")
    print(f"  emulator answered {served:,} calls; the snapshot holds {got:,} exchanges "
          f"({end['complete']:,} complete): {served - got:,} lost")
    print(f"  kernel drops {end['dropped_kernel']}, interface drops {end['dropped_interface']}, TCP gaps "
          f"{end['tcp_gaps']}; snapshot {'lossless' if end['lossless'] else 'NOT lossless: ' + '; '.join(end['problems'])}")
    bench_extract(args, tmp, snap)
    os.unlink(snap)


def bench_capture_h2(args, tmp, body_file, h1_mbps):
    """The same offline capture of HTTP/2 with prior knowledge (h2c, as the JavaScript SDK sends it), h2load's
    PutRecords load recorded by tcpdump, beside the HTTP/1.1 figure above."""
    if not shutil.which("h2load"):
        print("\n== capture-offline-h2: skipped (h2load is needed: apt-get install nghttp2-client)")
        return
    print("\n== capture-offline-h2: a pcap of h2c PutRecords traffic (h2load, 8 connections, 10 streams each), "
          "read by kintape capture -r")
    proc, port = start_server("kintape", args.bin, None)
    pcap = os.path.join(tmp, "load-h2.pcap")
    try:
        create_stream(port, 4)
        record_pcap(port, pcap, lambda: subprocess.run(["h2load", "-D", "4", "-c", "8", "-m", "10", "-d", body_file, "-H",
                        "content-type: application/x-amz-json-1.1", "-H", "x-amz-target: Kinesis_20131202.PutRecords",
                        "-H", "authorization: AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/kinesis/aws4_request,"
                        " SignedHeaders=host, Signature=" + "0" * 64, f"http://127.0.0.1:{port}/"],
                       capture_output=True, timeout=120))
    finally:
        stop(proc)
    size = os.path.getsize(pcap)
    snap = os.path.join(tmp, "load-h2.snap.jsonl")
    t_file, p = timed([args.bin, "capture", "-r", pcap, "--port", str(port), "-o", snap])
    m = re.search(r"(\d+) exchanges", p.stderr)
    mb = size / 1e6
    print(f"  pcap {mb:,.0f} MB, {m.group(1) if m else '?'} exchanges (HTTP/2 streams)")
    print(f"  kintape capture -r, snapshot to a file:  {mb / t_file:8,.0f} MB/s  ({t_file:.2f}s); "
          f"HTTP/2 / HTTP/1.1 = {mb / t_file / h1_mbps:.2f}x")
    os.unlink(snap)
    os.unlink(pcap)


def run_measured(cmd):
    """Runs cmd; returns (seconds, peak resident KiB, stderr)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - t0, usage.ru_maxrss, err


def bench_extract(args, tmp, snap):
    """Snapshot to CSV: records/s, MB/s and peak memory, on the live capture's snapshot."""
    size = os.path.getsize(snap)
    csv_path = os.path.join(tmp, "live.csv")
    print(f"\n== extract: the live capture's snapshot ({size / 1e9:.2f} GB) to CSV")
    secs, rss, err = run_measured([args.bin, "extract", snap, "-o", csv_path])
    m = re.search(r"([\d]+) records from ([\d]+) requests.* as (\S+) in .*\((\d) pass", err)
    records = int(m.group(1)) if m else 0
    print(f"  {records:,} records of 100 bytes ({m.group(3) if m else '?'}, {m.group(4) if m else '?'} "
          f"pass(es)) in {secs:.2f}s: {records / secs:,.0f} records/s, {size / 1e6 / secs:,.0f} MB/s of snapshot, "
          f"{os.path.getsize(csv_path) / 1e6 / secs:,.0f} MB/s of CSV")
    print(f"  peak resident memory {rss / 1024:,.1f} MiB for a {size / 2**20:,.0f} MiB snapshot")
    os.unlink(csv_path)


def write_records_csv(path, n, per_second, keys=64):
    """n records of 100 bytes, `keys` partition keys, times per_second apart from 2026-11-24T10:00:00Z."""
    payloads = [base64.b64encode(bytes((i * 7 + j) % 256 for j in range(100))).decode() for i in range(256)]
    step_ns = 10**9 // per_second
    with open(path, "w", buffering=1 << 20) as f:
        f.write("data_base64,ts,partition_key\n")
        for i in range(n):
            ns = i * step_ns
            sec, frac = divmod(ns, 10**9)
            minute, sec = divmod(sec, 60)
            hour, minute = divmod(minute, 60)
            f.write(f"{payloads[i & 255]},2026-11-24T{10 + hour:02d}:{minute:02d}:{sec:02d}.{frac:09d}Z,"
                    f"key-{i % keys}\n")


def cpu_seconds(pid):
    """User + system CPU seconds of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_replay(args, tmp, emulator_rps):
    """Full-speed replay of 1M records (records/s, CPU per record side by side with the emulator's),
    and --respect-timing on a recording at 20,000 records/s (lateness)."""
    n = args.replay_records
    path = os.path.join(tmp, "replay.csv")
    write_records_csv(path, n, 20000)
    print(f"\n== replay-full-speed: {n:,} records of 100 bytes (64 keys) into the emulator, 4 shards")
    proc, port = start_server("kintape", args.bin, None)
    try:
        create_stream(port, 4)
        report = os.path.join(tmp, "replay.json")
        emu_cpu0 = cpu_seconds(proc.pid)
        secs, rss, err = run_measured([args.bin, "replay", path, "--stream", "bench", "--endpoint",
                                       f"http://127.0.0.1:{port}", "--report", report, "-q"])
        emu_cpu = cpu_seconds(proc.pid) - emu_cpu0
        rep = json.load(open(report))
    finally:
        stop(proc)
    sent = rep["records"]["sent"]
    per = rep["cpu_us_per_record"]
    print(f"  {sent:,} of {n:,} records sent in {rep['duration_s']:.2f}s: {rep['records_per_s']:,.0f} records/s, "
          f"{rep['requests']['total']:,} PutRecords, latency p50 {rep['latency']['p50_ms']:.1f} ms "
          f"p99 {rep['latency']['p99_ms']:.1f} ms")
    print(f"  replay CPU {rep['cpu_s']:.2f}s = {per:.2f} us per record (whole process: reading, batching, "
          f"signing, sending); peak memory {rss / 1024:,.1f} MiB")
    print(f"  emulator CPU in the same run {emu_cpu:.2f}s = {emu_cpu * 1e6 / max(sent, 1):.2f} us per record: "
          f"the emulator costs {emu_cpu / max(rep['cpu_s'], 1e-9):.1f}x the replay")
    if emulator_rps:
        print(f"  replay rate / the emulator's PutRecords capacity under wrk above: "
              f"{rep['records_per_s'] / emulator_rps:.2f}x")
    os.unlink(path)

    seconds = args.timed_seconds
    path = os.path.join(tmp, "timed.csv")
    write_records_csv(path, seconds * 20000, 20000)
    print(f"\n== replay-respect-timing: a {seconds}s recording at 20,000 records/s, --respect-timing")
    proc, port = start_server("kintape", args.bin, None)
    try:
        create_stream(port, 4)
        report = os.path.join(tmp, "timed.json")
        secs, rss, err = run_measured([args.bin, "replay", path, "--stream", "bench", "--endpoint",
                                       f"http://127.0.0.1:{port}", "--respect-timing", "--report", report, "-q"])
        rep = json.load(open(report))
    finally:
        stop(proc)
    late = rep["lateness"]
    print(f"  {rep['records']['sent']:,} records in {rep['requests']['total']:,} PutRecords; took "
          f"{rep['duration_s']:.3f}s for a {rep['schedule_s']:.3f}s schedule")
    print(f"  lateness against the schedule: p50 {late['p50_ms']:.3f} ms, p99 {late['p99_ms']:.3f} ms, "
          f"p99.9 {late['p999_ms']:.3f} ms, max {late['max_ms']:.3f} ms (target p99 < 2 ms)")
    print(f"  replay CPU {rep['cpu_s']:.2f}s ({rep['cpu_s'] * 100 / rep['duration_s']:.0f}% of one core)")
    os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin", "kintape"))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", help="comma-separated servers: kintape,kinesalite,kinesis-mock")
    ap.add_argument("--parts", default="emulator,wire,fanout,capture,replay,proxy",
                    help="benchmarks to run: emulator,wire,fanout,capture,replay,proxy")
    ap.add_argument("--replay-records", type=int, default=1000000)
    ap.add_argument("--timed-seconds", type=int, default=int(os.environ.get("BENCH_TIMED_SECONDS", "60")))
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="kintape-bench-") as tmp:
        results, records, lua, body_file = bench_emulators(args, tmp)
        if "wire" in args.parts:
            import wire
            wire.bench_wire(args, tmp, records, sys.modules[__name__], run_wrk)
        if "fanout" in args.parts:
            import fanout
            fanout.bench_fanout(args, tmp, sys.modules[__name__])
        if "capture" in args.parts:
            bench_capture(args, tmp, records, lua, body_file)
        if "replay" in args.parts:
            kt = results.get("kintape") if isinstance(results, dict) else None
            bench_replay(args, tmp, kt["rps"] * 500 if kt else None)
        if "proxy" in args.parts:
            import proxy
            proxy.bench_proxy(args, tmp, sys.modules[__name__])


if __name__ == "__main__":
    main()
