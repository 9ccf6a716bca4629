"""A CBOR client of the Kinesis API for the tests, run with Debian's own python3
(/usr/bin/python3), the interpreter that imports Debian's python3-cbor2.

Reads {"url": ..., "cafile": ..., "calls": [...]} as JSON on stdin, makes each
call over one keep-alive connection and writes the answers as JSON on stdout.
A call is {"op": NAME, "body": VALUE} (VALUE encoded with cbor2), {"op": NAME,
"raw": BASE64} (the body sent as it is), with optional "headers". Values cross
as JSON with markers: {"$bytes": BASE64} is a CBOR byte string, {"$ms": N} tag 1
with N (epoch milliseconds, as the AWS SDKs for Java send timestamps), {"$tag":
[N, VALUE]} any other tag. An answer is {"status", "content_type", "body"}
(body decoded the same way, or {"$undecodable": BASE64}). An event stream
(SubscribeToShard's application/vnd.amazon.eventstream) is read message by
message, CRCs checked: the body is {"$events": [{"headers": {...}, "payload":
VALUE}]}, each payload decoded from CBOR.
"""
import base64
import http.client
import io
import json
import ssl
import sys
import struct
import urllib.parse
import zlib

import cbor2
import cbor2.decoder as decoder

AUTH = ("AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


class EpochMs:
    def __init__(self, value):
        self.value = value


# The pure-Python decoder, with tag 1 kept as it came (cbor2 would read it as epoch seconds).
decoder.semantic_decoders[1] = lambda self: EpochMs(self._decode())


def to_cbor(v):
    if isinstance(v, dict):
        if set(v) == {"$bytes"}:
            return base64.b64decode(v["$bytes"])
        if set(v) == {"$ms"}:
            return cbor2.CBORTag(1, v["$ms"])
        if set(v) == {"$tag"}:
            return cbor2.CBORTag(v["$tag"][0], to_cbor(v["$tag"][1]))
        return {k: to_cbor(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_cbor(x) for x in v]
    return v


def from_cbor(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, EpochMs):
        return {"$ms": v.value}
    if isinstance(v, cbor2.CBORTag):
        return {"$tag": [v.tag, from_cbor(v.value)]}
    if isinstance(v, dict):
        return {str(k): from_cbor(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_cbor(x) for x in v]
    return v


def events(data):
    """The messages of an event stream, each checked against its CRCs."""
    out, i = [], 0
    while i < len(data):
        total, hlen, pcrc = struct.unpack(">III", data[i:i + 12])
        if zlib.crc32(data[i:i + 8]) != pcrc or zlib.crc32(data[i:i + total - 4]) != \
                struct.unpack(">I", data[i + total - 4:i + total])[0]:
            raise ValueError(f"event-stream CRC mismatch at byte {i}")
        h, j, end = {}, i + 12, i + 12 + hlen
        while j < end:
            n = data[j]
            name = data[j + 1:j + 1 + n].decode()
            j += 1 + n
            assert data[j] == 7, "header of type string"
            vl = struct.unpack(">H", data[j + 1:j + 3])[0]
            h[name] = data[j + 3:j + 3 + vl].decode()
            j += 3 + vl
        payload = data[end:i + total - 4]
        value = decoder.CBORDecoder(io.BytesIO(payload)).decode() if payload else None
        out.append({"headers": h, "payload": from_cbor(value) if payload else None})
        i += total
    return out


def main():
    req = json.load(sys.stdin)
    url = urllib.parse.urlsplit(req["url"])
    if url.scheme == "https":
        ctx = ssl.create_default_context(cafile=req.get("cafile"))
        conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=60)
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    out = []
    for c in req["calls"]:
        body = base64.b64decode(c["raw"]) if "raw" in c else cbor2.dumps(to_cbor(c.get("body", {})))
        headers = {"Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": "Kinesis_20131202." + c["op"],
                   "X-Amz-Date": "20261124T000000Z", "Authorization": AUTH}
        headers.update(c.get("headers", {}))
        conn.request("POST", "/", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        try:
            if r.getheader("Content-Type") == "application/vnd.amazon.eventstream":
                decoded = {"$events": events(data)}
            else:
                decoded = from_cbor(decoder.CBORDecoder(io.BytesIO(data)).decode()) if data else None
        except Exception:  # what came back is not CBOR: the test says so
            decoded = {"$undecodable": base64.b64encode(data).decode()}
        out.append({"status": r.status, "content_type": r.getheader("Content-Type"), "body": decoded})
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
