"""make bench, part proxy: what kintape proxy adds, side by side in one run.

- Added latency: PutRecord calls paced at 1,000 per second on one keep-alive
  connection, straight to the emulator and through the reverse proxy, plain
  and TLS; the latency percentiles of each and the difference.
- Throughput: the replay driver sending the same CSV straight to the emulator
  and through the proxy (plain and TLS); records/s of each and the ratio.
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time

BODY = json.dumps({"StreamName": "bench", "Data": "aGVsbG8gd29ybGQ=", "PartitionKey": "k"}).encode()
REQ = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
       b"X-Amz-Target: Kinesis_20131202.PutRecord\r\nAuthorization: AWS4-HMAC-SHA256 "
       b"Credential=test/20261124/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=" + b"0" * 64 +
       b"\r\nX-Amz-Date: 20261124T000000Z\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


def read_one(sock, buf):
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(rest) < n:
        rest += sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    return rest[n:]


def latencies(port, tls_ca, seconds, rate=1000):
    raw = socket.create_connection(("127.0.0.1", port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = raw
    if tls_ca:
        ctx = ssl.create_default_context(cafile=tls_ca)
        ctx.set_alpn_protocols(["http/1.1"])
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    out, buf = [], b""
    t0 = time.perf_counter()
    for i in range(int(seconds * rate)):
        due = t0 + i / rate
        while time.perf_counter() < due:
            pass
        a = time.perf_counter()
        s.sendall(REQ)
        buf = read_one(s, buf)
        out.append((time.perf_counter() - a) * 1000)
    s.close()
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99)]


def start_proxy(kt, args, out):
    p = subprocess.Popen([kt, "proxy", "--listen", "127.0.0.1:0", "-o", out, *args],
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"proxy on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        raise RuntimeError("proxy did not start: " + line)
    return p, int(m.group(1))


def stop_proxy(p):
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)


def bench_proxy(args, tmp, bench):
    kt = args.bin
    ca_dir = os.path.join(tmp, "proxy-ca")
    subprocess.run([kt, "proxy", "init-ca", "--dir", ca_dir], check=True, capture_output=True)
    ca = os.path.join(ca_dir, "ca.pem")
    seconds = max(3, min(args.duration, 10))
    print(f"\n== proxy-latency: PutRecord at 1,000 calls/s on one connection for {seconds}s, "
          f"straight to the emulator and through kintape proxy (reverse mode, recording)")
    emu, port = bench.start_server("kintape", kt, None)
    try:
        bench.create_stream(port, 4)
        direct = latencies(port, None, seconds)
        px, pport = start_proxy(kt, ["--upstream", f"http://127.0.0.1:{port}", "--ca-dir", ca_dir],
                                os.path.join(tmp, "lat.snap.jsonl"))
        try:
            plain = latencies(pport, None, seconds)
            tls = latencies(pport, ca, seconds)
        finally:
            stop_proxy(px)
        print(f"  direct        p50 {direct[0]:.3f} ms  p99 {direct[1]:.3f} ms")
        print(f"  proxy plain   p50 {plain[0]:.3f} ms  p99 {plain[1]:.3f} ms   added p50 {plain[0] - direct[0]:.3f} ms, "
              f"p99 {plain[1] - direct[1]:.3f} ms (target p99 < 1 ms)")
        print(f"  proxy TLS     p50 {tls[0]:.3f} ms  p99 {tls[1]:.3f} ms   added p50 {tls[0] - direct[0]:.3f} ms, "
              f"p99 {tls[1] - direct[1]:.3f} ms (client to proxy TLS, proxy to emulator plain)")

        n = min(args.replay_records, 300000)
        path = os.path.join(tmp, "proxy.csv")
        bench.write_records_csv(path, n, 20000)
        print(f"\n== proxy-throughput: replay of {n:,} records of 100 bytes, straight and through the proxy")
        rates = {}
        for name in ("direct", "proxy plain", "proxy TLS"):
            px = None
            endpoint = f"http://127.0.0.1:{port}"
            extra = []
            if name != "direct":
                px, pport = start_proxy(kt, ["--upstream", f"http://127.0.0.1:{port}", "--ca-dir", ca_dir],
                                        os.path.join(tmp, "tp.snap.jsonl"))
                endpoint = f"{'https' if 'TLS' in name else 'http'}://127.0.0.1:{pport}"
                if "TLS" in name:
                    extra = ["--ca-bundle", ca]
            report = os.path.join(tmp, "proxy-replay.json")
            try:
                subprocess.run([kt, "replay", path, "--stream", "bench", "--endpoint", endpoint, "--report", report,
                                "-q", *extra], check=True, capture_output=True, timeout=600)
            finally:
                if px:
                    stop_proxy(px)
            rep = json.load(open(report))
            rates[name] = rep["records_per_s"]
            line = f"  {name:<12} {rep['records_per_s']:>10,.0f} records/s, {rep['requests']['total']:,} PutRecords"
            if name != "direct":
                line += f"  = {rates[name] / rates['direct']:.2f}x direct"
                if "TLS" in name:
                    line += " (target >= 0.5x)"
            print(line)
        os.unlink(path)
    finally:
        bench.stop(emu)
