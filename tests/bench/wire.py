"""`make bench`, part "wire": what each of the emulator's wires costs, side by
side in one run. The same wrk load as emulator-putrecords (500 records x 100
bytes a call), each variant against a new kintape emulator (so none pays for what
an earlier one stored):

  plain   HTTP/1.1, JSON, any signature (the default, as in emulator-putrecords)
  tls     the same over https:// (wrk's TLS; TLS 1.3, ECDSA P-256)
  cbor    the same call as a CBOR body (application/x-amz-cbor-1.1)
  sigv4   JSON, against an emulator started with --verify-signatures: every
          request's signature is recomputed (SHA-256 of the 70 KB body included)

The variants run one after another, twice, and each is quoted with its ratio
to plain from the same round.
"""
import base64
import datetime
import hashlib
import hmac
import os
import struct
import subprocess
import urllib.request

KEY, SECRET = "AKIDBENCH", "bench-secret"


def cbor(v):
    """A small CBOR encoder (RFC 8949) for the bench's request body: maps, lists, text, bytes, ints."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for add, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | add]) + struct.pack(fmt, n)
        raise ValueError(n)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, int):
        return head(0, v)
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


def sigv4(host, amz, body, ctype, target):
    """The Authorization header for a PutRecords with these headers and body (SigV4, written here)."""
    names = ["content-type", "host", "x-amz-date", "x-amz-target"]
    values = {"content-type": ctype, "host": host, "x-amz-date": amz, "x-amz-target": target}
    creq = "\n".join(["POST", "/", "", "".join(f"{n}:{values[n]}\n" for n in names), ";".join(names),
                      hashlib.sha256(body).hexdigest()])
    scope = f"{amz[:8]}/us-east-1/kinesis/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + SECRET).encode()
    for part in (amz[:8], "us-east-1", "kinesis", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={KEY}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def bench_wire(args, tmp, records, b, run_wrk):
    """b: the bench module (servers, wrk); records: the emulator-putrecords batch."""
    raw = [{"Data": base64.b64decode(r["Data"]), "PartitionKey": r["PartitionKey"]} for r in records]
    cbor_file = os.path.join(tmp, "putrecords.cbor")
    with open(cbor_file, "wb") as f:
        f.write(cbor({"StreamName": "bench", "Records": raw}))
    json_file = os.path.join(tmp, "putrecords.json")
    with open(json_file, "rb") as f:
        json_body = f.read()
    lua = os.path.join(tmp, "wire.lua")
    with open(lua, "w") as f:
        f.write(b.WRK_LUA)
    print(f"\n== emulator-wire: the same PutRecords load over TLS, as CBOR, and with --verify-signatures, "
          f"beside plain HTTP/1.1 JSON; {args.connections} connections, wrk -t{args.threads}, {args.duration}s each, "
          f"a new emulator for each, two rounds")
    cbor_body = open(cbor_file, "rb").read()
    rounds = []
    for _ in range(2):
        got = {}
        for name in ("plain", "tls", "cbor", "sigv4"):
            port = b.free_port()
            cmd = [args.bin, "emulator", "--port", str(port), "--quiet", "--initialize-streams", "bench:4"]
            if name == "sigv4":
                cmd += ["--verify-signatures", "--access-key", KEY, "--secret-key", SECRET]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                b.wait_port(port, proc)
                url = f"http{'s' if name == 'tls' else ''}://127.0.0.1:{port}/"
                body_file, env = json_file, {}
                if name == "cbor":
                    body_file, env = cbor_file, {"BENCH_CTYPE": "application/x-amz-cbor-1.1"}
                    st, out = post(url, cbor_body, {
                        "Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords",
                        "X-Amz-Date": "20261124T000000Z", "Authorization": b.AUTH})
                    if st != 200 or b"FailedRecordCount\x00" not in out:
                        raise RuntimeError(f"the CBOR PutRecords failed: {st} {out[:300]!r}")
                if name == "sigv4":
                    amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                    signed = sigv4(f"127.0.0.1:{port}", amz, json_body, "application/x-amz-json-1.1",
                                   "Kinesis_20131202.PutRecords")
                    st, out = post(url, json_body, {
                        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords",
                        "X-Amz-Date": amz, "Authorization": signed})
                    if st != 200:
                        raise RuntimeError(f"the signed PutRecords was refused: {out[:300]!r}")
                    env = {"BENCH_AUTH": signed, "BENCH_DATE": amz}
                got[name] = run_wrk(url, args.duration, args.threads, args.connections, lua, body_file, env)
            finally:
                b.stop(proc)
        rounds.append(got)
    for i, got in enumerate(rounds, 1):
        base = got["plain"]["rps"] * 500
        for name, r in got.items():
            rec = r["rps"] * 500
            bad = f", {r['non2xx']} non-2xx" if r["non2xx"] else ""
            bad += f", socket errors: {r['errors']}" if r["errors"] else ""
            p = r["pct"]
            ratio = f"  {rec / base:.2f}x plain" if name != "plain" and base else ""
            print(f"  round {i} {name:>6}: {rec:>12,.0f} records/s ({r['rps']:,.1f} requests/s{bad})  "
                  f"p50 {p.get('50', 0):.1f} ms  p99 {p.get('99', 0):.1f} ms{ratio}", flush=True)
    per_call = []
    for got in rounds:
        a, v = got["plain"]["rps"], got["sigv4"]["rps"]
        if a and v:
            per_call.append((1 / v - 1 / a) * 1e6)
    if per_call:
        print("  --verify-signatures: each 70 KB call takes " + ", ".join(f"{x:,.1f}" for x in per_call) +
              " us more of the machine (1/requests-per-second, verifying minus plain, by round)")
