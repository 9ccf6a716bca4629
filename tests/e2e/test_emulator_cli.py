"""The emulator driven by the real AWS CLI: every implemented operation."""
import json
import time
import unittest

from .kt import EmulatorTestCase, aws


class AwsCli(EmulatorTestCase, unittest.TestCase):

    def ok(self, *args, **kw):
        rc, out, err = aws(self.emu, "kinesis", *args, **kw)
        self.assertEqual(rc, 0, f"aws kinesis {' '.join(args)}: {err}")
        return out

    def fails(self, code, *args):
        rc, out, err = aws(self.emu, "kinesis", *args)
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"({code})", err)
        return err

    def test_every_operation(self):
        self.ok("create-stream", "--stream-name", "cli", "--shard-count", "2")
        self.ok("wait", "stream-exists", "--stream-name", "cli")
        d = self.ok("describe-stream", "--stream-name", "cli")["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertEqual(len(d["Shards"]), 2)
        s = self.ok("describe-stream-summary", "--stream-name", "cli")["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 2)
        self.assertIn("cli", self.ok("list-streams")["StreamNames"])
        shards = self.ok("list-shards", "--stream-name", "cli")["Shards"]
        self.assertEqual([x["ShardId"] for x in shards], ["shardId-000000000000", "shardId-000000000001"])

        r1 = self.ok("put-record", "--stream-name", "cli", "--partition-key", "user-1", "--data", "first")
        r2 = self.ok("put-record", "--stream-name", "cli", "--partition-key", "user-1", "--data", "second",
                     "--sequence-number-for-ordering", r1["SequenceNumber"])
        self.assertEqual(r1["ShardId"], r2["ShardId"])
        self.assertGreater(int(r2["SequenceNumber"]), int(r1["SequenceNumber"]))
        r3 = self.ok("put-record", "--stream-name", "cli", "--partition-key", "x", "--data", "third",
                     "--explicit-hash-key", "0")
        self.assertEqual(r3["ShardId"], "shardId-000000000000")
        recs = json.dumps([{"Data": f"batch-{i}", "PartitionKey": "user-1"} for i in range(5)])
        pr = self.ok("put-records", "--stream-name", "cli", "--records", recs)
        self.assertEqual(pr["FailedRecordCount"], 0)
        self.assertEqual(len(pr["Records"]), 5)

        shard = r1["ShardId"]

        def read(*it_args):
            it = self.ok("get-shard-iterator", "--stream-name", "cli", "--shard-id", shard, *it_args)["ShardIterator"]
            return self.ok("get-records", "--shard-iterator", it)

        import base64
        got = read("--shard-iterator-type", "TRIM_HORIZON")
        datas = [base64.b64decode(r["Data"]) for r in got["Records"]]
        self.assertEqual(datas[:2], [b"first", b"second"])
        self.assertIn(b"batch-4", datas)
        self.assertIn("NextShardIterator", got)
        self.assertEqual(got["MillisBehindLatest"], 0)
        got = read("--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", r2["SequenceNumber"])
        self.assertEqual(base64.b64decode(got["Records"][0]["Data"]), b"second")
        got = read("--shard-iterator-type", "AFTER_SEQUENCE_NUMBER", "--starting-sequence-number",
                   r1["SequenceNumber"])
        self.assertEqual(base64.b64decode(got["Records"][0]["Data"]), b"second")
        self.assertEqual(read("--shard-iterator-type", "LATEST")["Records"], [])
        got = read("--shard-iterator-type", "AT_TIMESTAMP", "--timestamp", str(int(time.time()) - 60))
        self.assertEqual(base64.b64decode(got["Records"][0]["Data"]), b"first")
        got = self.ok("get-records", "--shard-iterator", self.ok(
            "get-shard-iterator", "--stream-name", "cli", "--shard-id", shard, "--shard-iterator-type",
            "TRIM_HORIZON")["ShardIterator"], "--limit", "1")
        self.assertEqual(len(got["Records"]), 1)

        self.ok("add-tags-to-stream", "--stream-name", "cli", "--tags", "env=test,team=data")
        tags = self.ok("list-tags-for-stream", "--stream-name", "cli")["Tags"]
        self.assertEqual(tags, [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "data"}])
        self.ok("remove-tags-from-stream", "--stream-name", "cli", "--tag-keys", "env")
        self.assertEqual(len(self.ok("list-tags-for-stream", "--stream-name", "cli")["Tags"]), 1)

        self.ok("increase-stream-retention-period", "--stream-name", "cli", "--retention-period-hours", "72")
        self.ok("decrease-stream-retention-period", "--stream-name", "cli", "--retention-period-hours", "48")
        self.assertEqual(self.ok("describe-stream", "--stream-name", "cli")["StreamDescription"]
                         ["RetentionPeriodHours"], 48)
        limits = self.ok("describe-limits")
        self.assertEqual(limits["ShardLimit"], 100)
        self.assertGreaterEqual(limits["OpenShardCount"], 2)

        self.ok("delete-stream", "--stream-name", "cli")
        self.ok("wait", "stream-not-exists", "--stream-name", "cli")

    def test_errors_reach_the_cli(self):
        self.fails("ResourceNotFoundException", "describe-stream", "--stream-name", "cli-none")
        self.ok("create-stream", "--stream-name", "cli-dup", "--shard-count", "1")
        self.fails("ResourceInUseException", "create-stream", "--stream-name", "cli-dup", "--shard-count", "1")
        self.fails("InvalidArgumentException", "get-shard-iterator", "--stream-name", "cli-dup", "--shard-id",
                   "shardId-000000000000", "--shard-iterator-type", "AT_SEQUENCE_NUMBER")
        err = self.fails("ValidationException", "create-stream", "--stream-name", "bad name!", "--shard-count", "1")
        self.assertIn("Member must satisfy regular expression pattern", err)
        err = self.fails("InvalidArgumentException", "update-shard-count", "--stream-name", "cli-dup",
                         "--target-shard-count", "3", "--scaling-type", "UNIFORM_SCALING")
        self.assertIn("more than double the current shard count 1", err)
        self.ok("delete-stream", "--stream-name", "cli-dup")

    def test_stream_arn_and_pagination(self):
        self.ok("create-stream", "--stream-name", "cli-arn", "--shard-count", "5")
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/cli-arn"
        self.assertEqual(self.ok("describe-stream-summary", "--stream-arn", arn)["StreamDescriptionSummary"]
                         ["StreamName"], "cli-arn")
        shards = self.ok("list-shards", "--stream-name", "cli-arn", "--max-results", "10")["Shards"]
        self.assertEqual(len(shards), 5)
        # The CLI's ListShards paginator sends StreamName with NextToken, which AWS refuses
        # (aws/aws-cli#9635); the emulator answers as AWS does.
        err = self.fails("InvalidArgumentException", "list-shards", "--stream-name", "cli-arn", "--page-size", "2")
        self.assertIn("NextToken and StreamName cannot be provided together.", err)
        d = self.ok("describe-stream", "--stream-name", "cli-arn", "--page-size", "2")["StreamDescription"]
        self.assertEqual(len(d["Shards"]), 5)
        self.ok("delete-stream", "--stream-arn", arn)


if __name__ == "__main__":
    unittest.main()
