"""Golden files: tests/golden/TESTLIST, walked line by line (input in, expected output out):
snapshots to CSV (extract), and pcaps to snapshots (capture, with --reproducible)."""
import os
import shlex
import subprocess
import tempfile
import unittest

from .kt import ROOT, kintape_bin

GOLDEN = os.path.join(ROOT, "tests", "golden")


def entries():
    with open(os.path.join(GOLDEN, "TESTLIST")) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = shlex.split(line)
            yield n, parts[0], parts[1], parts[2], parts[3:]


class Golden(unittest.TestCase):

    def test_testlist(self):
        listed = list(entries())
        self.assertGreater(len(listed), 5)
        self.assertIn("capture", {e[1] for e in listed})
        for n, command, inp, expected, args in listed:
            with self.subTest(line=n, args=args), tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "out")
                # "rc=N" first: the exit status this input must give (0 when absent).
                want_rc = int(args.pop(0)[3:]) if args and args[0].startswith("rc=") else 0
                # Input paths are relative to tests/golden, where the command runs (a snapshot names its pcap).
                source = ["-r", inp] if command == "capture" else [inp]
                p = subprocess.run([kintape_bin(), command, *source, "-o", out, *args], cwd=GOLDEN,
                                   capture_output=True, timeout=120)
                self.assertEqual(p.returncode, want_rc, p.stderr.decode())
                with open(out, "rb") as f, open(os.path.join(GOLDEN, expected), "rb") as g:
                    got, want = f.read(), g.read()
                self.assertEqual(got.decode(errors="replace"), want.decode(errors="replace"),
                                 f"TESTLIST line {n}: {command} {inp} {' '.join(args)}")

    def test_stdout_and_pipe_input_give_the_same(self):
        # Through pipes the encoding cannot be decided by looking ahead: base64, unless forced.
        src = os.path.join(GOLDEN, "extract", "mixed.snap.jsonl")
        with open(src, "rb") as f:
            p = subprocess.run([kintape_bin(), "extract", "-", "-q"], stdin=f, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(GOLDEN, "extract", "mixed.base64.csv"), "rb") as g:
            self.assertEqual(p.stdout, g.read())
        p = subprocess.run([kintape_bin(), "extract", src, "-q"], capture_output=True, timeout=60)
        with open(os.path.join(GOLDEN, "extract", "mixed.csv"), "rb") as g:
            self.assertEqual(p.stdout, g.read())


if __name__ == "__main__":
    unittest.main()
