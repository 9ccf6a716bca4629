"""HTTP/2 with prior knowledge (what the AWS SDK for JavaScript v3 speaks),
driven by curl, plus malformed HTTP/2 sent raw."""
import json
import socket
import struct
import subprocess
import time
import unittest

from .kt import AUTH, Emulator, EmulatorTestCase, call, closed_by_peer, connect

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def hpack_int(value, prefix_bits=7):
    """An HPACK integer with an n-bit prefix (RFC 7541 5.1), first byte's high bits zero."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out, value = [limit], value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """A header as HPACK "literal without indexing, new name" (RFC 7541 6.2.2), no Huffman."""
    return b"\x00" + hpack_int(len(name)) + name + hpack_int(len(value)) + value


def frame(typ, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) + struct.pack(">I", stream) + payload


def request_frames(stream, target, body):
    headers = b"".join(hpack_literal(n, v) for n, v in (
        (b":method", b"POST"), (b":path", b"/"), (b":scheme", b"http"), (b":authority", b"127.0.0.1"),
        (b"x-amz-target", b"Kinesis_20131202." + target.encode()), (b"x-amz-date", b"20261124T000000Z"),
        (b"content-type", b"application/x-amz-json-1.1"), (b"authorization", AUTH.encode())))
    return frame(1, 0x4, stream, headers) + frame(0, 0x1, stream, body)


def read_until_done(sock, streams, timeout=10):
    """Reads frames until every stream in `streams` has ended (or GOAWAY/EOF); returns {stream: body}."""
    sock.settimeout(timeout)
    buf, bodies, ended = b"", {}, set()
    while not set(streams) <= ended:
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            typ, flags, sid, payload = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]
            buf = buf[9 + n:]
            if typ == 7:
                return bodies
            if typ == 0:
                bodies[sid] = bodies.get(sid, b"") + payload
                if flags & 1:
                    ended.add(sid)
        if set(streams) <= ended:
            break
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    return bodies


def curl_h2(emu, target, body, extra=()):
    """One call with curl over HTTP/2 with prior knowledge: (status, HTTP version, JSON body)."""
    cmd = ["curl", "-sS", "--http2-prior-knowledge", "-o", "-", "-w", "\n%{http_code} %{http_version}",
           "-X", "POST", f"{emu.url}/",
           "-H", "Content-Type: application/x-amz-json-1.1",
           "-H", f"X-Amz-Target: Kinesis_20131202.{target}",
           "-H", "X-Amz-Date: 20261124T000000Z",
           "-H", f"Authorization: {AUTH}",
           "--data-binary", "@-", *extra]
    p = subprocess.run(cmd, input=body.encode() if isinstance(body, str) else body, capture_output=True,
                       timeout=60)
    text, _, tail = p.stdout.decode().rpartition("\n")
    code, version = tail.split()
    return int(code), version, json.loads(text) if text else None


class Http2(EmulatorTestCase, unittest.TestCase):
    emulator_args = ("--max-body", "1048576", "--initialize-streams", "h2:2")

    def test_calls_over_h2(self):
        code, version, body = curl_h2(self.emu, "ListStreams", "{}")
        self.assertEqual((code, version), (200, "2"))
        self.assertIn("h2", body["StreamNames"])
        code, _, body = curl_h2(self.emu, "PutRecord", json.dumps(
            {"StreamName": "h2", "Data": "aGVsbG8=", "PartitionKey": "k"}))
        self.assertEqual(code, 200)
        self.assertEqual(len(body["SequenceNumber"]), 56)
        code, _, body = curl_h2(self.emu, "DescribeStream", json.dumps({"StreamName": "nope"}))
        self.assertEqual(code, 400)
        self.assertEqual(body["__type"], "ResourceNotFoundException")

    def test_h2_body_limit_and_bad_json(self):
        code, _, body = curl_h2(self.emu, "PutRecord", b"x" * (2 * 1024 * 1024))
        self.assertEqual(code, 413)
        self.assertEqual(body["__type"], "RequestEntityTooLargeException")
        code, _, body = curl_h2(self.emu, "PutRecord", '{"StreamName": ')
        self.assertEqual(code, 400)
        self.assertEqual(body["__type"], "SerializationException")
        self.assertIn("truncated", body["message"])

    def test_streams_in_turn_and_at_once(self):
        body = b'{"StreamName":"h2"}'
        with socket.create_connection(("127.0.0.1", self.emu.port)) as s:
            s.sendall(PREFACE + frame(4, 0, 0, b""))
            # One after another on the same connection...
            for stream in (1, 3, 5):
                s.sendall(request_frames(stream, "DescribeStreamSummary", body))
                got = read_until_done(s, [stream])
                self.assertEqual(json.loads(got[stream])["StreamDescriptionSummary"]["StreamName"], "h2")
            # ...and forty at once, each answered on its own stream.
            ids = list(range(7, 7 + 80, 2))
            s.sendall(b"".join(request_frames(i, "DescribeStreamSummary", body) for i in ids))
            got = read_until_done(s, ids)
            self.assertEqual(sorted(got), ids)
            for i in ids:
                self.assertEqual(json.loads(got[i])["StreamDescriptionSummary"]["StreamName"], "h2")

    def test_malformed_h2_closes_only_that_connection(self):
        for junk in (PREFACE + b"\x00\x00\x04\x99\x00\x00\x00\x00\x00garbage-frames",
                     PREFACE + b"\xff" * 64,
                     PREFACE[:10]):
            with connect(self.emu) as s:
                s.sendall(junk)
                if len(junk) > len(PREFACE):
                    self.assertTrue(closed_by_peer(s), junk)
        self.assertEqual(call(self.emu, "ListStreams", "{}").status, 200)


class Http2Latency(unittest.TestCase):

    def test_latency_applies_per_stream(self):
        emu = Emulator("--latency", "300")
        try:
            t0 = time.monotonic()
            code, version, _ = curl_h2(emu, "ListStreams", "{}")
            self.assertEqual((code, version), (200, "2"))
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        finally:
            rc, log = emu.close()
            self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main()
