#!/usr/bin/env python3
"""Runs every kintape test and prints one summary line: "N passed, M failed".

  tests/run.py --bin bin/kintape --unit build/default/tests
               [--san-bin build/san/kintape --san-unit build/san/tests]
               [--only unit|e2e] [-k SUBSTRING] [--jobs N]

Unit tests are the C programs in --unit (each prints "name: N passed, M failed").
Beside them (../fuzz), each fuzz harness built as a plain program replays its
corpus, tests/fuzz/corpus/NAME: every seed and every input that ever broke
something, in a quick pass (one run each, not fuzzing).
End-to-end tests are the unittest modules in tests/e2e, run against --bin.
With --san-bin, the unit tests of --san-unit and the e2e modules that test the
emulator, capture, extractor and replay (test_emulator_*, test_capture_*,
test_extract*, test_golden, test_replay*, test_proxy) run again against the
ASan/UBSan build. The e2e modules of both builds run as jobs of a pool of
--jobs processes (KT_TEST_JOBS; default the cores, at most 2), longest first
by the last run's times (build/e2e-times.json); --jobs 1 runs them in one
process, one after another.
"""
import argparse
import concurrent.futures
import glob
import json
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


def load_suite(patterns, keyword):
    loader = unittest.TestLoader()
    if keyword:
        loader.testNamePatterns = [f"*{keyword}*"]
    return unittest.TestSuite(loader.discover(os.path.join(HERE, "e2e"), pattern=p, top_level_dir=HERE)
                              for p in patterns)


def run_suite(suite):
    """Runs it verbosely to stdout; (passed, failed, skipped, durations)."""
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
    Result.durations = []
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    return passed, failed, len(result.skipped), Result.durations


def print_totals(label, passed, failed, skipped, durations, seconds):
    slowest = sorted(durations, reverse=True)[:8]
    print(f"[{label}] slowest: " + ", ".join(f"{t.split('.', 1)[1]} {d:.0f}s" for d, t in slowest), flush=True)
    print(f"[{label}] e2e: {passed} passed, {failed} failed, {skipped} skipped ({seconds:.0f}s)", flush=True)


def run_e2e(binary, label, patterns, keyword):
    os.environ["KINTAPE_BIN"] = os.path.abspath(binary)
    print(f"[{label}] end-to-end tests ({' '.join(patterns)}) against {binary}", flush=True)
    t0 = time.time()
    passed, failed, skipped, durations = run_suite(load_suite(patterns, keyword))
    print_totals(label, passed, failed, skipped, durations, time.time() - t0)
    return passed, failed


def run_child(binary, module, keyword):
    """One e2e module in this process (a job of run_e2e_parallel): its output, then a result line."""
    os.environ["KINTAPE_BIN"] = os.path.abspath(binary)
    loader = unittest.TestLoader()
    if keyword:
        loader.testNamePatterns = [f"*{keyword}*"]
    passed, failed, skipped, durations = run_suite(loader.loadTestsFromName(f"e2e.{module}"))
    print(RESULT_TAG + json.dumps({"passed": passed, "failed": failed, "skipped": skipped, "durations": durations}))
    return 1 if failed else 0


RESULT_TAG = "@@kintape-test-result "
TIMES = os.path.join(ROOT, "build", "e2e-times.json")
CHILD_TIMEOUT = 1800


def e2e_modules(patterns):
    names = set()
    for p in patterns:
        names.update(os.path.basename(f)[:-3] for f in glob.glob(os.path.join(HERE, "e2e", p)))
    return sorted(names)


def run_job(job, keyword):
    label, binary, module = job
    cmd = [sys.executable, os.path.abspath(__file__), "--bin", binary, "--unit", "-", "--child", module]
    if keyword:
        cmd += ["-k", keyword]
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
        out, err = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = f"{module} did not finish in {CHILD_TIMEOUT} s: stopped"
    result = None
    lines = []
    for line in out.splitlines():
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG):])
        else:
            lines.append(line)
    if result is None:
        result = {"passed": 0, "failed": 1, "skipped": 0, "durations": []}
        lines.append(f"{module}: ended without a result")
    return job, "\n".join(lines), err, result, time.time() - t0


def run_e2e_parallel(runs, keyword, jobs):
    """
    runs: [(label, binary, patterns)]. Every (label, module) is a job for a pool
    of `jobs` processes, longest first by the times of the last run (by file size
    before there is one); each job's output is printed whole when it ends.
    """
    try:
        with open(TIMES) as f:
            past = json.load(f)
    except (OSError, ValueError):
        past = {}
    todo = [(label, binary, m) for label, binary, patterns in runs for m in e2e_modules(patterns)]

    def guess(job):
        label, _, m = job
        return past.get(f"{label}:{m}", os.path.getsize(os.path.join(HERE, "e2e", m + ".py")) / 500)

    todo.sort(key=guess, reverse=True)
    print(f"[e2e] {len(todo)} modules ({', '.join(label for label, _, _ in runs)}) in {jobs} processes", flush=True)
    totals = {label: [0, 0, 0, []] for label, _, _ in runs}
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_job, job, keyword) for job in todo]
        for fut in concurrent.futures.as_completed(futures):
            (label, binary, module), out, err, r, secs = fut.result()
            past[f"{label}:{module}"] = round(secs, 1)
            t = totals[label]
            t[0] += r["passed"]
            t[1] += r["failed"]
            t[2] += r["skipped"]
            t[3] += [tuple(d) for d in r["durations"]]
            print(f"[{label}] {module} against {binary}", flush=True)
            sys.stdout.write(out.rstrip("\n") + "\n")
            if err.strip():
                sys.stdout.write(err.rstrip("\n") + "\n")
            print(f"[{label}] {module}: {r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped "
                  f"({secs:.0f}s)", flush=True)
    if not keyword:
        os.makedirs(os.path.dirname(TIMES), exist_ok=True)
        with open(TIMES + ".tmp", "w") as f:
            json.dump(past, f, indent=0, sort_keys=True)
        os.replace(TIMES + ".tmp", TIMES)
    for label, (p, f, sk, d) in totals.items():
        print_totals(label, p, f, sk, d, time.time() - t0)
    return sum(t[0] for t in totals.values()), sum(t[1] for t in totals.values())


SAN_E2E = ["test_emulator_*.py", "test_capture_*.py", "test_extract*.py", "test_golden.py", "test_replay*.py",
           "test_proxy.py"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--san-bin")
    ap.add_argument("--san-unit")
    ap.add_argument("--only", choices=["unit", "e2e"])
    ap.add_argument("-k", dest="keyword")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("KT_TEST_JOBS", min(2, os.cpu_count() or 1))),
                    help="e2e modules run in this many processes at once (KT_TEST_JOBS; 1: one after another)")
    ap.add_argument("--child", metavar="MODULE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    if args.san_bin or "/san/" in args.bin:
        os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if args.child:
        return run_child(args.bin, args.child, args.keyword)
    total_p = total_f = 0
    t0 = time.time()

    def add(pf):
        nonlocal total_p, total_f
        total_p += pf[0]
        total_f += pf[1]

    if args.only in (None, "unit"):
        add(run_unit(args.unit, "unit"))
        add(run_fuzz_replays(args.unit, "fuzz corpora"))
        if args.san_unit:
            add(run_unit(args.san_unit, "asan+ubsan unit"))
            add(run_fuzz_replays(args.san_unit, "asan+ubsan fuzz corpora"))
    if args.only in (None, "e2e"):
        runs = [("e2e", args.bin, ["test_*.py"])]
        if args.san_bin:
            runs.append(("asan+ubsan e2e", args.san_bin, SAN_E2E))
        if args.jobs > 1:
            add(run_e2e_parallel(runs, args.keyword, args.jobs))
        else:
            for label, binary, patterns in runs:
                add(run_e2e(binary, label, patterns, args.keyword))
    print(f"\n{total_p} passed, {total_f} failed ({time.time() - t0:.0f}s)")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
