"""--verify-signatures: every request's SigV4 signature checked, for boto3, the
AWS CLI, the AWS SDK for JavaScript v3 (HTTP/2, plain and TLS), curl
--aws-sigv4, CBOR and the replay driver; wrong secrets, unknown keys, old
dates, tampered bodies and headers refused with AWS's error types. Requests
signed by hand here use an implementation of SigV4 written in this file."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import unittest

from botocore.exceptions import ClientError

from .kt import Emulator, EmulatorTestCase, boto3_client, client_env, connect, kintape_bin, read_response
from .test_emulator_cbor import DEBIAN_PYTHON, cbor_calls
from .test_emulator_examples import CONSUMERS, PRODUCERS, npm_install
from .test_replay import replay, write_csv

KEY, SECRET = "AKIDKINTAPETEST", "kintape-secret/+=key"
TMP_KEY, TMP_SECRET, TMP_TOKEN = "ASIAKINTAPETEMP", "temp-secret", "FwoGZXIvYXdzEB-session-token=="
CREDENTIALS = f"""# two profiles, one of them a temporary key
[default]
aws_access_key_id = {KEY}
aws_secret_access_key = {SECRET}

[temporary]
aws_access_key_id={TMP_KEY}
aws_secret_access_key={TMP_SECRET}
aws_session_token = {TMP_TOKEN}

[role-only]
role_arn = arn:aws:iam::123456789012:role/nothing-to-check
"""


def amz_now(offset_s=0):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)).strftime(
        "%Y%m%dT%H%M%SZ")


def sign(headers, body, key=KEY, secret=SECRET, region="us-east-1", service="kinesis", signed=None, path="/"):
    """SigV4 over the given headers (a dict, names as sent); returns the Authorization value."""
    lower = {k.lower(): v for k, v in headers.items()}
    names = signed or sorted(lower)
    amz = lower["x-amz-date"]
    creq = "\n".join(["POST", path, "",
                      "".join(f"{n}:{' '.join(lower.get(n, '').split())}\n" for n in names),
                      ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{amz[:8]}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (amz[:8], region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"


def raw_call(emu, op, body=b"{}", date=None, key=KEY, secret=SECRET, tamper=None, signed=None, extra=None,
             ctype="application/x-amz-json-1.1"):
    """A request signed here, optionally changed after signing: (status, parsed body)."""
    headers = {"Host": f"127.0.0.1:{emu.port}", "Content-Type": ctype,
               "X-Amz-Target": "Kinesis_20131202." + op, "X-Amz-Date": date or amz_now()}
    headers.update(extra or {})
    headers["Authorization"] = sign(headers, body, key=key, secret=secret, signed=signed)
    if tamper:
        headers, body = tamper(headers, body)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with connect(emu) as s:
        s.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        r, _ = read_response(s)
    return r.status, (r.json() if ctype.endswith("json-1.1") else r.body)


class Verifying(EmulatorTestCase, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kintape-sigv4-")
        cls.creds = os.path.join(cls.dir, "credentials")
        with open(cls.creds, "w") as f:
            f.write(CREDENTIALS)
        cls.emulator_args = ("--verify-signatures", "--credentials", cls.creds, "--initialize-streams", "sig:2")
        super().setUpClass()

    def client(self, key=KEY, secret=SECRET, token=None, url=None):
        return boto3_client(self.emu, key=key, secret=secret, token=token, url=url,
                            verify=self.emu.cert if url else None)

    def assertRefused(self, fn, code, message=None, starts=None):
        with self.assertRaises(ClientError) as cm:
            fn()
        err = cm.exception.response
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400, err)
        self.assertEqual(err["Error"]["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message)
        if starts is not None:
            self.assertTrue(err["Error"]["Message"].startswith(starts), err["Error"]["Message"])

    def test_boto3_right_keys_over_http_and_https_including_get_records(self):
        for kin in (self.client(), self.client(url=self.emu.https_url),
                    self.client(TMP_KEY, TMP_SECRET, TMP_TOKEN)):
            r = kin.put_records(StreamName="sig", Records=[{"Data": b"\x00\x01" * 50, "PartitionKey": f"k{i}"}
                                                           for i in range(20)])
            self.assertEqual(r["FailedRecordCount"], 0)
            it = kin.get_shard_iterator(StreamName="sig", ShardId="shardId-000000000000",
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            self.assertIn("Records", kin.get_records(ShardIterator=it))  # GetRecords is made on the pool

    def test_wrong_secret_unknown_key_and_bad_token(self):
        self.assertRefused(lambda: self.client(secret="not-the-secret").list_streams(), "InvalidSignatureException",
                           starts="The request signature we calculated does not match the signature you provided. "
                                  "Check your AWS Secret Access Key and signing method.")
        self.assertRefused(lambda: self.client(key="AKIDUNKNOWN").list_streams(), "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        self.assertRefused(lambda: self.client(TMP_KEY, TMP_SECRET, "not-the-token").list_streams(),
                           "UnrecognizedClientException", "The security token included in the request is invalid.")
        self.assertRefused(lambda: self.client(TMP_KEY, TMP_SECRET).list_streams(), "UnrecognizedClientException")
        self.assertRefused(lambda: self.client(token="a-token-for-a-long-term-key").list_streams(),
                           "UnrecognizedClientException")
        h = json.loads(subprocess.run(["curl", "-s", self.emu.url + "/health"], capture_output=True,
                                      text=True).stdout)
        self.assertTrue(h["signatures"]["verified"])
        self.assertGreaterEqual(h["signatures"]["refused"], 5)

    def test_hand_signed_requests(self):
        self.assertEqual(raw_call(self.emu, "ListStreams")[0], 200)
        # Ten minutes old, and ten minutes ahead.
        st, b = raw_call(self.emu, "ListStreams", date=amz_now(-600))
        self.assertEqual((st, b["__type"]), (400, "InvalidSignatureException"))
        self.assertRegex(b["message"], r"^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z "
                                       r"\(\d{8}T\d{6}Z - 5 min\.\)$")
        st, b = raw_call(self.emu, "ListStreams", date=amz_now(600))
        self.assertEqual(b["__type"], "InvalidSignatureException")
        self.assertIn("Signature not yet current", b["message"])
        # Four minutes off is still within AWS's five.
        self.assertEqual(raw_call(self.emu, "ListStreams", date=amz_now(-240))[0], 200)
        # The body changed after signing.
        body = json.dumps({"StreamName": "sig"}).encode()
        st, b = raw_call(self.emu, "DescribeStreamSummary", body,
                         tamper=lambda h, _: (h, json.dumps({"StreamName": "six"}).encode()))
        self.assertEqual((st, b["__type"]), (400, "InvalidSignatureException"))
        self.assertIn("The Canonical String for this request should have been", b["message"])
        # A signed header changed after signing.
        st, b = raw_call(self.emu, "ListStreams",
                         tamper=lambda h, body: ({**h, "X-Amz-Target": "Kinesis_20131202.DescribeLimits"}, body))
        self.assertEqual(b["__type"], "InvalidSignatureException")
        # An unsigned header may change: it is not part of the signature.
        st, _ = raw_call(self.emu, "ListStreams", tamper=lambda h, body: ({**h, "User-Agent": "changed"}, body),
                         signed=["content-type", "host", "x-amz-date", "x-amz-target"])
        self.assertEqual(st, 200)
        # Host not signed; a signed header not sent.
        st, b = raw_call(self.emu, "ListStreams", signed=["content-type", "x-amz-date", "x-amz-target"])
        self.assertEqual(b["__type"], "IncompleteSignatureException")
        self.assertIn("'Host' or ':authority' must be a 'SignedHeader'", b["message"])
        st, b = raw_call(self.emu, "ListStreams", signed=["content-type", "host", "x-amz-date", "x-amz-target",
                                                          "x-kintape-missing"])
        self.assertEqual((st, b["__type"]), (400, "IncompleteSignatureException"))
        self.assertIn("x-kintape-missing", b["message"])
        # A session token that is sent but not signed.
        st, b = raw_call(self.emu, "ListStreams", key=TMP_KEY, secret=TMP_SECRET,
                         signed=["content-type", "host", "x-amz-date", "x-amz-target"],
                         extra={"X-Amz-Security-Token": TMP_TOKEN})
        self.assertEqual(b["__type"], "IncompleteSignatureException")
        st, _ = raw_call(self.emu, "ListStreams", key=TMP_KEY, secret=TMP_SECRET,
                         extra={"X-Amz-Security-Token": TMP_TOKEN})
        self.assertEqual(st, 200)
        # An X-Amz-Content-Sha256 that is not the body's.
        st, b = raw_call(self.emu, "ListStreams", extra={"X-Amz-Content-Sha256": "0" * 64})
        self.assertEqual(b["__type"], "InvalidSignatureException")
        self.assertIn("x-amz-content-sha256", b["message"])

    def presigned(self, op, body, secret=SECRET, expires=300, tamper=None, also_header=False):
        """A POST signed in its query string (SigV4's presigned form, made here): (status, parsed body)."""
        from urllib.parse import quote
        amz = amz_now()
        scope = f"{amz[:8]}/us-east-1/kinesis/aws4_request"
        headers = {"content-type": "application/x-amz-json-1.1", "host": f"127.0.0.1:{self.emu.port}",
                   "x-amz-target": "Kinesis_20131202." + op}
        names = ";".join(sorted(headers))
        params = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{KEY}/{scope}",
                  "X-Amz-Date": amz, "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": names}
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))
        creq = "\n".join(["POST", "/", query, "".join(f"{n}:{headers[n]}\n" for n in sorted(headers)), names,
                          hashlib.sha256(body).hexdigest()])
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + secret).encode()
        for part in (amz[:8], "us-east-1", "kinesis", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        target = "/?" + query + "&X-Amz-Signature=" + hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if tamper:
            target = tamper(target)
        head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if also_header:
            head += f"X-Amz-Date: {amz}\r\nAuthorization: {sign({'X-Amz-Date': amz, 'Host': headers['host']}, body)}\r\n"
        with connect(self.emu) as s:
            s.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            r, _ = read_response(s)
        return r.status, r.json()

    def test_query_string_signatures(self):
        body = json.dumps({"StreamName": "sig"}).encode()
        status, b = self.presigned("DescribeStreamSummary", body)
        self.assertEqual(status, 200, b)
        self.assertEqual(b["StreamDescriptionSummary"]["StreamName"], "sig")
        status, b = self.presigned("DescribeStreamSummary", body, secret="wrong")
        self.assertEqual((status, b["__type"]), (400, "InvalidSignatureException"))
        # The signed query cannot be changed, nor the signature given both ways.
        status, b = self.presigned("DescribeStreamSummary", body, tamper=lambda t: t + "&extra=1")
        self.assertEqual((status, b["__type"]), (400, "InvalidSignatureException"))
        status, b = self.presigned("DescribeStreamSummary", body, also_header=True)
        self.assertEqual((status, b["__type"], b["message"]),
                         (400, "InvalidSignatureException", "Found both 'X-Amz-Algorithm' as a query-string param "
                                                            "and 'Authorization' as HTTP header."))
        # A query missing its parameters is named, in AWS's words.
        status, b = self.presigned("DescribeStreamSummary", body,
                                   tamper=lambda t: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + amz_now())
        self.assertEqual((status, b["__type"]), (400, "IncompleteSignatureException"))
        self.assertEqual(b["message"], "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string "
                                       "parameters must include 'X-Amz-Signature'. AWS query-string parameters must "
                                       "include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.")

    def test_cbor_requests_are_verified_too(self):
        body = bytes.fromhex("a1") + b"\x6aStreamName\x63sig"
        st, b = raw_call(self.emu, "DescribeStreamSummary", body, ctype="application/x-amz-cbor-1.1")
        self.assertEqual(st, 200)
        self.assertIn(b"StreamDescriptionSummary", b)
        st, b = raw_call(self.emu, "DescribeStreamSummary", body, secret="wrong", ctype="application/x-amz-cbor-1.1")
        self.assertEqual(st, 400)
        self.assertIn(b"InvalidSignatureException", b)
        self.assertEqual(b[:1], b"\xbf")  # the error in CBOR, as the client asked

    def test_aws_cli_and_curl(self):
        env = client_env({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_CA_BUNDLE": self.emu.cert})
        for url in (self.emu.url, self.emu.https_url):
            p = subprocess.run(["aws", "--endpoint-url", url, "--region", "us-east-1", "kinesis", "list-streams"],
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("sig", json.loads(p.stdout)["StreamNames"])
        env["AWS_SECRET_ACCESS_KEY"] = "wrong"
        p = subprocess.run(["aws", "--endpoint-url", self.emu.url, "--region", "us-east-1", "kinesis",
                            "list-streams"], capture_output=True, text=True, env=env, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidSignatureException", p.stderr)
        for extra, secret, want in (([], SECRET, "200 1.1"), (["--http2-prior-knowledge"], SECRET, "200 2"),
                                    (["--cacert", self.emu.cert], SECRET, "200 2"), ([], "bad", "400 1.1")):
            url = self.emu.https_url if "--cacert" in extra else self.emu.url
            p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", *extra,
                                "--aws-sigv4", "aws:amz:us-east-1:kinesis", "--user", f"{KEY}:{secret}",
                                "-H", "Content-Type: application/x-amz-json-1.1",
                                "-H", "X-Amz-Target: Kinesis_20131202.ListStreams", "-d", "{}", url + "/"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.stdout, want, (extra, secret, p.stderr))

    def test_javascript_sdk_over_h2c_and_tls(self):
        npm_install()
        for url in (self.emu.url, self.emu.https_url):
            for secret, ok in ((SECRET, True), ("wrong", False)):
                env = client_env({"KINESIS_ENDPOINT": url, "NODE_EXTRA_CA_CERTS": self.emu.cert,
                                  "NODE_NO_WARNINGS": "1", "AWS_ACCESS_KEY_ID": KEY,
                                  "AWS_SECRET_ACCESS_KEY": secret})
                cmd = PRODUCERS["js"]
                p = subprocess.run([*cmd, "sig-js", "40"], capture_output=True, text=True, env=env, timeout=300,
                                   cwd=os.path.dirname(cmd[-1]))
                if ok:
                    self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                    self.assertIn("put 40 records", p.stdout)
                    # The consumer's GetRecords over HTTP/2 are made on the pool, with the headers copied.
                    cmd = CONSUMERS["js"]
                    p = subprocess.run([*cmd, "sig-js"], capture_output=True, text=True, env=env, timeout=300,
                                       cwd=os.path.dirname(cmd[-1]))
                    self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                    self.assertIn("read", p.stderr)
                else:
                    self.assertNotEqual(p.returncode, 0)
                    self.assertIn("InvalidSignatureException", p.stdout + p.stderr)

    def test_replay_with_right_and_wrong_keys(self):
        path = os.path.join(self.dir, "r.csv")
        write_csv(path, ["data", "ts"], [[f"rec-{i}", f"2026-12-02T10:00:{i:02d}Z"] for i in range(30)])
        p, rep = replay(path, "--stream", "sig", "--access-key", KEY, "--secret-key", SECRET, endpoint=self.emu.url)
        self.assertEqual((rep["records"]["sent"], rep["records"]["failed"]), (30, 0), rep)
        p, _ = replay(path, "--stream", "sig", "--access-key", KEY, "--secret-key", "wrong", endpoint=self.emu.url,
                      expect_rc=(2,))
        self.assertIn("InvalidSignatureException", p.stderr)
        self.assertIn("credentials from the command line", p.stderr)


class VerificationFlags(unittest.TestCase):

    def run_emulator(self, *args, env=None):
        full = dict(os.environ)
        full.update(env or {})
        return subprocess.run([kintape_bin(), "emulator", "--port", "0", *args], capture_output=True, text=True,
                              timeout=30, env=full)

    def test_bad_flags_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad")
            with open(bad, "w") as f:
                f.write("[p]\naws_secret_access_key = s\n")
            cases = [
                ((["--verify-signatures"], None), "needs credentials"),
                ((["--verify-signatures", "--credentials", os.path.join(d, "missing")], None), "missing"),
                ((["--verify-signatures", "--credentials", bad], None), "without aws_access_key_id"),
                ((["--access-key", "A"], None), "go together"),
                ((["--access-key", "A", "--secret-key", "B"], None), "are for --verify-signatures"),
                (([], {"KINESIS_VERIFY_SIGNATURES": "1"}), "needs credentials"),
            ]
            for (args, env), words in cases:
                p = self.run_emulator(*args, env=env)
                self.assertEqual(p.returncode, 2, (args, p.stderr))
                self.assertIn(words, p.stderr, args)

    def test_environment_turns_it_on(self):
        with Emulator("--access-key", KEY, "--secret-key", SECRET, env={"KINESIS_VERIFY_SIGNATURES": "1"}) as emu:
            self.assertEqual(raw_call(emu, "ListStreams")[0], 200)
            self.assertEqual(raw_call(emu, "ListStreams", secret="x")[1]["__type"], "InvalidSignatureException")

    def test_off_by_default_any_well_formed_signature(self):
        with Emulator() as emu:
            self.assertEqual(raw_call(emu, "ListStreams", secret="anything", key="anyone")[0], 200)


if __name__ == "__main__":
    unittest.main()
