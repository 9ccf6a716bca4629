"""kintape proxy against real clients and the real emulator: the forward mode
intercepting TLS for boto3 and the AWS CLI (HTTPS_PROXY, AWS_CA_BUNDLE), the
reverse mode for the AWS SDK for JavaScript v3 (h2c and HTTP/2 over TLS) and
boto3, --resign against an emulator that knows only the proxy's credentials,
answers streamed while they are written, extract and replay of what was
recorded, and the bad input a proxy meets."""
import base64
import csv
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from .kt import Emulator, boto3_client, client_env, kintape_bin, read_response, sanitized
from .test_emulator_examples import JS, PRODUCERS, npm_install

HOST = "kinesis.us-east-1.amazonaws.com"


def read_snapshot(path):
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(l) for l in f if l.strip()]
    return lines[0], [l for l in lines[1:] if "kintape_snapshot_end" not in l], lines[-1].get("kintape_snapshot_end")


class Proxy:
    """`kintape proxy --listen 127.0.0.1:0 ...`; stop() sends SIGINT and returns (rc, log)."""

    def __init__(self, out, *args):
        self.out = out
        self.errfile = tempfile.NamedTemporaryFile(prefix="kintape-proxy-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([kintape_bin(), "proxy", "--listen", "127.0.0.1:0", "-o", out, *args],
                                     stdout=subprocess.DEVNULL, stderr=self.errfile)
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r"proxy on 127\.0\.0\.1:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("proxy did not start: " + self.log())

    def log(self):
        with open(self.errfile.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        log = self.log()
        os.unlink(self.errfile.name)
        if "Sanitizer" in log or "runtime error:" in log:
            raise AssertionError("sanitizer report from the proxy:\n" + log[-6000:])
        return self.proc.returncode, log


def make_upstream_cert(d, name=HOST):
    """A self-signed certificate for name (what the test's 'real' endpoint serves)."""
    key, cert = os.path.join(d, "up-key.pem"), os.path.join(d, "up.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
                   check=True, capture_output=True)
    return cert, key


def proxied_env(proxy, ca):
    env = client_env({"HTTPS_PROXY": proxy.url, "AWS_CA_BUNDLE": ca})
    env.pop("NO_PROXY", None)
    return env


def put_and_read(env, stream, n):
    """boto3 through the environment's proxy: create, put n records, read them back."""
    script = f"""
import boto3, time
c = boto3.client("kinesis", region_name="us-east-1")
c.create_stream(StreamName="{stream}", ShardCount=1)
c.get_waiter("stream_exists").wait(StreamName="{stream}", WaiterConfig={{"Delay": 0.2}})
recs = [{{"Data": ("rec-%d" % i).encode() + bytes([0, 255]), "PartitionKey": "k%d" % i}} for i in range({n})]
assert c.put_records(StreamName="{stream}", Records=recs)["FailedRecordCount"] == 0
sh = c.list_shards(StreamName="{stream}")["Shards"][0]["ShardId"]
it = c.get_shard_iterator(StreamName="{stream}", ShardId=sh, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
print(len(c.get_records(ShardIterator=it)["Records"]))
"""
    return subprocess.run(["python3", "-c", script], capture_output=True, text=True, env=env, timeout=120)


class ForwardIntercept(unittest.TestCase):
    """HTTPS_PROXY to the proxy, which intercepts kinesis.us-east-1.amazonaws.com (mapped to the emulator)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kintape-proxy-")
        cls.ca_dir = os.path.join(cls.dir, "ca")
        p = subprocess.run([kintape_bin(), "proxy", "init-ca", "--dir", cls.ca_dir], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        cls.init_out = p.stdout
        cls.ca = os.path.join(cls.ca_dir, "ca.pem")
        cls.up_cert, up_key = make_upstream_cert(cls.dir)
        cls.emu = Emulator("--tls-cert", cls.up_cert, "--tls-key", up_key)

    @classmethod
    def tearDownClass(cls):
        rc, log = cls.emu.close()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert rc == 0, log

    def proxy(self, name, *extra):
        out = os.path.join(self.dir, name)
        return Proxy(out, "--ca-dir", self.ca_dir, "--upstream-ca", self.up_cert,
                     "--connect-to", f"{HOST}:443=127.0.0.1:{self.emu.port}", *extra), out

    def test_init_ca_key_is_private_and_says_how_to_trust_it(self):
        self.assertEqual(os.stat(os.path.join(self.ca_dir, "ca-key.pem")).st_mode & 0o777, 0o600)
        for hint in ("AWS_CA_BUNDLE=", "NODE_EXTRA_CA_CERTS=", "keytool", "curl --cacert"):
            self.assertIn(hint, self.init_out)
        again = subprocess.run([kintape_bin(), "proxy", "init-ca", "--dir", self.ca_dir], capture_output=True,
                               text=True)
        self.assertEqual(again.returncode, 0)
        self.assertIn("already there", again.stdout)

    def test_boto3_and_cli_recorded_then_extracted_and_replayed(self):
        px, out = self.proxy("fwd.snap.jsonl")
        try:
            p = put_and_read(proxied_env(px, self.ca), "fwd-boto3", 40)
            self.assertEqual(p.returncode, 0, p.stderr + px.log())
            self.assertEqual(p.stdout.strip(), "40")
            env = proxied_env(px, self.ca)
            cli = subprocess.run(["aws", "--region", "us-east-1", "kinesis", "put-record", "--stream-name",
                                  "fwd-boto3", "--partition-key", "cli", "--data", "from-cli"], capture_output=True, text=True, env=env,
                                 timeout=120)
            self.assertEqual(cli.returncode, 0, cli.stderr)
        finally:
            rc, log = px.stop()
        self.assertEqual(rc, 0, log)
        header, xs, end = read_snapshot(out)
        self.assertEqual(header["source"]["type"], "proxy")
        self.assertEqual(header["source"]["mode"], "forward")
        ops = [x["kinesis"]["operation"] for x in xs]
        for op in ("CreateStream", "PutRecords", "ListShards", "GetShardIterator", "GetRecords", "PutRecord"):
            self.assertIn(op, ops)
        self.assertTrue(all(x["http"]["response"]["status"] == 200 for x in xs), ops)
        put = next(x for x in xs if x["kinesis"]["operation"] == "PutRecords")
        self.assertIn('"PartitionKey"', put["http"]["request"]["body"])  # plaintext, not TLS
        self.assertEqual(end["exchanges"], len(xs))
        self.assertTrue(end["lossless"])
        self.assertEqual(end["handshake_failures"], 0)

        csv_path = os.path.join(self.dir, "fwd.csv")
        p = subprocess.run([kintape_bin(), "extract", out, "-o", csv_path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 41)
        with Emulator() as fresh:
            p = subprocess.run([kintape_bin(), "replay", csv_path, "--endpoint", fresh.url, "--create-stream",
                                "--stream", "fwd-boto3", "--shards", "1"], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            c = boto3_client(fresh)
            sh = c.list_shards(StreamName="fwd-boto3")["Shards"][0]["ShardId"]
            it = c.get_shard_iterator(StreamName="fwd-boto3", ShardId=sh,
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            got = sorted(r["Data"] for r in c.get_records(ShardIterator=it)["Records"])
        want = sorted([("rec-%d" % i).encode() + bytes([0, 255]) for i in range(40)] + [b"from-cli"])
        self.assertEqual(got, want)

    def test_client_that_does_not_trust_the_ca_is_told_how(self):
        px, out = self.proxy("untrusted.snap.jsonl")
        try:
            env = proxied_env(px, self.up_cert)  # trusts the upstream, not the proxy's CA
            p = put_and_read(env, "never", 1)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("SSL", p.stdout + p.stderr)
            # Other clients are unaffected.
            ok = put_and_read(proxied_env(px, self.ca), "after-untrusted", 2)
            self.assertEqual(ok.returncode, 0, ok.stderr)
        finally:
            rc, log = px.stop()
        self.assertEqual(rc, 0)
        self.assertIn("does not trust the proxy's CA", log)
        self.assertIn("AWS_CA_BUNDLE=" + self.ca, log)
        _, xs, end = read_snapshot(out)
        self.assertGreaterEqual(end["handshake_failures"], 1)
        self.assertTrue(all(x["kinesis"]["stream"] != "never" for x in xs))

    def test_upstream_with_a_certificate_not_trusted_is_a_502_and_not_recorded(self):
        out = os.path.join(self.dir, "badup.snap.jsonl")
        # No --upstream-ca: the system's trust store does not know the test's upstream certificate.
        px = Proxy(out, "--ca-dir", self.ca_dir, "--connect-to", f"{HOST}:443=127.0.0.1:{self.emu.port}")
        try:
            status, body = raw_through_connect(px, self.ca, HOST, b"POST / HTTP/1.1\r\nHost: " + HOST.encode() +
                                               b"\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "
                                               b"Kinesis_20131202.ListStreams\r\nContent-Length: 2\r\n\r\n{}")
        finally:
            rc, log = px.stop()
        self.assertEqual(status, 502)
        self.assertIn("certificate verify failed", body)
        self.assertIn("certificate verify failed", log)
        _, xs, end = read_snapshot(out)
        self.assertEqual(xs, [])
        self.assertEqual(end["upstream_failures"], 1)

    def test_bad_requests_get_clear_answers_and_the_proxy_keeps_serving(self):
        px, out = self.proxy("bad.snap.jsonl")
        try:
            cases = [
                (b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", 403, "not allowed"),
                (b"CONNECT nonsense HTTP/1.1\r\n\r\n", 400, "host:port"),
                (b"CONNECT [::1 HTTP/1.1\r\n\r\n", 400, ""),
                (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "forward proxy"),
                (b"GET http://127.0.0.1:22/ HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", 403, "may not reach"),
                (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413, "max-body"),
                (b"\x00\x01garbage\r\n\r\n", 400, "malformed"),
                (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, "malformed"),
            ]
            for raw, want, words in cases:
                with socket.create_connection(("127.0.0.1", px.port), timeout=10) as s:
                    s.sendall(raw)
                    r, _ = read_response(s)
                self.assertEqual(r.status, want, raw)
                self.assertIn(words, r.body.decode(), raw)
            # A client gone in the middle of a body, and one that speaks TLS to the proxy's own port.
            with socket.create_connection(("127.0.0.1", px.port), timeout=10) as s:
                s.sendall(b"POST http://127.0.0.1:80/ HTTP/1.1\r\nContent-Length: 100\r\n\r\nhalf")
            with socket.create_connection(("127.0.0.1", px.port), timeout=10) as s:
                s.sendall(b"\x16\x03\x01\x00\x05hello")
                s.settimeout(10)
                try:
                    self.assertEqual(s.recv(100), b"")  # closed (or reset: its bytes were never read)
                except ConnectionResetError:
                    pass
            ok = put_and_read(proxied_env(px, self.ca), "after-bad", 3)
            self.assertEqual(ok.returncode, 0, ok.stderr + px.log())
        finally:
            rc, log = px.stop()
        self.assertEqual(rc, 0, log)
        self.assertIn("speaks TLS to the proxy's port", log)

    def test_other_hosts_are_tunnelled_untouched_and_not_recorded(self):
        px, out = self.proxy("tunnel.snap.jsonl", "--allow", f"127.0.0.1:{self.emu.port}", "--allow", HOST)
        try:
            with socket.create_connection(("127.0.0.1", px.port), timeout=10) as s:
                s.sendall(f"CONNECT 127.0.0.1:{self.emu.port} HTTP/1.1\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += s.recv(1)
                self.assertIn(b" 200 ", head)
                ctx = ssl.create_default_context(cafile=self.up_cert)
                ctx.check_hostname = False
                with ctx.wrap_socket(s, server_hostname=HOST) as t:
                    # The emulator's own certificate came through: the proxy did not touch the bytes.
                    self.assertIn(HOST, str(t.getpeercert()))
                    t.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    r, _ = read_response(t)
                    self.assertEqual(r.status, 200)
            # --allow restricts: a Kinesis host that does not match is refused.
            with socket.create_connection(("127.0.0.1", px.port), timeout=10) as s:
                s.sendall(b"CONNECT kinesis.eu-west-1.amazonaws.com:443 HTTP/1.1\r\n\r\n")
                r, _ = read_response(s)
                self.assertEqual(r.status, 403)
        finally:
            rc, log = px.stop()
        _, xs, _ = read_snapshot(out)
        self.assertEqual(xs, [])


def raw_through_connect(px, ca, host, request):
    """CONNECT host:443 through the proxy, TLS trusting ca, one request; returns (status, body text)."""
    with socket.create_connection(("127.0.0.1", px.port), timeout=30) as s:
        s.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        assert b" 200 " in head, head
        ctx = ssl.create_default_context(cafile=ca)
        with ctx.wrap_socket(s, server_hostname=host) as t:
            t.sendall(request)
            r, _ = read_response(t)
            return r.status, r.body.decode(errors="replace")


class Reverse(unittest.TestCase):
    """--upstream: the clients' endpoint is the proxy."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kintape-proxy-")
        cls.ca_dir = os.path.join(cls.dir, "ca")
        subprocess.run([kintape_bin(), "proxy", "init-ca", "--dir", cls.ca_dir], check=True, capture_output=True)
        cls.ca = os.path.join(cls.ca_dir, "ca.pem")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_js_sdk_h2c_and_tls_and_boto3(self):
        npm_install()
        with Emulator() as emu:
            out = os.path.join(self.dir, "rev.snap.jsonl")
            px = Proxy(out, "--ca-dir", self.ca_dir, "--upstream", emu.url)
            try:
                for url, n in ((px.url, 600), (f"https://127.0.0.1:{px.port}", 300),
                               (f"https://localhost:{px.port}", 100)):
                    env = client_env({"KINESIS_ENDPOINT": url, "NODE_EXTRA_CA_CERTS": self.ca,
                                      "NODE_NO_WARNINGS": "1"})
                    p = subprocess.run(PRODUCERS["js"] + ["rev-js", str(n)], capture_output=True, text=True,
                                       env=env, timeout=120)
                    self.assertEqual(p.returncode, 0, p.stderr + px.log())
                c = boto3_client(emu, url=px.url)
                c.put_record(StreamName="rev-js", Data=b"from-boto3", PartitionKey="b")
                c = boto3_client(emu, url=f"https://127.0.0.1:{px.port}", verify=self.ca)
                c.put_record(StreamName="rev-js", Data=b"from-boto3-tls", PartitionKey="b")
            finally:
                rc, log = px.stop()
            self.assertEqual(rc, 0, log)
        header, xs, end = read_snapshot(out)
        self.assertEqual(header["source"]["mode"], "reverse")
        self.assertEqual(header["source"]["upstream"], emu.url)
        versions = {x["http"]["request"]["version"] for x in xs}
        self.assertEqual(versions, {"HTTP/2", "HTTP/1.1"})
        csv_path = os.path.join(self.dir, "rev.csv")
        p = subprocess.run([kintape_bin(), "extract", out, "-o", csv_path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        orders = sorted(json.loads(r["data"])["order"] for r in rows if r["data"].startswith("{"))
        self.assertEqual(orders, sorted(list(range(600)) + list(range(300)) + list(range(100))))
        self.assertEqual(sorted(r["data"] for r in rows if not r["data"].startswith("{")),
                         ["from-boto3", "from-boto3-tls"])
        self.assertTrue(end["lossless"], end)

    def test_resign_against_an_emulator_that_knows_only_the_proxys_key(self):
        with Emulator("--verify-signatures", "--access-key", "PROXYKEY", "--secret-key", "proxysecret") as emu:
            out = os.path.join(self.dir, "resign.snap.jsonl")
            px = Proxy(out, "--upstream", emu.url, "--resign", "--access-key", "PROXYKEY", "--secret-key",
                       "proxysecret", "--region", "us-east-1")
            try:
                c = boto3_client(emu, url=px.url, key="APPKEY", secret="appsecret")
                c.create_stream(StreamName="resigned", ShardCount=1)
                c.put_record(StreamName="resigned", Data=b"signed-again", PartitionKey="p")
                # Straight to the emulator, the application's key is refused: the proxy's signature did it.
                direct = boto3_client(emu, key="APPKEY", secret="appsecret")
                with self.assertRaises(Exception) as e:
                    direct.list_streams()
                self.assertIn("UnrecognizedClient", str(e.exception))
            finally:
                rc, log = px.stop()
            self.assertEqual(rc, 0, log)
        _, xs, _ = read_snapshot(out)
        auth = [h[1] for x in xs for h in x["http"]["request"]["headers"] if h[0].lower() == "authorization"]
        self.assertTrue(auth and all("Credential=APPKEY/" in a for a in auth))  # as the client sent it
        self.assertTrue(all(x["http"]["response"]["status"] == 200 for x in xs))

    def test_streamed_answer_flows_while_it_is_written(self):
        gate = threading.Event()

        class Slow(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.amazon.eventstream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i, wait in enumerate((False, True)):
                    if wait:
                        gate.wait(20)
                    chunk = b"event-%d;" % i
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        out = os.path.join(self.dir, "stream.snap.jsonl")
        px = Proxy(out, "--upstream", f"http://127.0.0.1:{srv.server_address[1]}")
        try:
            with socket.create_connection(("127.0.0.1", px.port), timeout=20) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.SubscribeToShard\r\n"
                          b"Content-Length: 2\r\n\r\n{}")
                got = b""
                while b"event-0;" not in got:
                    got += s.recv(4096)
                self.assertNotIn(b"event-1;", got)  # the first event came before the second was written
                gate.set()
                while b"0\r\n\r\n" not in got.split(b"event-1;")[-1] if b"event-1;" in got else True:
                    more = s.recv(4096)
                    self.assertTrue(more)
                    got += more
        finally:
            gate.set()
            rc, log = px.stop()
            srv.shutdown()
        _, xs, _ = read_snapshot(out)
        self.assertEqual(len(xs), 1)
        self.assertEqual(xs[0]["http"]["response"]["body"], "event-0;event-1;")
        self.assertNotIn("incomplete", xs[0])

    def test_hanging_and_refusing_upstreams(self):
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(8)
        out = os.path.join(self.dir, "hang.snap.jsonl")
        px = Proxy(out, "--upstream", f"http://127.0.0.1:{hang.getsockname()[1]}", "--upstream-timeout", "1")
        try:
            t0 = time.time()
            with socket.create_connection(("127.0.0.1", px.port), timeout=20) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                r, _ = read_response(s)
            self.assertEqual(r.status, 504)
            self.assertIn("did not answer within 1000 ms", r.body.decode())
            self.assertLess(time.time() - t0, 10)
        finally:
            rc, log = px.stop()
            hang.close()
        _, xs, end = read_snapshot(out)
        self.assertEqual(len(xs), 1)
        self.assertIn("did not answer", xs[0]["incomplete"])
        self.assertEqual(end["upstream_failures"], 1)
        # Nothing listening: 502 with the reason, nothing recorded.
        free = socket.socket()
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
        free.close()
        px = Proxy(out, "--upstream", f"http://127.0.0.1:{port}")
        try:
            with socket.create_connection(("127.0.0.1", px.port), timeout=20) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                r, _ = read_response(s)
            self.assertEqual(r.status, 502)
            self.assertIn("refused", r.body.decode().lower())
        finally:
            px.stop()
        _, xs, _ = read_snapshot(out)
        self.assertEqual(xs, [])

    def test_malformed_http2_is_answered_and_the_proxy_keeps_serving(self):
        with Emulator() as emu:
            out = os.path.join(self.dir, "badh2.snap.jsonl")
            px = Proxy(out, "--upstream", emu.url)
            try:
                preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                for junk in (b"\x00\x00\x04\x04\x00\x00\x00\x00\x00\x00\x00",  # SETTINGS, bad length
                             b"\x00\x00\x05\x01\x05\x00\x00\x00\x01\xff\xff\xff\xff\xff",  # bad HPACK
                             b"\xff" * 64):
                    with socket.create_connection(("127.0.0.1", px.port), timeout=10) as s:
                        s.sendall(preface + junk)
                        s.settimeout(10)
                        data = b""
                        while True:
                            try:
                                more = s.recv(4096)
                            except ConnectionResetError:
                                break
                            if not more:
                                break
                            data += more
                        # The proxy ends the connection (the loop above needs it closed), with a GOAWAY
                        # when it got to say one: its SETTINGS frame, then GOAWAY (type 7).
                        types, at = [], 0
                        while at + 9 <= len(data):
                            types.append(data[at + 3])
                            at += 9 + int.from_bytes(data[at:at + 3], "big")
                        self.assertTrue(not data or 7 in types, (junk, types))
                c = boto3_client(emu, url=px.url)
                c.create_stream(StreamName="after-h2", ShardCount=1)
            finally:
                rc, log = px.stop()
            self.assertEqual(rc, 0, log)


class Usage(unittest.TestCase):
    def test_bad_arguments(self):
        for args, words in ((["-o", "/tmp/x.jsonl", "--upstream", "ftp://x"], "http:// or https://"),
                            (["-o", "/tmp/x.jsonl", "--resign"], "--upstream"),
                            (["-o", "/tmp/x.jsonl", "--ca-dir", "/nonexistent/ca"], "init-ca"),
                            (["-o", "/tmp/x.jsonl", "--listen", "nope"], "HOST:PORT"),
                            (["--upstream", "http://127.0.0.1:1"], "-o"),
                            (["-o", "/tmp/x.jsonl", "--upstream", "http://127.0.0.1:1", "--connect-to", "a=b"],
                             "HOST:PORT=ADDRESS:PORT")):
            p = subprocess.run([kintape_bin(), "proxy", *args], capture_output=True, text=True,
                               env=dict(os.environ, HOME="/nonexistent"))
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(words, p.stderr, args)


if __name__ == "__main__":
    unittest.main()
