"""Replay's report when things go wrong: every row accounted for exactly once (sent, failed after being
sent, not sendable, not sent because the replay stopped), the first row not sent named with the
--skip-rows that resumes there, bad rows, bad times, a preflight that meets a server fault, requests
that time out, --deadline, and what the terminal shows."""
import http.client
import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time

from .kt import Emulator, client_env, kintape_bin
from .test_replay import StandIn, TempDirCase, read_stream, replay, replay_on_a_terminal, ts, write_csv


def accounted(test, rep):
    """The report agrees with itself: each record once, each call once."""
    r = rep["records"]
    test.assertEqual(r["sent"] + r["failed"] + r["not_sendable"] + r["not_sent"], r["read"], r)
    rows = rep["rows"]
    test.assertEqual(rows["skipped"] + rows["other_slices"] + rows["refused_skipped"] + r["read"], rows["read"],
                     rows)
    calls = sum(s["calls"] for s in rep["streams"])
    test.assertEqual(rep["requests"]["total"], calls)
    test.assertEqual(rep["batches"]["count"], calls)
    test.assertEqual(sum(s["sent"] for s in rep["streams"]), r["sent"])


class FaultProxy(StandIn):
    """Forwards to the emulator, answering the first `describe_faults` DescribeStreamSummary calls with
    HTTP 500, and holding PutRecords calls number `stall_from` onwards (1-based) without an answer."""
    upstream = None
    describe_faults = 0
    stall_from = 0
    puts = 0
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "")
        cls = FaultProxy
        with cls.lock:
            if target.endswith("DescribeStreamSummary") and cls.describe_faults > 0:
                cls.describe_faults -= 1
                self.answer(500, {"__type": "InternalFailure", "message": "injected"})
                return
            if target.endswith("PutRecords"):
                cls.puts += 1
                stall = cls.stall_from and cls.puts >= cls.stall_from
        if target.endswith("PutRecords") and stall:
            time.sleep(3)  # past the replay's --timeout
            return
        c = http.client.HTTPConnection("127.0.0.1", cls.upstream, timeout=30)
        c.request("POST", "/", body=body, headers=dict(self.headers.items()))
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        self.send_header("Content-Type", r.getheader("Content-Type", "application/x-amz-json-1.1"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        c.close()


class StopsAndResumes(TempDirCase):

    def good_rows(self, n, prefix="r"):
        return [(f"{prefix}{i}", ts(i * 0.001), f"k{i % 7}") for i in range(n)]

    def test_a_bad_row_after_good_rows_sends_them_and_says_where_to_resume(self):
        path = os.path.join(self.tmp, "ragged.csv")
        rows = self.good_rows(5001) + [("short", ts(6))] + self.good_rows(200, "z")  # row 5003 lacks a field
        write_csv(path, ["data", "ts", "partition_key"], rows)
        with Emulator() as emu:
            p, rep = replay(path, "--stream", "s", "--create-stream", endpoint=emu.url, expect_rc=(2,))
            accounted(self, rep)
            self.assertEqual(rep["records"]["read"], 5002)
            self.assertEqual(rep["records"]["sent"], 5001)
            self.assertEqual(rep["records"]["not_sendable"], 1)
            self.assertEqual(rep["records"]["not_sent"], 0)
            stop = rep["stopped"]
            self.assertIn("row 5003 has 2 fields, the header has 3", stop["reason"])
            self.assertTrue(stop["bad_input"])
            self.assertEqual(stop["first_row_not_sent"], 5003)
            self.assertEqual(stop["skip_rows_to_resume"], 5001)
            self.assertIn("resume     the first row not sent is row 5003: --skip-rows 5001 starts there", p.stderr)
            self.assertEqual(len(read_stream(emu, "s")), 5001)
            # Past the bad row, the rest goes.
            p, rep = replay(path, "--stream", "s", "--skip-rows", "5002", endpoint=emu.url)
            accounted(self, rep)
            self.assertEqual(rep["rows"]["skipped"], 5002)
            self.assertEqual(rep["records"]["sent"], 200)
            self.assertIsNone(rep["stopped"])
            self.assertEqual(len(read_stream(emu, "s")), 5201)

    def test_a_bad_first_row_still_gets_a_report(self):
        path = os.path.join(self.tmp, "first.csv")
        write_csv(path, ["data_base64", "ts"], [("aGV$bG8=", ts(0)), ("aGVsbG8=", ts(1))])
        with Emulator() as emu:
            p, rep = replay(path, "--stream", "s", "--create-stream", endpoint=emu.url, expect_rc=(2,))
            self.assertIn("records    1 read, 0 sent, 0 failed for good, 1 not sendable, 0 not sent", p.stderr)
            self.assertIn("row 2: invalid base64", rep["stopped"]["reason"])
            self.assertEqual(rep["stopped"]["skip_rows_to_resume"], 0)
            self.assertIn("requests   none sent", p.stderr)
            accounted(self, rep)

    def test_malformed_csv_keeps_the_rows_before_it(self):
        path = os.path.join(self.tmp, "quote.csv")
        with open(path, "w") as f:
            f.write("data,ts\n")
            for i in range(3000):
                f.write(f"r{i},{ts(i)}\n")
            f.write(f'x"y,{ts(0)}\n')
        with Emulator() as emu:
            p, rep = replay(path, "--stream", "s", "--create-stream", endpoint=emu.url, expect_rc=(2,))
            self.assertEqual(rep["records"]["sent"], 3000)
            self.assertEqual(rep["stopped"]["first_row_not_sent"], 3002)
            self.assertIn("malformed CSV in row 3002", p.stderr)
            self.assertIn("a field with quotes is quoted whole", p.stderr)  # not libcsv's own words
            accounted(self, rep)

    def test_sigterm_accounts_for_every_row_and_resuming_sends_the_rest(self):
        path = os.path.join(self.tmp, "long.csv")
        n = 3000
        write_csv(path, ["data", "ts", "partition_key"], [(f"r{i}", ts(i * 0.002), f"k{i % 5}") for i in range(n)])
        report = path + ".json"
        with Emulator() as emu:
            p = subprocess.Popen([kintape_bin(), "replay", path, "--stream", "long", "--create-stream",
                                  "--respect-timing", "--endpoint", emu.url, "--report", report],
                                 stderr=subprocess.PIPE, text=True, env=client_env())
            time.sleep(2)
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=30)
            self.assertEqual(p.returncode, 1, err)
            rep = json.load(open(report))
            accounted(self, rep)
            r = rep["records"]
            self.assertEqual(r["failed"], 0, err)  # nothing that was never sent is called failed
            self.assertGreater(r["sent"], 100)
            self.assertGreater(r["not_sent"], 100)
            self.assertEqual(r["retries"], 0)
            stop = rep["stopped"]
            self.assertIn("interrupted by SIGTERM", stop["reason"])
            self.assertFalse(stop["bad_input"])
            self.assertIn(f"--skip-rows {stop['skip_rows_to_resume']} starts there", err)
            first = len(read_stream(emu, "long"))
            self.assertEqual(first, r["sent"])
            replay(path, "--stream", "long", "--skip-rows", str(stop["skip_rows_to_resume"]), endpoint=emu.url)
            got = read_stream(emu, "long")
            # Every row is there; the only ones twice are those the report said were sent after the first gap.
            self.assertEqual({g[3].decode() for g in got}, {f"r{i}" for i in range(n)})
            self.assertEqual(len(got) - n, stop["sent_after_it"])

    def test_deadline_stops_sending(self):
        path = os.path.join(self.tmp, "slow.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i * 0.01)) for i in range(1000)])  # 10 s
        with Emulator() as emu:
            t0 = time.monotonic()
            p, rep = replay(path, "--stream", "s", "--create-stream", "--respect-timing", "--deadline", "1",
                            endpoint=emu.url, expect_rc=(1,))
            self.assertLess(time.monotonic() - t0, 6)
            accounted(self, rep)
            self.assertIn("deadline of 1 s was reached", rep["stopped"]["reason"])
            self.assertGreater(rep["records"]["not_sent"], 500)
            self.assertEqual(len(read_stream(emu, "s")), rep["records"]["sent"])


class RowsAndTimes(TempDirCase):

    def test_ragged_rows_stop_or_are_skipped(self):
        path = os.path.join(self.tmp, "rag.csv")
        with open(path, "w") as f:
            f.write("data,ts,partition_key\n")
            f.write(f"a,{ts(0)},k1\n")
            f.write(f"b,{ts(1)}\n")            # no partition_key field: not given a random key
            f.write(f"c,{ts(2)},k1,extra\n")   # a field too many: not sent
            f.write(f"d,{ts(3)},k2\n")
        with Emulator() as emu:
            p, rep = replay(path, "--stream", "s", "--create-stream", endpoint=emu.url, expect_rc=(2,))
            self.assertIn("row 3 has 2 fields, the header has 3", p.stderr)
            self.assertEqual([g[3].decode() for g in read_stream(emu, "s")], ["a"])
            p, rep = replay(path, "--stream", "t", "--create-stream", "--skip-bad", endpoint=emu.url, expect_rc=(1,))
            accounted(self, rep)
            self.assertIn("row 3 has 2 fields, the header has 3; not sent (--skip-bad)", p.stderr)
            self.assertIn("row 4 has 4 fields, the header has 3; not sent (--skip-bad)", p.stderr)
            self.assertEqual(rep["records"]["not_sendable"], 2)
            self.assertIsNone(rep["stopped"])
            self.assertEqual(sorted((g[2], g[3].decode()) for g in read_stream(emu, "t")), [("k1", "a"), ("k2", "d")])

    def test_times_are_needed_only_by_a_schedule(self):
        path = os.path.join(self.tmp, "times.csv")
        with open(path, "w") as f:
            f.write("data,ts\n")
            f.write("a,\n")                          # empty
            f.write("b,2026-11-21T10:00:01\n")       # no offset: UTC
            f.write("c,2026-11-21T10:00:02+0100\n")  # an offset without a colon
            f.write("d,2026-11-21T10:00:03\n")
        with Emulator() as emu:
            p, rep = replay(path, "--stream", "s", "--create-stream", endpoint=emu.url)
            accounted(self, rep)
            self.assertEqual(rep["records"]["sent"], 4)
            self.assertEqual(rep["records"]["bad_times"], 1)
            self.assertIn("row 2: the time '' in column ts is not an RFC 3339 time", p.stderr)
            self.assertEqual(p.stderr.count("read as UTC"), 1, p.stderr)  # said once
            self.assertIn("row 3: the time has no offset", p.stderr)
            p, rep = replay(path, "--stream", "s", "--respect-timing", endpoint=emu.url, expect_rc=(2,))
            self.assertIn("--respect-timing needs every record's time", rep["stopped"]["reason"])
            self.assertEqual(rep["records"]["sent"], 0)
            # --quiet keeps what went wrong and drops what is only of interest.
            p, rep = replay(path, "--stream", "s", "--quiet", endpoint=emu.url)
            self.assertIn("is not an RFC 3339 time", p.stderr)
            self.assertNotIn("read as UTC", p.stderr)
            self.assertNotIn("records ", p.stderr)


class AgainstFaults(TempDirCase):

    def setUp(self):
        super().setUp()
        self.emu = Emulator()
        FaultProxy.upstream = self.emu.port
        FaultProxy.puts = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultProxy)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.emu.close()
        super().tearDown()

    def test_preflight_server_fault_is_retried(self):
        FaultProxy.describe_faults = 3
        FaultProxy.stall_from = 0
        path = os.path.join(self.tmp, "a.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i)) for i in range(10)])
        p, rep = replay(path, "--stream", "s", "--create-stream", endpoint=self.url)
        self.assertEqual(FaultProxy.describe_faults, 0)
        self.assertIn("DescribeStreamSummary for s got InternalFailure (HTTP 500): trying again", p.stderr)
        self.assertEqual(rep["records"]["sent"], 10)
        # A fault that does not go away ends it, saying so.
        FaultProxy.describe_faults = 1000
        p, rep = replay(path, "--stream", "s", "--max-retries", "2", endpoint=self.url, expect_rc=(2,))
        self.assertIn("InternalFailure (HTTP 500, after retries)", p.stderr)

    def test_timeouts_are_counted_apart_from_latency(self):
        FaultProxy.describe_faults = 0
        FaultProxy.stall_from = 2
        path = os.path.join(self.tmp, "b.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i)) for i in range(3)])
        p, rep = replay(path, "--stream", "s", "--create-stream", "--rate", "20", "--linger", "0", "--lanes", "1",
                        "--concurrency", "1", "--timeout", "0.3", "--max-retries", "1", endpoint=self.url,
                        expect_rc=(1,))
        accounted(self, rep)
        self.assertGreaterEqual(rep["requests"]["timed_out"], 2)
        self.assertEqual(rep["latency"]["count"], rep["requests"]["total"] - rep["requests"]["timed_out"])
        self.assertLess(rep["latency"]["max_ms"], 300)
        self.assertRegex(p.stderr, r"\d+ timed out after --timeout 0.3 s \(not in the latency figures\)")


class Terminal(TempDirCase):

    def test_progress_fits_the_terminal_and_names_the_top_error(self):
        path = os.path.join(self.tmp, "p.csv")
        write_csv(path, ["data", "ts"], [(f"r{i}", ts(i * 0.002)) for i in range(600)])
        with Emulator("--error-probability", "0.3") as emu:
            rc, text = replay_on_a_terminal([path, "--stream", "p", "--create-stream", "--respect-timing",
                                             "--endpoint", emu.url], columns=100)
            self.assertEqual(rc, 0, text)
            self.assertTrue(text.startswith(f"kintape replay: {path} -> p at {emu.url}"), text[:200])
            lines = [seg.strip("\r") for seg in re.split(r"\r\x1b\[K|\n", text) if " rec/s " in seg]
            self.assertTrue(lines, text)
            self.assertTrue(all(len(seg) < 100 for seg in lines), max(lines, key=len))
            self.assertTrue(any("% read" in seg for seg in lines), lines[-1])
            rc, text = replay_on_a_terminal([path, "--stream", "p", "--respect-timing", "--speed", "4",
                                             "--endpoint", emu.url], columns=300)
            self.assertIn("top error ProvisionedThroughputExceededException x", text)
