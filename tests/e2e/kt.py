"""Helpers for the end-to-end tests: the real emulator on a free loopback port,
the real AWS CLI and boto3 pointed at it, and raw HTTP for bad input.

Everything talks to 127.0.0.1 only, and every process started here is stopped
by the test that started it.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kintape_bin():
    return os.environ.get("KINTAPE_BIN", os.path.join(ROOT, "bin", "kintape"))


def sanitized():
    return "/san/" in kintape_bin()


def client_env(extra=None):
    """Environment for AWS clients: dummy credentials, no user config, no pager."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update({
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": "/nonexistent/kintape-test-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/kintape-test-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    if extra:
        env.update(extra)
    return env


class Emulator:
    """`kintape emulator --port 0 ...`, started and stopped by a test."""

    def __init__(self, *args, env=None, start_timeout=20):
        self.args = list(args)
        self.errfile = tempfile.NamedTemporaryFile(prefix="kintape-emu-", suffix=".log", delete=False)
        full_env = dict(os.environ)
        for k in list(full_env):
            if k.startswith("KINESIS_"):
                del full_env[k]
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            [kintape_bin(), "emulator", "--host", "127.0.0.1", "--port", "0", *self.args],
            stdout=subprocess.PIPE, stderr=self.errfile, env=full_env, text=True)
        line = ""
        deadline = time.time() + start_timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line or self.proc.poll() is not None:
                break
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r} {self.stderr()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self.https_url = f"https://127.0.0.1:{self.port}" if "https://" in line else None
        self.cert = None
        if self.https_url:
            # The next line names the certificate served (a self-signed one unless --tls-cert gave it).
            cert_line = self.proc.stdout.readline()
            m = re.search(r"^TLS certificate.*: (\S+)$", cert_line.strip())
            if not m:
                self.proc.kill()
                raise RuntimeError(f"emulator did not name its certificate: {cert_line!r}")
            self.cert = m.group(1)
            self.start_lines = line + cert_line
            if "self-signed" in cert_line:
                self.start_lines += self.proc.stdout.readline()  # how to trust it
        else:
            self.start_lines = line

    def stderr(self):
        with open(self.errfile.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; returns the exit status (non-zero if a sanitizer complained)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        rc = self.proc.returncode
        return rc

    def close(self):
        rc = self.stop()
        log = self.stderr()
        self.errfile.close()
        os.unlink(self.errfile.name)
        return rc, log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class EmulatorTestCase:
    """Mixin: one emulator for the whole class; checks it exits cleanly (no sanitizer reports)."""
    emulator_args = ()
    emulator_env = None

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(*cls.emulator_args, env=cls.emulator_env)

    @classmethod
    def tearDownClass(cls):
        rc, log = cls.emu.close()
        if rc != 0 or "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError(f"emulator exited with {rc}:\n{log[-6000:]}")


def aws(emu, *args, input_text=None, timeout=120, region="us-east-1"):
    """Runs the AWS CLI against the emulator; returns (rc, parsed JSON or text, stderr)."""
    cmd = ["aws", "--endpoint-url", emu.url, "--region", region, "--output", "json", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=client_env(), timeout=timeout,
                          input=input_text)
    out = proc.stdout
    try:
        out = json.loads(out) if out.strip() else None
    except ValueError:
        pass
    return proc.returncode, out, proc.stderr


def boto3_client(emu, region="us-east-1", url=None, verify=None, key="test", secret="test", token=None,
                 **config):
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                    aws_session_token=token, region_name=region)
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
    return session.client("kinesis", endpoint_url=url or emu.url, config=cfg, verify=verify)


AUTH = ("AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


def request_bytes(target, body, extra_headers=None, auth=AUTH, method="POST", path="/"):
    """A complete HTTP/1.1 request as the SDKs send it (Authorization is well-formed, not verified)."""
    if isinstance(body, str):
        body = body.encode()
    headers = {
        "Host": "127.0.0.1",
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Date": "20261124T000000Z",
        "Content-Length": str(len(body)),
    }
    if target is not None:
        headers["X-Amz-Target"] = target if "." in target else "Kinesis_20131202." + target
    if auth is not None:
        headers["Authorization"] = auth
    if extra_headers:
        headers.update(extra_headers)
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items() if v is not None)
    return head.encode() + b"\r\n" + body


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def read_response(sock, buf=b""):
    """Reads one HTTP response (Content-Length framed) from sock; returns (Response, leftover)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response: {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if status == 100:
        return read_response(sock, rest)
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside a response body")
        rest += chunk
    return Response(status, headers, rest[:n]), rest[n:]


def connect(emu, timeout=30):
    s = socket.create_connection(("127.0.0.1", emu.port), timeout=timeout)
    return s


def call(emu, target, body, **kw):
    """One request on a fresh connection; returns the Response."""
    with connect(emu) as s:
        s.sendall(request_bytes(target, body, **kw))
        resp, _ = read_response(s)
        return resp


def closed_by_peer(sock, timeout=10):
    """True when the server closes the connection (EOF) within timeout."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def assert_each_once_in_order(test, got, sent):
    """got, (partition key, number) pairs as read, holds every number of sent once, in order within each key."""
    test.assertEqual(sorted(v for _, v in got), sorted(sent))
    by_key = {}
    for key, v in got:
        by_key.setdefault(key, []).append(v)
    for key, vs in by_key.items():
        test.assertEqual(vs, sorted(vs), f"{key} out of order")
