"""Crafted TCP conversations written to pcap files with libpcap (tests/tools/mkpcap.c).

A Conn produces the segments of one connection with correct sequence numbers;
a test may then reorder, duplicate, overlap or drop them before writing.
"""
import json
import os
import subprocess

from .kt import ROOT, kintape_bin


def tool_bin(name):
    """A test tool (tests/tools) built beside the kintape under test."""
    b = kintape_bin()
    if "/build/san/" in b:
        return os.path.join(os.path.dirname(b), "tools", name)
    return os.path.join(ROOT, "build", "default", "tools", name)


def mkpcap_bin():
    return tool_bin("mkpcap")


class Seg:
    def __init__(self, src, sport, dst, dport, flags, seq, ack, payload=b"", cut=0):
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport
        self.flags, self.seq, self.ack, self.payload, self.cut = flags, seq, ack, payload, cut

    def copy(self, **kw):
        s = Seg(self.src, self.sport, self.dst, self.dport, self.flags, self.seq, self.ack, self.payload, self.cut)
        for k, v in kw.items():
            setattr(s, k, v)
        return s


class Conn:
    def __init__(self, cli=("10.0.0.1", 40001), srv=("10.0.0.2", 4566), isn_c=1000, isn_s=500000):
        self.cli, self.srv = cli, srv
        self.cseq, self.sseq = isn_c, isn_s

    def handshake(self):
        c, s = self.cli, self.srv
        out = [Seg(c[0], c[1], s[0], s[1], "S", self.cseq, 0),
               Seg(s[0], s[1], c[0], c[1], "SA", self.sseq, self.cseq + 1),
               Seg(c[0], c[1], s[0], s[1], "A", self.cseq + 1, self.sseq + 1)]
        self.cseq = (self.cseq + 1) % 2 ** 32
        self.sseq = (self.sseq + 1) % 2 ** 32
        return out

    def c2s(self, data, mss=1400):
        out = []
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            out.append(Seg(self.cli[0], self.cli[1], self.srv[0], self.srv[1], "PA", self.cseq, self.sseq, chunk))
            self.cseq = (self.cseq + len(chunk)) % 2 ** 32
        return out

    def s2c(self, data, mss=1400):
        out = []
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            out.append(Seg(self.srv[0], self.srv[1], self.cli[0], self.cli[1], "PA", self.sseq, self.cseq, chunk))
            self.sseq = (self.sseq + len(chunk)) % 2 ** 32
        return out

    def close(self):
        c, s = self.cli, self.srv
        out = [Seg(c[0], c[1], s[0], s[1], "FA", self.cseq, self.sseq),
               Seg(s[0], s[1], c[0], c[1], "FA", self.sseq, self.cseq + 1)]
        self.cseq = (self.cseq + 1) % 2 ** 32
        self.sseq = (self.sseq + 1) % 2 ** 32
        return out

    def rst_from_server(self):
        return [Seg(self.srv[0], self.srv[1], self.cli[0], self.cli[1], "R", self.sseq, 0)]


def request(op, body, stream=None, extra=None, chunked=False, method="POST"):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    headers = [("Host", "kinesis.test"), ("X-Amz-Target", f"Kinesis_20131202.{op}"),
               ("Content-Type", "application/x-amz-json-1.1")]
    headers += extra or []
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        payload = b""
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            payload += b"%x\r\n" % len(part) + part + b"\r\n"
        payload += b"0\r\n\r\n"
    else:
        headers.append(("Content-Length", str(len(body))))
        payload = body
    head = f"{method} / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + payload


def response(status, body, reason="OK", chunked=False, extra=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", "r-1")]
    headers += extra or []
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        payload = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
    else:
        headers.append(("Content-Length", str(len(body))))
        payload = body
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + payload


def write_pcap(path, segs, link="ETHERNET", t0=1795560000000000000, step_ns=1000, raw_frames=()):
    """Writes the segments in list order, time stamps rising by step_ns; returns the path."""
    lines = [f"link {link}"]
    t = t0
    for s in segs:
        if isinstance(s, tuple) and s[0] == "raw":
            lines.append(f"raw {t} {s[1].hex()}")
        else:
            hexp = s.payload.hex() or "-"
            lines.append(f"tcp {t} {s.src} {s.sport} {s.dst} {s.dport} {s.flags or '-'} {s.seq} {s.ack} {hexp}"
                         + (f" {s.cut}" if s.cut else ""))
        t += step_ns
    subprocess.run([mkpcap_bin(), path], input="\n".join(lines) + "\n", text=True, check=True)
    return path
