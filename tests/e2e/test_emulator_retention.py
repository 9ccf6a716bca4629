"""Retention against the emulator, with its test-only clock (--test-clock) moved on instead of waiting hours:
records past the retention period are really removed (their memory returned), TRIM_HORIZON moves with them,
and an iterator at a removed record starts at the oldest one kept."""
import http.client
import json
import time
import unittest

from botocore.exceptions import ClientError

from .kt import EmulatorTestCase, boto3_client

HOUR_MS = 3600 * 1000


class Retention(EmulatorTestCase, unittest.TestCase):
    emulator_args = ("--test-clock",)

    def get(self, method, path):
        c = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        c.request(method, path)
        r = c.getresponse()
        return r.status, json.loads(r.read())

    def advance(self, ms):
        status, body = self.get("POST", f"/_kintape/clock?advance_ms={ms}")
        self.assertEqual(status, 200, body)
        return body

    def health(self):
        return self.get("GET", "/health")[1]

    def test_old_records_go_and_trim_horizon_moves(self):
        k = boto3_client(self.emu)
        k.create_stream(StreamName="ret", ShardCount=1)
        old = [k.put_records(StreamName="ret", Records=[{"Data": bytes(10000), "PartitionKey": f"old{i}-{j}"}
                                                         for j in range(50)])["Records"] for i in range(4)]
        first_old = old[0][0]["SequenceNumber"]
        before = self.health()["bytes"]
        self.assertGreater(before, 2_000_000)
        self.advance(12 * HOUR_MS)
        k.put_record(StreamName="ret", Data=b"new", PartitionKey="new")
        self.advance(13 * HOUR_MS)  # the old records are 25 hours old, the new one 13
        time.sleep(2.5)  # the emulator frees expired records every second
        after = self.health()["bytes"]
        self.assertLess(after, before * 0.2, "the memory of records past retention is given back")

        def read(**kw):
            it = k.get_shard_iterator(StreamName="ret", ShardId="shardId-000000000000", **kw)["ShardIterator"]
            return [r["PartitionKey"] for r in k.get_records(ShardIterator=it)["Records"]]

        self.assertEqual(read(ShardIteratorType="TRIM_HORIZON"), ["new"])
        # an iterator at a removed record starts at the oldest one kept, as on AWS
        self.assertEqual(read(ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=first_old), ["new"])
        # a longer retention keeps records: 48 hours on a new stream
        k.create_stream(StreamName="ret48", ShardCount=1)
        k.increase_stream_retention_period(StreamName="ret48", RetentionPeriodHours=48)
        k.put_record(StreamName="ret48", Data=b"kept", PartitionKey="kept")
        self.advance(30 * HOUR_MS)
        time.sleep(1.5)
        it = k.get_shard_iterator(StreamName="ret48", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual([r["Data"] for r in k.get_records(ShardIterator=it)["Records"]], [b"kept"])
        # an iterator issued before the clock moved on has expired, as it would have on AWS
        with self.assertRaises(ClientError) as cm:
            old_it = k.get_shard_iterator(StreamName="ret48", ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            self.advance(6 * 60 * 1000)
            k.get_records(ShardIterator=old_it)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ExpiredIteratorException")

    def test_the_clock_endpoint_refuses_bad_input(self):
        self.assertEqual(self.get("POST", "/_kintape/clock?advance_ms=-5")[0], 400)
        self.assertEqual(self.get("POST", "/_kintape/clock?advance_ms=abc")[0], 400)


class NoTestClock(EmulatorTestCase, unittest.TestCase):
    """Without --test-clock the path is no different from any other: the clock cannot be moved."""

    def test_the_clock_endpoint_is_off(self):
        c = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        c.request("POST", "/_kintape/clock?advance_ms=1000")
        r = c.getresponse()
        body = r.read()
        self.assertNotEqual(r.status, 200, body)
        self.assertNotIn(b"now_ms", body)


if __name__ == "__main__":
    unittest.main()
