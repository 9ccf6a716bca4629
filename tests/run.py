#!/usr/bin/env python3
"""Runs every kintape test and prints one summary line: "N passed, M failed".

  tests/run.py --bin bin/kintape --unit build/default/tests
               [--san-bin build/san/kintape --san-unit build/san/tests]
               [--only unit|e2e] [-k SUBSTRING]

Unit tests are the C programs in --unit (each prints "name: N passed, M failed").
Beside them (../fuzz), each fuzz harness built as a plain program replays its
corpus, tests/fuzz/corpus/NAME: every seed and every input that ever broke
something, in a quick pass (one run each, not fuzzing).
End-to-end tests are the unittest modules in tests/e2e, run against --bin.
With --san-bin, the unit tests of --san-unit and the e2e modules that test the
emulator, capture, extractor and replay (test_emulator_*, test_capture_*,
test_extract*, test_golden, test_replay*) run again against the ASan/UBSan build.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_unit(directory, label):
    passed = failed = 0
    names = sorted(f for f in os.listdir(directory) if f.startswith("test_") and "." not in f)
    if not names:
        print(f"[{label}] no unit tests in {directory}")
        return 0, 1
    for name in names:
        path = os.path.join(directory, name)
        t0 = time.time()
        proc = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, timeout=600)
        m = re.search(r"(\d+) passed, (\d+) failed", proc.stdout)
        if m:
            p, f = int(m.group(1)), int(m.group(2))
        else:
            p, f = 0, 1
        if proc.returncode != 0 and f == 0:
            f = 1
        passed += p
        failed += f
        status = "ok" if f == 0 else "FAILED"
        print(f"[{label}] {name}: {p} checks passed, {f} failed ({time.time() - t0:.1f}s) {status}")
        if f:
            sys.stdout.write(proc.stdout[-4000:])
            sys.stdout.write(proc.stderr[-4000:])
    return passed, failed


def run_fuzz_replays(unit_dir, label):
    """Each replay_NAME in the fuzz folder beside unit_dir, over tests/fuzz/corpus/NAME: a pass each."""
    directory = os.path.join(os.path.dirname(os.path.abspath(unit_dir)), "fuzz")
    names = sorted(f for f in os.listdir(directory) if f.startswith("replay_") and "." not in f) if os.path.isdir(directory) else []
    if not names:
        print(f"[{label}] no fuzz replays in {directory}")
        return 0, 1
    passed = failed = 0
    for name in names:
        corpus = os.path.join(HERE, "fuzz", "corpus", name[len("replay_"):])
        t0 = time.time()
        proc = subprocess.run([os.path.join(directory, name), corpus], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        ok = proc.returncode == 0 and re.search(r": [1-9]\d* inputs", proc.stdout)
        passed += bool(ok)
        failed += not ok
        print(f"[{label}] {name}: {proc.stdout.strip() or '(nothing)'} ({time.time() - t0:.1f}s) "
              f"{'ok' if ok else 'FAILED'}")
        if not ok:
            sys.stdout.write(proc.stderr[-4000:])
    return passed, failed


class Result(unittest.TextTestResult):
    """Also keeps how long each test took, so the summary can name the slowest."""
    durations = []

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        Result.durations.append((time.monotonic() - self._t0, test.id()))


def run_e2e(binary, label, patterns, keyword):
    os.environ["KINTAPE_BIN"] = os.path.abspath(binary)
    loader = unittest.TestLoader()
    if keyword:
        loader.testNamePatterns = [f"*{keyword}*"]
    suite = unittest.TestSuite(loader.discover(os.path.join(HERE, "e2e"), pattern=p, top_level_dir=HERE)
                               for p in patterns)
    print(f"[{label}] end-to-end tests ({' '.join(patterns)}) against {binary}", flush=True)
    t0 = time.time()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
    Result.durations = []
    result = runner.run(suite)
    slowest = sorted(Result.durations, reverse=True)[:8]
    print(f"[{label}] slowest: " + ", ".join(f"{t.split('.', 1)[1]} {d:.0f}s" for d, t in slowest), flush=True)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"[{label}] e2e: {passed} passed, {failed} failed, {len(result.skipped)} skipped "
          f"({time.time() - t0:.0f}s)", flush=True)
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--san-bin")
    ap.add_argument("--san-unit")
    ap.add_argument("--only", choices=["unit", "e2e"])
    ap.add_argument("-k", dest="keyword")
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    total_p = total_f = 0
    t0 = time.time()
    if args.only in (None, "unit"):
        p, f = run_unit(args.unit, "unit")
        total_p += p
        total_f += f
        p, f = run_fuzz_replays(args.unit, "fuzz corpora")
        total_p += p
        total_f += f
    if args.only in (None, "e2e"):
        p, f = run_e2e(args.bin, "e2e", ["test_*.py"], args.keyword)
        total_p += p
        total_f += f
    if args.san_bin:
        os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if args.only in (None, "unit") and args.san_unit:
            p, f = run_unit(args.san_unit, "asan+ubsan unit")
            total_p += p
            total_f += f
            p, f = run_fuzz_replays(args.san_unit, "asan+ubsan fuzz corpora")
            total_p += p
            total_f += f
        if args.only in (None, "e2e"):
            p, f = run_e2e(args.san_bin, "asan+ubsan e2e", ["test_emulator_*.py", "test_capture_*.py",
                                                            "test_extract*.py", "test_golden.py",
                                                            "test_replay*.py", "test_proxy.py"], args.keyword)
            total_p += p
            total_f += f
    print(f"\n{total_p} passed, {total_f} failed ({time.time() - t0:.0f}s)")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
