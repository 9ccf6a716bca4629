"""Replay on bad input: a missing file, no payload column, bad rows, an unreachable endpoint, a missing
stream; each gets a message naming the cause (and the row), and the exit status says whose fault it was."""
import os
import shutil
import tempfile
import unittest

from .kt import Emulator, boto3_client
from .test_replay import replay


class ReplayBadInput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kintape-replay-bad-")
        cls.emu = Emulator()
        boto3_client(cls.emu).create_stream(StreamName="ok", ShardCount=1)

    @classmethod
    def tearDownClass(cls):
        rc, log = cls.emu.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"emulator exited with {rc}:\n{log[-4000:]}")

    def file(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return path

    def fails(self, path, *args, rc=2, want=None, endpoint=None):
        p, _ = replay(path, *args, endpoint=endpoint or self.emu.url, expect_rc=(rc,))
        if want:
            self.assertIn(want, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        self.assertNotIn("AddressSanitizer", p.stderr)
        return p

    def test_missing_file(self):
        self.fails(os.path.join(self.tmp, "nope.csv"), "--stream", "ok", want="nope.csv: No such file")

    def test_no_payload_column(self):
        self.fails(self.file("nopayload.csv", "id,when\n1,2\n"), "--stream", "ok", want="no usable payload column")

    def test_bad_timestamp_names_the_row(self):
        path = self.file("badts.csv", "data,ts\na,2026-11-24T10:00:00Z\nb,2026-11-24T10:00:01Z\nc,tomorrow\n")
        # A schedule needs every time: the rows before are sent, then the replay stops at the bad one.
        p = self.fails(path, "--stream", "ok", "--respect-timing", want="row 4: the time 'tomorrow'")
        self.assertIn("stopped", p.stderr)
        self.assertIn("records    3 read, 2 sent, 0 failed for good, 1 not sendable, 0 not sent", p.stderr)
        self.assertIn("the first row not sent is row 4: --skip-rows 2 starts there", p.stderr)

    def test_bad_base64_names_the_row(self):
        path = self.file("badb64.csv", "data_base64,ts\naGVsbG8=,2026-11-24T10:00:00Z\naGV$bG8=,2026-11-24T10:00:00Z\n")
        self.fails(path, "--stream", "ok", want="row 3: invalid base64 in data_base64 at character 4")

    def test_broken_csv_row(self):
        path = self.file("broken.csv", "data,ts\n\"unclosed,2026-11-24T10:00:00Z\n")
        self.fails(path, "--stream", "ok", want="row 2")

    def test_unreachable_endpoint(self):
        path = self.file("fine.csv", "data,ts\na,2026-11-24T10:00:00Z\n")
        self.fails(path, "--stream", "ok", "--timeout", "5", endpoint="http://127.0.0.1:9", want="cannot reach")

    def test_nonexistent_stream(self):
        path = self.file("fine2.csv", "data,ts\na,2026-11-24T10:00:00Z\n")
        self.fails(path, "--stream", "missing", want="stream missing does not exist")

    def test_nonexistent_stream_from_the_column(self):
        path = self.file("col.csv", "data,ts,stream\na,2026-11-24T10:00:00Z,ghost\n")
        self.fails(path, want="ResourceNotFoundException")

    def test_no_credentials_for_a_remote_endpoint(self):
        path = self.file("fine3.csv", "data,ts\na,2026-11-24T10:00:00Z\n")
        self.fails(path, "--stream", "ok", "--profile", "nobody", want="no AWS credentials")

    def test_invalid_arguments(self):
        path = self.file("fine4.csv", "data,ts\na,2026-11-24T10:00:00Z\n")
        for args, want in [(("--speed", "0", "--respect-timing"), "--speed takes a number from 0.01 to 1000"),
                           (("--split", "3/2"), "--split takes I/N"),
                           (("--rate", "-5"), "--rate takes a number"),
                           (("--speed", "2"), "--speed goes with --respect-timing"),
                           (("--start-at", "noon"), "--start-at takes an RFC 3339 time"),
                           (("--concurrency", "0"), "--concurrency takes a number")]:
            self.fails(path, "--stream", "ok", *args, want=want)
        self.fails(path, "--stream", "ok", endpoint="ftp://x", want="--endpoint must start with http")

    def test_respect_timing_without_times(self):
        path = self.file("nots.csv", "data,partition_key\na,k\n")
        self.fails(path, "--stream", "ok", "--respect-timing", want="has no ts column")

    def test_key_too_long_is_reported_and_the_rest_sent(self):
        path = self.file("longkey.csv", "data,ts,partition_key\na,2026-11-24T10:00:00Z,%s\nb,2026-11-24T10:00:00Z,k\n"
                         % ("x" * 257))
        p = self.fails(path, "--stream", "ok", rc=1, want="row 2: not sent: the partition key has 257 characters")
        self.assertIn("1 sent", p.stderr)


if __name__ == "__main__":
    unittest.main()
