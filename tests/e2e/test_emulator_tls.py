"""TLS on the emulator's one port: boto3, the AWS CLI and the AWS SDK for
JavaScript v3 (HTTP/2 by ALPN) over https:// trusting the certificate the
emulator made, plain HTTP/1.1 and h2c on the same port, --tls-cert/--tls-key,
--tls-dir, --no-tls, and handshakes that fail or never end."""
import json
import os
import socket
import ssl
import stat
import subprocess
import tempfile
import time
import unittest

from .kt import Emulator, EmulatorTestCase, boto3_client, client_env, connect, closed_by_peer, read_response
from .test_emulator_examples import CONSUMERS, PRODUCERS, npm_install, orders


def https_health(emu, cafile=None, alpn=None):
    """GET /health over TLS with Python's ssl; returns (JSON, the protocol ALPN agreed)."""
    ctx = ssl.create_default_context(cafile=cafile or emu.cert)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            r, _ = read_response(s)
            return r.json(), s.selected_alpn_protocol()


def plain_health(emu):
    with connect(emu) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        r, _ = read_response(s)
        return r.json()


def curl(emu, url, *args):
    p = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_version}", *args, url],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class TlsClients(EmulatorTestCase, unittest.TestCase):
    """One emulator with its self-signed certificate; every client in the same run."""

    def test_certificate_is_for_the_local_names_and_its_key_is_private(self):
        self.assertIsNotNone(self.emu.cert)
        self.assertIn("AWS_CA_BUNDLE=" + self.emu.cert, self.emu.start_lines)
        self.assertIn("NODE_EXTRA_CA_CERTS=" + self.emu.cert, self.emu.start_lines)
        key = os.path.join(os.path.dirname(self.emu.cert), "key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        text = subprocess.run(["openssl", "x509", "-in", self.emu.cert, "-noout", "-ext", "subjectAltName"],
                              capture_output=True, text=True, check=True).stdout
        for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"):
            self.assertIn(name, text)
        # Each name verifies (Python checks the host name against the certificate).
        for host in ("localhost", "127.0.0.1"):
            ctx = ssl.create_default_context(cafile=self.emu.cert)
            with socket.create_connection(("127.0.0.1", self.emu.port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as s:
                    self.assertTrue(s.version().startswith("TLSv1."))

    def test_boto3_over_https(self):
        kin = boto3_client(self.emu, url=self.emu.https_url, verify=self.emu.cert)
        kin.create_stream(StreamName="tls-boto3", ShardCount=2)
        data = [bytes([i % 256]) * (i % 700 + 1) for i in range(300)]
        r = kin.put_records(StreamName="tls-boto3",
                            Records=[{"Data": d, "PartitionKey": f"k{i}"} for i, d in enumerate(data)])
        self.assertEqual(r["FailedRecordCount"], 0)
        got = []
        for shard in kin.list_shards(StreamName="tls-boto3")["Shards"]:
            it = kin.get_shard_iterator(StreamName="tls-boto3", ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            got += [rec["Data"] for rec in kin.get_records(ShardIterator=it, Limit=1000)["Records"]]
        self.assertEqual(sorted(got), sorted(data))

    def test_boto3_refuses_without_the_certificate_and_it_is_counted(self):
        from botocore.exceptions import SSLError
        before = plain_health(self.emu)["tls"]["failures"]
        kin = boto3_client(self.emu, url=self.emu.https_url)  # the system's trust store only
        with self.assertRaises(SSLError):
            kin.list_streams()
        deadline = time.time() + 10
        while plain_health(self.emu)["tls"]["failures"] <= before and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreater(plain_health(self.emu)["tls"]["failures"], before)

    def test_aws_cli_over_https_with_aws_ca_bundle(self):
        env = client_env({"AWS_CA_BUNDLE": self.emu.cert})
        base = ["aws", "--endpoint-url", self.emu.https_url, "--region", "us-east-1", "--output", "json",
                "kinesis"]
        subprocess.run(base + ["create-stream", "--stream-name", "tls-cli", "--shard-count", "1"], env=env,
                       check=True, capture_output=True, timeout=120)
        p = subprocess.run(base + ["list-streams"], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tls-cli", json.loads(p.stdout)["StreamNames"])
        # Without the bundle the CLI refuses the certificate.
        p = subprocess.run(base + ["list-streams"], env=client_env(), capture_output=True, text=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SSL", p.stderr)

    def test_javascript_sdk_v3_over_https_negotiates_h2(self):
        npm_install()
        before = plain_health(self.emu)["tls"]["alpn_h2"]
        env = client_env({"KINESIS_ENDPOINT": self.emu.https_url, "NODE_EXTRA_CA_CERTS": self.emu.cert,
                          "NODE_NO_WARNINGS": "1"})
        out = {}
        for role, cmd, args in (("producer", PRODUCERS["js"], ["tls-js", "700"]), ("consumer", CONSUMERS["js"],
                                                                                    ["tls-js"])):
            p = subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=300,
                               cwd=os.path.dirname(cmd[-1]))
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            out[role] = p.stdout
        self.assertEqual(orders(out["consumer"]), list(range(700)))
        self.assertGreater(plain_health(self.emu)["tls"]["alpn_h2"], before)

    def test_same_port_speaks_plain_http1_h2c_and_tls(self):
        # Python ssl: ALPN h2 chosen when offered first, http/1.1 when only it, none when none offered.
        _, proto = https_health(self.emu, alpn=["http/1.1"])
        self.assertEqual(proto, "http/1.1")
        h, proto = https_health(self.emu)
        self.assertIsNone(proto)
        self.assertEqual(h["status"], "running")
        self.assertTrue(h["tls"]["enabled"])
        rc, out, err = curl(self.emu, self.emu.https_url + "/health", "--cacert", self.emu.cert, "--http2")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.endswith("\n2"), out)
        rc, out, err = curl(self.emu, self.emu.url + "/health")
        self.assertEqual((rc, out[-4:]), (0, "\n1.1"), err)
        rc, out, err = curl(self.emu, self.emu.url + "/health", "--http2-prior-knowledge")
        self.assertEqual((rc, out[-2:]), (0, "\n2"), err)
        self.assertEqual(json.loads(out.rsplit("\n", 1)[0])["service"], "kinesis")

    def test_bytes_that_start_like_tls_but_are_not(self):
        before = plain_health(self.emu)["tls"]["failures"]
        with connect(self.emu) as s:
            s.sendall(b"\x16 this is not a TLS record at all\r\n\r\n")
            self.assertTrue(closed_by_peer(s, timeout=10))
        with connect(self.emu) as s:
            # A record header that declares a ClientHello far larger than a record may be.
            s.sendall(b"\x16\x03\x01\xff\xff" + b"\x01" * 100)
            self.assertTrue(closed_by_peer(s, timeout=10))
        self.assertGreaterEqual(plain_health(self.emu)["tls"]["failures"], before + 2)
        self.assertTrue(self.emu.alive())


class TlsHandshakeTimeout(unittest.TestCase):
    """A handshake that never completes is closed at --idle-timeout, even when bytes trickle in."""

    def test_stalled_and_trickling_handshakes(self):
        emu = Emulator("--idle-timeout", "2", "--verbose")
        try:
            stalled = connect(emu)
            stalled.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
            trickle = connect(emu)
            trickle.sendall(b"\x16\x03\x01\x02\x00")
            t0 = time.time()
            # Meanwhile the worker serves others at once.
            for _ in range(5):
                t = time.time()
                self.assertEqual(plain_health(emu)["status"], "running")
                self.assertLess(time.time() - t, 0.5)
            for _ in range(3):
                time.sleep(0.5)
                try:
                    trickle.sendall(b"\x01")  # a byte every half second: it never idles
                except OSError:
                    break
            self.assertTrue(closed_by_peer(stalled, timeout=10))
            self.assertTrue(closed_by_peer(trickle, timeout=10))
            elapsed = time.time() - t0
            self.assertGreaterEqual(elapsed, 1.5)
            self.assertLess(elapsed, 6)
            stalled.close()
            trickle.close()
            self.assertGreaterEqual(plain_health(emu)["tls"]["failures"], 2)
        finally:
            rc, log = emu.close()
        self.assertEqual(rc, 0, log)
        self.assertIn("TLS handshake not complete within 2 s", log)


def openssl_cert(directory, cn="127.0.0.1"):
    cert, key = os.path.join(directory, "c.pem"), os.path.join(directory, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={cn}", "-addext", f"subjectAltName=IP:{cn}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TlsConfiguration(unittest.TestCase):

    def test_given_certificate_is_served(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = openssl_cert(d)
            with Emulator("--tls-cert", cert, "--tls-key", key) as emu:
                self.assertEqual(emu.cert, cert)
                h, _ = https_health(emu, cafile=cert)
                self.assertEqual(h["tls"]["handshakes"], 1)

    def test_bad_tls_flags_exit_2_naming_the_problem(self):
        from .kt import kintape_bin
        with tempfile.TemporaryDirectory() as d:
            cert, key = openssl_cert(d)
            other_cert, other_key = openssl_cert(tempfile.mkdtemp(dir=d))
            junk = os.path.join(d, "junk.pem")
            with open(junk, "w") as f:
                f.write("not a certificate\n")
            cases = [
                (["--tls-cert", cert], "go together"),
                (["--tls-cert", junk, "--tls-key", key], "--tls-cert " + junk),
                (["--tls-cert", cert, "--tls-key", os.path.join(d, "missing.pem")], "--tls-key"),
                (["--tls-cert", cert, "--tls-key", other_key], "is not the key of"),
                (["--no-tls", "--tls-dir", d], "--no-tls cannot go with"),
            ]
            for args, words in cases:
                p = subprocess.run([kintape_bin(), "emulator", "--port", "0", *args], capture_output=True,
                                   text=True, timeout=30)
                self.assertEqual(p.returncode, 2, (args, p.stderr))
                self.assertIn(words, p.stderr, args)

    def test_tls_dir_keeps_the_certificate_across_starts(self):
        with tempfile.TemporaryDirectory() as d:
            tdir = os.path.join(d, "tls")
            with Emulator("--tls-dir", tdir) as emu:
                self.assertEqual(emu.cert, os.path.join(tdir, "cert.pem"))
                with open(emu.cert) as f:
                    first = f.read()
                https_health(emu)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(tdir, "key.pem")).st_mode), 0o600)
            with Emulator("--tls-dir", tdir) as emu:
                self.assertIn("kept from an earlier start", emu.start_lines)
                with open(emu.cert) as f:
                    self.assertEqual(f.read(), first)
                https_health(emu)

    def test_temp_certificate_is_removed_at_exit(self):
        emu = Emulator()
        cert = emu.cert
        self.assertTrue(os.path.exists(cert))
        rc, log = emu.close()
        self.assertEqual(rc, 0, log)
        self.assertFalse(os.path.exists(os.path.dirname(cert)))

    def test_no_tls_reads_a_tls_byte_as_bad_http(self):
        with Emulator("--no-tls") as emu:
            self.assertIsNone(emu.https_url)
            with connect(emu) as s:
                s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
                r, _ = read_response(s)
                self.assertEqual(r.status, 400)
                self.assertEqual(r.json()["__type"], "MalformedHttpRequestException")
            self.assertFalse(plain_health(emu)["tls"]["enabled"])


if __name__ == "__main__":
    unittest.main()
