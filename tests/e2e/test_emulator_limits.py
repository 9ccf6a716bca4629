"""The emulator under abuse: clients that never read their answers, send a
byte a second, open more connections than allowed, or speak an HTTP version
that does not exist. Raw sockets; the emulator's resident size is read from
the kernel (/proc/PID/status) while it happens."""
import base64
import json
import os
import re
import socket
import struct
import time
import unittest

from .kt import AUTH, Emulator, call, closed_by_peer, connect, read_response, request_bytes, sanitized
from .test_emulator_http2 import PREFACE, frame, request_frames


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health_ms(emu):
    """Time of one GET /health on a new connection, in milliseconds."""
    t0 = time.monotonic()
    with connect(emu, timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        r, _ = read_response(s)
    assert r.status == 200, r.body
    return (time.monotonic() - t0) * 1000, r.json()


class NeverReadAnswers(unittest.TestCase):
    """100 pipelined GetRecords {"Limit": 10000} a connection against 100,000 records of 1 KB,
    the answers never read: over HTTP/1.1 on four connections and HTTP/2 on one."""

    RECORDS = 20000 if sanitized() else 100000

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator("--workers", "2")
        r = call(cls.emu, "CreateStream", json.dumps({"StreamName": "big", "ShardCount": 1}))
        assert r.status == 200, r.body
        data = base64.b64encode(b"x" * 1024).decode()
        body = json.dumps({"StreamName": "big", "Records": [{"Data": data, "PartitionKey": "k"}] * 500})
        with connect(cls.emu, timeout=120) as s:
            rest = b""
            for _ in range(cls.RECORDS // 500):
                s.sendall(request_bytes("PutRecords", body))
                r, rest = read_response(s, rest)
                assert r.status == 200 and r.json()["FailedRecordCount"] == 0, r.body
        r = call(cls.emu, "GetShardIterator", json.dumps(
            {"StreamName": "big", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}))
        cls.iterator = r.json()["ShardIterator"]

    @classmethod
    def tearDownClass(cls):
        rc, log = cls.emu.close()
        assert rc == 0, log

    def attack_http1(self):
        s = connect(self.emu)
        one = request_bytes("GetRecords", json.dumps({"ShardIterator": self.iterator, "Limit": 10000}))
        s.sendall(one * 100)
        return s

    def attack_http2(self):
        s = connect(self.emu)
        # The largest windows a client may grant, so nothing but the emulator's own caps holds the answers back.
        settings = frame(4, 0, 0, struct.pack(">HI", 4, 2 ** 31 - 1))
        window = frame(8, 0, 0, struct.pack(">I", 2 ** 31 - 1 - 65535))
        body = json.dumps({"ShardIterator": self.iterator, "Limit": 10000}).encode()
        s.sendall(PREFACE + settings + window + b"".join(request_frames(1 + 2 * i, "GetRecords", body)
                                                         for i in range(100)))
        return s

    def test_memory_stays_bounded_and_others_are_served(self):
        pid = self.emu.proc.pid
        base = rss_mib(pid)
        socks = [self.attack_http1() for _ in range(4)] + [self.attack_http2()]
        worst_rss, worst_ms, samples = base, 0.0, 0
        t_end = time.monotonic() + 4
        while time.monotonic() < t_end:
            # From the first moment: the attackers' first answers (14 MB each) are being made meanwhile.
            ms, _ = health_ms(self.emu)
            worst_ms = max(worst_ms, ms)
            worst_rss = max(worst_rss, rss_mib(pid))
            samples += 1
            time.sleep(0.02)
        self.assertGreater(samples, 20)
        if not sanitized():  # ASan's own memory and pace are not the emulator's
            # Caps: 8 MiB of unsent answers a connection (plus the one being written), 256 MiB in all.
            self.assertLess(worst_rss - base, 250, f"resident MiB grew from {base:.0f} to {worst_rss:.0f}")
            self.assertLess(worst_ms, 50, f"/health took {worst_ms:.1f} ms at worst over {samples} calls")
        # The clients go away: so does their queued work, and the memory it held.
        for s in socks:
            s.close()
        time.sleep(1.0)
        c0 = cpu_seconds(pid)
        time.sleep(1.0)
        self.assertLess(cpu_seconds(pid) - c0, 0.3, "the emulator kept working for clients that had gone")
        _, h = health_ms(self.emu)
        self.assertEqual(h["unsent_bytes"], 0, h)
        self.assertEqual(h["connections"], 1, h)


class SlowAndTooMany(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator("--request-timeout", "2", "--max-connections", "8", "--verbose")

    @classmethod
    def tearDownClass(cls):
        rc, log = cls.emu.close()
        assert rc == 0, log

    def test_a_byte_a_second_gets_408(self):
        req = request_bytes("ListStreams", "{}")
        with connect(self.emu) as s:
            t0 = time.monotonic()
            answer = b""
            s.settimeout(0.5)
            for i in range(len(req)):  # far slower than the 2 s the request may take
                try:
                    s.sendall(req[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                answer += chunk
                if b"\r\n\r\n" in answer:
                    break
            took = time.monotonic() - t0
            r, _ = read_response(s, answer)
        self.assertEqual(r.status, 408, r.body)
        self.assertEqual(r.json()["__type"], "RequestTimeoutException")
        self.assertIn("--request-timeout", r.json()["message"])
        self.assertLess(took, 6)
        # A slow body: the headers in time, then one byte a second of a 1000-byte body.
        head = (b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
                b"Content-Length: 1000\r\n\r\n")
        with connect(self.emu) as s:
            s.sendall(head)
            s.settimeout(0.6)
            answer = b""
            for _ in range(20):
                try:
                    s.sendall(b" ")
                except (BrokenPipeError, ConnectionResetError):
                    break
                try:
                    answer += s.recv(4096)
                except socket.timeout:
                    continue
                if b"\r\n\r\n" in answer:
                    break
            r, _ = read_response(s, answer)
            self.assertEqual(r.status, 408)
        h = json.loads(call(self.emu, None, "", method="GET", path="/health").body)
        self.assertGreaterEqual(h["requests_timed_out"], 2)
        self.assertIn("request timed out", self.emu.stderr())

    def test_slow_first_bytes_of_http2_preface(self):
        with connect(self.emu) as s:
            s.sendall(PREFACE[:5])  # could still become HTTP/2: then nothing more
            self.assertTrue(closed_by_peer(s, timeout=6))

    def test_connections_past_the_limit_get_503(self):
        # Eight connections the emulator has taken, each proved by an answer on it: a connection
        # of an earlier call that the emulator has not seen close yet may still hold a place, and
        # then one of these is refused: it is dropped and opened again.
        held = []
        deadline = time.monotonic() + 15
        try:
            while len(held) < 8:
                self.assertLess(time.monotonic(), deadline, "the emulator did not take 8 connections")
                s = connect(self.emu)
                try:
                    s.sendall(request_bytes(None, "", method="GET", path="/health"))
                    status = read_response(s)[0].status
                except ConnectionResetError:  # refused before it read the request
                    status = 503
                if status == 200:
                    held.append(s)
                else:
                    self.assertEqual(status, 503)
                    s.close()
                    time.sleep(0.05)
            with connect(self.emu) as s:
                s.settimeout(5)
                r, _ = read_response(s)
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json()["__type"], "ServiceUnavailableException")
            self.assertIn("--max-connections", r.json()["message"])
        finally:
            for s in held:
                s.close()
        deadline = time.monotonic() + 10  # served again once the emulator has seen them close
        while True:
            try:
                status = call(self.emu, "ListStreams", "{}").status
            except ConnectionResetError:
                status = 503
            if status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200)
        self.assertGreaterEqual(json.loads(call(self.emu, None, "", method="GET", path="/health").body)
                                ["connections_refused"], 1)
        self.assertIn("connection refused with 503", self.emu.stderr())

    def test_unknown_http_version_gets_505(self):
        with connect(self.emu) as s:
            s.sendall(request_bytes("ListStreams", "{}").replace(b"HTTP/1.1", b"HTTP/9.9", 1))
            r, _ = read_response(s)
            self.assertEqual(r.status, 505)
            self.assertEqual(r.json()["__type"], "HttpVersionNotSupportedException")
            self.assertIn("HTTP/9.9", r.json()["message"])

    def test_verbose_logs_each_protocol_error_with_the_peer(self):
        ports = []
        for junk in (b"HELLO\r\n\r\n", b"POST / HTTP/1.1\r\nBad Header\r\n\r\n", b"GET / HTTP/3.0\r\n\r\n"):
            with connect(self.emu) as s:
                ports.append(s.getsockname()[1])
                s.sendall(junk)
                read_response(s)
        time.sleep(0.2)
        log = self.emu.stderr()
        for port in ports:
            self.assertIn(f"127.0.0.1:{port} (HTTP/1.1): ", log)


if __name__ == "__main__":
    unittest.main()
