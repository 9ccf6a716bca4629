"""The emulator driven by boto3: every implemented operation and its semantics."""
import base64
import datetime
import hashlib
import time
import unittest

from botocore.exceptions import ClientError

from .kt import Emulator, EmulatorTestCase, boto3_client


def md5_int(key):
    return int(hashlib.md5(key.encode()).hexdigest(), 16)


def error_code(cm):
    return cm.exception.response["Error"]["Code"]


def error_message(cm):
    return cm.exception.response["Error"]["Message"]


def read_shard(k, stream, shard_id, iterator_type="TRIM_HORIZON", **kw):
    it = k.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=iterator_type,
                              **kw)["ShardIterator"]
    out = []
    while True:
        r = k.get_records(ShardIterator=it, Limit=10000)
        out.extend(r["Records"])
        if not r["Records"]:
            return out, r
        it = r["NextShardIterator"]


class Boto3Streams(EmulatorTestCase, unittest.TestCase):

    def setUp(self):
        self.k = boto3_client(self.emu)

    def test_create_describe_list_delete(self):
        k = self.k
        k.create_stream(StreamName="b3-life", ShardCount=3)
        k.get_waiter("stream_exists").wait(StreamName="b3-life", WaiterConfig={"Delay": 1})
        d = k.describe_stream(StreamName="b3-life")["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertEqual(d["StreamARN"], "arn:aws:kinesis:us-east-1:000000000000:stream/b3-life")
        self.assertEqual([s["ShardId"] for s in d["Shards"]],
                         ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
        self.assertFalse(d["HasMoreShards"])
        self.assertEqual(d["RetentionPeriodHours"], 24)
        self.assertIsInstance(d["StreamCreationTimestamp"], datetime.datetime)
        # Ranges split the key space evenly and cover it.
        starts = [int(s["HashKeyRange"]["StartingHashKey"]) for s in d["Shards"]]
        ends = [int(s["HashKeyRange"]["EndingHashKey"]) for s in d["Shards"]]
        self.assertEqual(starts[0], 0)
        self.assertEqual(ends[-1], 2 ** 128 - 1)
        for i in range(1, 3):
            self.assertEqual(starts[i], ends[i - 1] + 1)
            self.assertEqual(starts[i], i * (2 ** 128 // 3))
        summary = k.describe_stream_summary(StreamName="b3-life")["StreamDescriptionSummary"]
        self.assertEqual(summary["OpenShardCount"], 3)
        self.assertEqual(summary["StreamModeDetails"]["StreamMode"], "PROVISIONED")
        self.assertIn("b3-life", k.list_streams()["StreamNames"])
        with self.assertRaises(ClientError) as cm:
            k.create_stream(StreamName="b3-life", ShardCount=1)
        self.assertEqual(error_code(cm), "ResourceInUseException")
        self.assertEqual(error_message(cm), "Stream b3-life under account 000000000000 already exists.")
        k.delete_stream(StreamName="b3-life")
        k.get_waiter("stream_not_exists").wait(StreamName="b3-life", WaiterConfig={"Delay": 1})
        with self.assertRaises(ClientError) as cm:
            k.describe_stream(StreamName="b3-life")
        self.assertEqual(error_code(cm), "ResourceNotFoundException")
        self.assertEqual(error_message(cm), "Stream b3-life under account 000000000000 not found.")

    def test_describe_stream_pagination(self):
        k = self.k
        k.create_stream(StreamName="b3-pages", ShardCount=7)
        d = k.describe_stream(StreamName="b3-pages", Limit=3)["StreamDescription"]
        self.assertEqual(len(d["Shards"]), 3)
        self.assertTrue(d["HasMoreShards"])
        d = k.describe_stream(StreamName="b3-pages", Limit=3,
                              ExclusiveStartShardId="shardId-000000000005")["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in d["Shards"]], ["shardId-000000000006"])
        self.assertFalse(d["HasMoreShards"])
        # The paginator walks every shard exactly once.
        ids = []
        for page in k.get_paginator("describe_stream").paginate(StreamName="b3-pages",
                                                                 PaginationConfig={"PageSize": 2}):
            ids += [s["ShardId"] for s in page["StreamDescription"]["Shards"]]
        self.assertEqual(ids, [f"shardId-{i:012d}" for i in range(7)])
        # ListShards: MaxResults and NextToken, which excludes StreamName.
        r = k.list_shards(StreamName="b3-pages", MaxResults=4)
        self.assertEqual(len(r["Shards"]), 4)
        r2 = k.list_shards(NextToken=r["NextToken"], MaxResults=10)
        self.assertEqual([s["ShardId"] for s in r2["Shards"]], [f"shardId-{i:012d}" for i in range(4, 7)])
        self.assertNotIn("NextToken", r2)
        with self.assertRaises(ClientError) as cm:
            k.list_shards(StreamName="b3-pages", NextToken=r["NextToken"])
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        r = k.list_shards(StreamName="b3-pages", ExclusiveStartShardId="shardId-000000000004")
        self.assertEqual(len(r["Shards"]), 2)
        r = k.list_shards(StreamName="b3-pages",
                          ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000005"})
        self.assertEqual([s["ShardId"] for s in r["Shards"]], ["shardId-000000000006"])
        r = k.list_shards(StreamName="b3-pages", ShardFilter={"Type": "AT_TRIM_HORIZON"})
        self.assertEqual(len(r["Shards"]), 7)
        r = k.list_shards(StreamName="b3-pages",
                          ShardFilter={"Type": "AT_TIMESTAMP", "Timestamp": datetime.datetime.now()})
        self.assertEqual(len(r["Shards"]), 7)
        with self.assertRaises(ClientError) as cm:
            k.list_shards(StreamName="b3-pages", ShardFilter={"Type": "AT_TIMESTAMP"})
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        k.delete_stream(StreamName="b3-pages")

    def test_list_streams_pagination(self):
        k = self.k
        names = [f"b3-list-{i:02d}" for i in range(12)]
        for n in names:
            k.create_stream(StreamName=n, ShardCount=1)
        r = k.list_streams(Limit=5, ExclusiveStartStreamName="b3-list-")
        self.assertEqual(r["StreamNames"], names[:5])
        self.assertTrue(r["HasMoreStreams"])
        self.assertEqual([s["StreamName"] for s in r["StreamSummaries"]], names[:5])
        self.assertEqual(r["StreamSummaries"][0]["StreamStatus"], "ACTIVE")
        r2 = k.list_streams(Limit=5, NextToken=r["NextToken"])
        self.assertEqual(r2["StreamNames"], names[5:10])
        seen = []
        for page in k.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 4}):
            seen += page["StreamNames"]
        self.assertEqual([n for n in seen if n.startswith("b3-list-")], names)
        self.assertEqual(len(seen), len(set(seen)))
        # Streams are per region.
        eu = boto3_client(self.emu, region="eu-west-1")
        self.assertNotIn("b3-list-00", eu.list_streams()["StreamNames"])
        eu.create_stream(StreamName="b3-list-00", ShardCount=1)
        self.assertEqual(eu.describe_stream_summary(StreamName="b3-list-00")["StreamDescriptionSummary"]
                         ["StreamARN"], "arn:aws:kinesis:eu-west-1:000000000000:stream/b3-list-00")
        eu.delete_stream(StreamName="b3-list-00")
        for n in names:
            k.delete_stream(StreamName=n)

    def test_on_demand_and_limits(self):
        k = self.k
        before = k.describe_limits()
        k.create_stream(StreamName="b3-od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
        s = k.describe_stream_summary(StreamName="b3-od")["StreamDescriptionSummary"]
        self.assertEqual(s["StreamModeDetails"]["StreamMode"], "ON_DEMAND")
        self.assertEqual(s["OpenShardCount"], 4)
        after = k.describe_limits()
        self.assertEqual(after["ShardLimit"], 100)
        self.assertEqual(after["OpenShardCount"], before["OpenShardCount"] + 4)
        self.assertEqual(after["OnDemandStreamCount"], before["OnDemandStreamCount"] + 1)
        self.assertEqual(after["OnDemandStreamCountLimit"], 50)
        with self.assertRaises(ClientError) as cm:
            k.create_stream(StreamName="b3-noshards")
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.create_stream(StreamName="b3-toomany", ShardCount=1000)
        self.assertEqual(error_code(cm), "LimitExceededException")
        self.assertIn("shard limit for the account 000000000000 in us-east-1", error_message(cm))
        self.assertIn("Limit: 100.", error_message(cm))
        k.delete_stream(StreamName="b3-od")

    def test_tags(self):
        k = self.k
        k.create_stream(StreamName="b3-tags", ShardCount=1, Tags={"team": "data"})
        k.add_tags_to_stream(StreamName="b3-tags", Tags={"env": "test", "cost": "7"})
        r = k.list_tags_for_stream(StreamName="b3-tags")
        self.assertEqual(r["Tags"], [{"Key": "cost", "Value": "7"}, {"Key": "env", "Value": "test"},
                                     {"Key": "team", "Value": "data"}])
        self.assertFalse(r["HasMoreTags"])
        r = k.list_tags_for_stream(StreamName="b3-tags", Limit=1, ExclusiveStartTagKey="cost")
        self.assertEqual(r["Tags"], [{"Key": "env", "Value": "test"}])
        self.assertTrue(r["HasMoreTags"])
        k.add_tags_to_stream(StreamName="b3-tags", Tags={"env": "prod"})
        k.remove_tags_from_stream(StreamName="b3-tags", TagKeys=["cost", "absent"])
        r = k.list_tags_for_stream(StreamName="b3-tags")
        self.assertEqual(r["Tags"], [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}])
        with self.assertRaises(ClientError) as cm:
            k.add_tags_to_stream(StreamName="b3-tags", Tags={"bad<char>": "x"})
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.add_tags_to_stream(StreamName="b3-tags", Tags={f"k{i}": "v" for i in range(60)})
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.list_tags_for_stream(StreamName="b3-nope")
        self.assertEqual(error_code(cm), "ResourceNotFoundException")
        k.delete_stream(StreamName="b3-tags")

    def test_retention(self):
        k = self.k
        k.create_stream(StreamName="b3-ret", ShardCount=1)
        k.increase_stream_retention_period(StreamName="b3-ret", RetentionPeriodHours=48)
        self.assertEqual(k.describe_stream(StreamName="b3-ret")["StreamDescription"]["RetentionPeriodHours"], 48)
        with self.assertRaises(ClientError) as cm:
            k.increase_stream_retention_period(StreamName="b3-ret", RetentionPeriodHours=36)
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        self.assertEqual(error_message(cm), "Requested retention period (36 hours) for stream b3-ret can not be "
                                            "shorter than existing retention period (48 hours). Use "
                                            "DecreaseRetentionPeriod API.")
        with self.assertRaises(ClientError) as cm:
            k.decrease_stream_retention_period(StreamName="b3-ret", RetentionPeriodHours=72)
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.decrease_stream_retention_period(StreamName="b3-ret", RetentionPeriodHours=23)
        self.assertIn("Minimum allowed retention period is 24 hours", error_message(cm))
        with self.assertRaises(ClientError) as cm:
            k.increase_stream_retention_period(StreamName="b3-ret", RetentionPeriodHours=8761)
        self.assertIn("Maximum allowed retention period is 8760 hours", error_message(cm))
        k.decrease_stream_retention_period(StreamName="b3-ret", RetentionPeriodHours=24)
        self.assertEqual(k.describe_stream_summary(StreamName="b3-ret")["StreamDescriptionSummary"]
                         ["RetentionPeriodHours"], 24)
        k.delete_stream(StreamName="b3-ret")

    def test_stream_arn_everywhere(self):
        k = self.k
        k.create_stream(StreamName="b3-arn", ShardCount=2)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/b3-arn"
        self.assertEqual(k.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"], "b3-arn")
        r = k.put_record(StreamARN=arn, Data=b"x", PartitionKey="p")
        it = k.get_shard_iterator(StreamARN=arn, ShardId=r["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        recs = k.get_records(ShardIterator=it, StreamARN=arn)["Records"]
        self.assertEqual(recs[0]["Data"], b"x")
        k.put_records(StreamARN=arn, Records=[{"Data": b"y", "PartitionKey": "p"}])
        k.add_tags_to_stream(StreamARN=arn, Tags={"a": "b"})
        self.assertEqual(len(k.list_tags_for_stream(StreamARN=arn)["Tags"]), 1)
        self.assertEqual(len(k.list_shards(StreamARN=arn)["Shards"]), 2)
        with self.assertRaises(ClientError) as cm:
            k.describe_stream(StreamARN="arn:aws:kinesis:us-east-1:111111111111:stream/b3-arn")
        self.assertEqual(error_code(cm), "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            k.describe_stream_summary()
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        k.delete_stream(StreamARN=arn)


class Boto3Records(EmulatorTestCase, unittest.TestCase):

    def setUp(self):
        self.k = boto3_client(self.emu)

    def test_routing_by_md5_and_explicit_hash_key(self):
        k = self.k
        k.create_stream(StreamName="r-route", ShardCount=4)
        shards = k.describe_stream(StreamName="r-route")["StreamDescription"]["Shards"]

        def expected(h):
            for s in shards:
                if int(s["HashKeyRange"]["StartingHashKey"]) <= h <= int(s["HashKeyRange"]["EndingHashKey"]):
                    return s["ShardId"]

        for i in range(60):
            key = f"key-{i}-é"
            r = k.put_record(StreamName="r-route", Data=b"d", PartitionKey=key)
            self.assertEqual(r["ShardId"], expected(md5_int(key)), key)
        for h in (0, 2 ** 126, 2 ** 127 + 5, 2 ** 128 - 1):
            r = k.put_record(StreamName="r-route", Data=b"d", PartitionKey="ignored", ExplicitHashKey=str(h))
            self.assertEqual(r["ShardId"], expected(h))
        r = k.put_records(StreamName="r-route", Records=[
            {"Data": b"a", "PartitionKey": "x", "ExplicitHashKey": "0"},
            {"Data": b"b", "PartitionKey": "x", "ExplicitHashKey": str(2 ** 128 - 1)}])
        self.assertEqual([e["ShardId"] for e in r["Records"]], ["shardId-000000000000", "shardId-000000000003"])
        with self.assertRaises(ClientError) as cm:
            k.put_record(StreamName="r-route", Data=b"d", PartitionKey="p", ExplicitHashKey=str(2 ** 128))
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        k.delete_stream(StreamName="r-route")

    def test_put_get_order_and_sequence_numbers(self):
        k = self.k
        k.create_stream(StreamName="r-order", ShardCount=2)
        sent = {}
        for batch in range(5):
            recs = [{"Data": f"rec-{batch}-{i}".encode() + bytes([i % 256, 0, 255]), "PartitionKey": f"pk{i % 7}"}
                    for i in range(100)]
            r = k.put_records(StreamName="r-order", Records=recs)
            self.assertEqual(r["FailedRecordCount"], 0)
            self.assertEqual(len(r["Records"]), 100)
            for rec, res in zip(recs, r["Records"]):
                sent.setdefault(res["ShardId"], []).append((res["SequenceNumber"], rec["Data"], rec["PartitionKey"]))
        for shard_id, items in sent.items():
            seqs = [int(s) for s, _, _ in items]
            self.assertEqual(seqs, sorted(seqs))
            self.assertEqual(len(set(seqs)), len(seqs))
            self.assertTrue(all(len(s) == 56 for s, _, _ in items))
            got, last = read_shard(k, "r-order", shard_id)
            self.assertEqual([(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in got], items)
            self.assertEqual(last["MillisBehindLatest"], 0)
            for r in got:
                ts = r["ApproximateArrivalTimestamp"]
                self.assertIsInstance(ts, datetime.datetime)
                self.assertLess(abs(ts.timestamp() - time.time()), 120)
        k.delete_stream(StreamName="r-order")

    def test_iterator_types(self):
        k = self.k
        k.create_stream(StreamName="r-iter", ShardCount=1)
        sid = "shardId-000000000000"
        # An empty shard: no records but a usable next iterator.
        recs, last = read_shard(k, "r-iter", sid)
        self.assertEqual(recs, [])
        self.assertIn("NextShardIterator", last)
        latest = k.get_shard_iterator(StreamName="r-iter", ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
        seqs = [k.put_record(StreamName="r-iter", Data=str(i).encode(), PartitionKey="p")["SequenceNumber"]
                for i in range(10)]
        # boto3 sends AT_TIMESTAMP in whole seconds: cross a second boundary.
        time.sleep(1.05 - time.time() % 1)
        mid_time = datetime.datetime.now(datetime.timezone.utc)
        seqs += [k.put_record(StreamName="r-iter", Data=str(i).encode(), PartitionKey="p")["SequenceNumber"]
                 for i in range(10, 15)]
        # LATEST taken before the puts sees all of them.
        self.assertEqual(len(k.get_records(ShardIterator=latest)["Records"]), 15)
        recs, _ = read_shard(k, "r-iter", sid, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[3])
        self.assertEqual(recs[0]["SequenceNumber"], seqs[3])
        self.assertEqual(len(recs), 12)
        recs, _ = read_shard(k, "r-iter", sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[3])
        self.assertEqual(recs[0]["SequenceNumber"], seqs[4])
        recs, _ = read_shard(k, "r-iter", sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[-1])
        self.assertEqual(recs, [])
        recs, _ = read_shard(k, "r-iter", sid, "AT_TIMESTAMP", Timestamp=mid_time)
        self.assertEqual([r["Data"] for r in recs], [str(i).encode() for i in range(10, 15)])
        recs, _ = read_shard(k, "r-iter", sid, "LATEST")
        self.assertEqual(recs, [])
        # Limit and MillisBehindLatest.
        it = k.get_shard_iterator(StreamName="r-iter", ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        r = k.get_records(ShardIterator=it, Limit=4)
        self.assertEqual(len(r["Records"]), 4)
        self.assertGreaterEqual(r["MillisBehindLatest"], 0)
        r = k.get_records(ShardIterator=r["NextShardIterator"], Limit=100)
        self.assertEqual(len(r["Records"]), 11)
        self.assertEqual(r["MillisBehindLatest"], 0)
        # An iterator stays valid for reuse.
        self.assertEqual(len(k.get_records(ShardIterator=it, Limit=2)["Records"]), 2)
        # Errors, in AWS's words.
        with self.assertRaises(ClientError) as cm:
            k.get_shard_iterator(StreamName="r-iter", ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER")
        self.assertIn("Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber", error_message(cm))
        with self.assertRaises(ClientError) as cm:
            k.get_shard_iterator(StreamName="r-iter", ShardId=sid, ShardIteratorType="LATEST",
                                 StartingSequenceNumber=seqs[0])
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.get_shard_iterator(StreamName="r-iter", ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                 StartingSequenceNumber="12345")
        self.assertIn("did not come from this stream", error_message(cm))
        with self.assertRaises(ClientError) as cm:
            k.get_shard_iterator(StreamName="r-iter", ShardId=sid, ShardIteratorType="AT_TIMESTAMP")
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.get_shard_iterator(StreamName="r-iter", ShardId="shardId-000000000009",
                                 ShardIteratorType="LATEST")
        self.assertEqual(error_code(cm), "ResourceNotFoundException")
        self.assertEqual(error_message(cm), "Shard shardId-000000000009 in stream r-iter under account "
                                            "000000000000 does not exist")
        # Shards are named as AWS names them, whatever form the request used; the shard id is read before
        # the stream, and a stream that is not there is answered in the shard's words.
        for shard, stream, message in (
                ("shardId-9", "r-iter", "Shard shardId-000000000009 in stream r-iter under account 000000000000 "
                                        "does not exist"),
                ("shardId-000000000003", "no-such-stream", "Shard shardId-000000000003 in stream no-such-stream "
                                                           "under account 000000000000 does not exist"),
                ("shardId-x1", "no-such-stream", "Could not find shard shardId-x1 in stream no-such-stream under "
                                                 "account 000000000000."),
                ("shardId-99999999999", "r-iter", "Could not find shard shardId-99999999999 in stream r-iter under "
                                                  "account 000000000000.")):
            with self.assertRaises(ClientError) as cm:
                k.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="LATEST")
            self.assertEqual((error_code(cm), error_message(cm)), ("ResourceNotFoundException", message), shard)
        # The short form reaches the shard.
        self.assertIn("ShardIterator", k.get_shard_iterator(StreamName="r-iter", ShardId="shardId-0",
                                                            ShardIteratorType="LATEST"))
        with self.assertRaises(ClientError) as cm:
            k.get_records(ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAA")
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        self.assertEqual(error_message(cm), "Invalid ShardIterator.")
        # A sequence number of another shard names that shard.
        k.create_stream(StreamName="r-iter2", ShardCount=2)
        r = k.put_record(StreamName="r-iter2", Data=b"x", PartitionKey="p", ExplicitHashKey=str(2 ** 128 - 1))
        with self.assertRaises(ClientError) as cm:
            k.get_shard_iterator(StreamName="r-iter2", ShardId="shardId-000000000000",
                                 ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=r["SequenceNumber"])
        self.assertIn("It encodes shardId-000000000001", error_message(cm))
        # Iterators of a deleted (and re-created) stream no longer work.
        it = k.get_shard_iterator(StreamName="r-iter2", ShardId="shardId-000000000001",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        k.delete_stream(StreamName="r-iter2")
        k.create_stream(StreamName="r-iter2", ShardCount=2)
        with self.assertRaises(ClientError) as cm:
            k.get_records(ShardIterator=it)
        self.assertEqual(error_code(cm), "ResourceNotFoundException")
        k.delete_stream(StreamName="r-iter2")
        k.delete_stream(StreamName="r-iter")

    def test_checkpoint_at_the_shard_start_skips_no_record(self):
        # A consumer that checkpointed "nothing read yet" resumes AFTER the shard's StartingSequenceNumber:
        # on AWS that number is below the first record's, so the first record comes back.
        k = self.k
        k.create_stream(StreamName="r-start", ShardCount=2)
        for i in range(20):
            k.put_record(StreamName="r-start", Data=f"rec {i}".encode(), PartitionKey=f"pk{i}")
        for shard in k.list_shards(StreamName="r-start")["Shards"]:
            start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
            every, _ = read_shard(k, "r-start", shard["ShardId"])
            self.assertGreater(len(every), 0)
            self.assertLess(int(start), int(every[0]["SequenceNumber"]))
            for kind in ("AFTER_SEQUENCE_NUMBER", "AT_SEQUENCE_NUMBER"):
                recs, _ = read_shard(k, "r-start", shard["ShardId"], kind, StartingSequenceNumber=start)
                self.assertEqual([r["SequenceNumber"] for r in recs], [r["SequenceNumber"] for r in every], kind)

    def test_binary_and_large_records(self):
        k = self.k
        k.create_stream(StreamName="r-big", ShardCount=1)
        payloads = [b"", bytes(range(256)), b"\x00" * 1000, b"x" * (1024 * 1024 - 1)]
        for p in payloads:
            k.put_record(StreamName="r-big", Data=p, PartitionKey="k")
        got, _ = read_shard(k, "r-big", "shardId-000000000000")
        self.assertEqual([r["Data"] for r in got], payloads)
        with self.assertRaises(ClientError) as cm:
            k.put_record(StreamName="r-big", Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
        self.assertEqual(error_code(cm), "ValidationException")
        # data + key over 1 MiB
        with self.assertRaises(ClientError) as cm:
            k.put_record(StreamName="r-big", Data=b"x" * (1024 * 1024 - 1), PartitionKey="kk")
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        # PutRecords of 5 MiB exactly (keys counted) is accepted; one byte more is not.
        key = "k" * 10
        each = (5 * 1024 * 1024) // 5 - len(key)
        recs = [{"Data": b"y" * each, "PartitionKey": key} for _ in range(5)]
        self.assertEqual(k.put_records(StreamName="r-big", Records=recs)["FailedRecordCount"], 0)
        recs[0]["Data"] += b"y"
        with self.assertRaises(ClientError) as cm:
            k.put_records(StreamName="r-big", Records=recs)
        self.assertEqual(error_code(cm), "InvalidArgumentException")
        recs[0]["Data"] = recs[0]["Data"][:-1]
        self.assertEqual(k.put_records(StreamName="r-big", Records=recs)["FailedRecordCount"], 0)
        # 500 records are accepted in one call; the 10 MiB GetRecords cap splits reading.
        recs = [{"Data": b"z" * 10, "PartitionKey": f"p{i}"} for i in range(500)]
        self.assertEqual(len(k.put_records(StreamName="r-big", Records=recs)["Records"]), 500)
        it = k.get_shard_iterator(StreamName="r-big", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        first = k.get_records(ShardIterator=it)
        size = sum(len(r["Data"]) + len(r["PartitionKey"]) for r in first["Records"])
        self.assertLessEqual(size, 10 * 1024 * 1024)
        self.assertLess(len(first["Records"]), len(payloads) + 10 + 500)
        rest, _ = read_shard(k, "r-big", "shardId-000000000000", "AFTER_SEQUENCE_NUMBER",
                             StartingSequenceNumber=first["Records"][-1]["SequenceNumber"])
        self.assertEqual(len(first["Records"]) + len(rest), len(payloads) + 10 + 500)
        k.delete_stream(StreamName="r-big")

    def test_put_to_missing_stream(self):
        with self.assertRaises(ClientError) as cm:
            self.k.put_record(StreamName="r-none", Data=b"x", PartitionKey="p")
        self.assertEqual(error_code(cm), "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            self.k.put_records(StreamName="r-none", Records=[{"Data": b"x", "PartitionKey": "p"}])
        self.assertEqual(error_code(cm), "ResourceNotFoundException")


class Boto3Configuration(unittest.TestCase):
    """KINESIS_* settings, each on an emulator of its own."""

    def check_exit(self, emu):
        rc, log = emu.close()
        self.assertEqual(rc, 0, log)

    def test_error_probability(self):
        emu = Emulator(env={"KINESIS_ERROR_PROBABILITY": "0.5"})
        try:
            k = boto3_client(emu)
            k.create_stream(StreamName="e", ShardCount=2)
            r = k.put_records(StreamName="e", Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(500)])
            failed = [e for e in r["Records"] if "ErrorCode" in e]
            self.assertEqual(r["FailedRecordCount"], len(failed))
            self.assertTrue(100 < len(failed) < 400, len(failed))
            self.assertTrue(all(e["ErrorCode"] == "ProvisionedThroughputExceededException" for e in failed))
            self.assertIn("Rate exceeded for shard", failed[0]["ErrorMessage"])
            ok = [e for e in r["Records"] if "SequenceNumber" in e]
            self.assertEqual(len(ok) + len(failed), 500)
            # Only the accepted records were stored.
            total = 0
            for sid in ("shardId-000000000000", "shardId-000000000001"):
                total += len(read_shard(k, "e", sid)[0])
            self.assertEqual(total, len(ok))
            codes = set()
            for i in range(40):
                try:
                    k.put_record(StreamName="e", Data=b"x", PartitionKey="p")
                    codes.add("ok")
                except ClientError as e:
                    codes.add(e.response["Error"]["Code"])
            self.assertEqual(codes, {"ok", "ProvisionedThroughputExceededException"})
        finally:
            self.check_exit(emu)

    def test_latency(self):
        emu = Emulator("--latency", "150")
        try:
            k = boto3_client(emu)
            t0 = time.monotonic()
            k.list_streams()
            self.assertGreaterEqual(time.monotonic() - t0, 0.15)
        finally:
            self.check_exit(emu)

    def test_shard_limit_and_initialize_streams(self):
        emu = Emulator(env={"KINESIS_SHARD_LIMIT": "5",
                            "KINESIS_INITIALIZE_STREAMS": "alpha:2,beta:3,gamma:1:eu-west-1"})
        try:
            k = boto3_client(emu)
            self.assertEqual(sorted(k.list_streams()["StreamNames"]), ["alpha", "beta"])
            self.assertEqual(k.describe_stream_summary(StreamName="beta")["StreamDescriptionSummary"]
                             ["OpenShardCount"], 3)
            eu = boto3_client(emu, region="eu-west-1")
            self.assertEqual(eu.list_streams()["StreamNames"], ["gamma"])
            with self.assertRaises(ClientError) as cm:
                k.create_stream(StreamName="delta", ShardCount=1)
            self.assertEqual(error_code(cm), "LimitExceededException")
            self.assertIn("Current shard count for the account: 5. Limit: 5.", error_message(cm))
            self.assertEqual(k.describe_limits()["ShardLimit"], 5)
        finally:
            self.check_exit(emu)
        emu = Emulator(env={"KINESIS_SHARD_LIMIT": "Infinity"})
        try:
            k = boto3_client(emu)
            k.create_stream(StreamName="huge", ShardCount=1000)
            self.assertEqual(len(k.list_shards(StreamName="huge")["Shards"]), 1000)
        finally:
            self.check_exit(emu)

    def test_create_and_delete_delays(self):
        emu = Emulator("--create-stream-ms", "400", "--delete-stream-ms", "400")
        try:
            k = boto3_client(emu)
            k.create_stream(StreamName="slow", ShardCount=1)
            self.assertEqual(k.describe_stream(StreamName="slow")["StreamDescription"]["StreamStatus"], "CREATING")
            # As on AWS, a stream shows no shards until it is ACTIVE.
            self.assertEqual(k.describe_stream(StreamName="slow")["StreamDescription"]["Shards"], [])
            self.assertEqual(k.list_shards(StreamName="slow")["Shards"], [])
            # A stream still CREATING can be deleted: it goes DELETING (and shows no shards), then is gone.
            k.create_stream(StreamName="born-and-gone", ShardCount=2)
            k.delete_stream(StreamName="born-and-gone")
            d = k.describe_stream(StreamName="born-and-gone")["StreamDescription"]
            self.assertEqual((d["StreamStatus"], d["Shards"], d["HasMoreShards"]), ("DELETING", [], False))
            with self.assertRaises(ClientError) as cm:
                k.put_record(StreamName="slow", Data=b"x", PartitionKey="p")
            self.assertEqual(error_code(cm), "ResourceNotFoundException")
            k.get_waiter("stream_exists").wait(StreamName="slow", WaiterConfig={"Delay": 1})
            self.assertEqual(k.describe_stream(StreamName="slow")["StreamDescription"]["StreamStatus"], "ACTIVE")
            self.assertEqual(len(k.list_shards(StreamName="slow")["Shards"]), 1)
            k.delete_stream(StreamName="slow")
            self.assertEqual(k.describe_stream(StreamName="slow")["StreamDescription"]["StreamStatus"], "DELETING")
            self.assertEqual(k.list_shards(StreamName="slow")["Shards"], [])
            time.sleep(0.6)
            for name in ("slow", "born-and-gone"):
                with self.assertRaises(ClientError) as cm:
                    k.describe_stream(StreamName=name)
                self.assertEqual(error_code(cm), "ResourceNotFoundException")
        finally:
            self.check_exit(emu)

    def test_enforced_throughput_limits(self):
        # Off by default; with --enforce-limits a shard takes 1,000 records a second, record by record in
        # PutRecords, and 5 GetRecords calls a second, in AWS's words.
        def in_one_second(trial):
            """Runs trial() from the start of a wall-clock second until it ends inside that second."""
            for _ in range(5):
                time.sleep(1.02 - time.time() % 1)
                start = int(time.time())
                out = trial()
                if int(time.time()) == start:
                    return out
            self.fail("the machine is too slow to make the calls within one second")

        for args, env in ((("--enforce-limits",), None), ((), {"KINESIS_ENFORCE_LIMITS": "1"})):
            emu = Emulator(*args, env=env)
            try:
                k = boto3_client(emu)
                k.create_stream(StreamName="lim", ShardCount=1)
                batch = [{"Data": b"x" * 10, "PartitionKey": f"k{i}"} for i in range(500)]
                # Below the limit: 400 records in a second, none refused.
                self.assertEqual(in_one_second(lambda: k.put_records(StreamName="lim", Records=batch[:400]))
                                 ["FailedRecordCount"], 0)

                # Above it: 1,500 records within one second, the last 500 refused one by one; a PutRecord too.
                def over():
                    results = [k.put_records(StreamName="lim", Records=batch) for _ in range(3)]
                    try:
                        k.put_record(StreamName="lim", Data=b"x", PartitionKey="p")
                        single = None
                    except ClientError as e:
                        single = e.response["Error"]["Code"]
                    return results, single
                results, single = in_one_second(over)
                failed = [r for res in results for r in res["Records"] if "ErrorCode" in r]
                self.assertEqual(len(failed), 500, [res["FailedRecordCount"] for res in results])
                self.assertEqual(failed[0]["ErrorCode"], "ProvisionedThroughputExceededException")
                self.assertEqual(failed[0]["ErrorMessage"], "Rate exceeded for shard shardId-000000000000 in stream "
                                                            "lim under account 000000000000.")
                self.assertEqual(single, "ProvisionedThroughputExceededException")

                # Reads: the sixth GetRecords within a second is refused.
                def reads():
                    it = k.get_shard_iterator(StreamName="lim", ShardId="shardId-000000000000",
                                              ShardIteratorType="LATEST")["ShardIterator"]
                    codes = []
                    for _ in range(6):
                        try:
                            it = k.get_records(ShardIterator=it, Limit=1)["NextShardIterator"]
                            codes.append("ok")
                        except ClientError as e:
                            codes.append(e.response["Error"]["Code"])
                    return codes
                self.assertEqual(in_one_second(reads), ["ok"] * 5 + ["ProvisionedThroughputExceededException"])
            finally:
                self.check_exit(emu)
        # Without the flag nothing is throttled.
        emu = Emulator()
        try:
            k = boto3_client(emu)
            k.create_stream(StreamName="free", ShardCount=1)
            self.assertEqual(sum(k.put_records(StreamName="free", Records=batch)["FailedRecordCount"]
                                 for _ in range(4)), 0)
        finally:
            self.check_exit(emu)

    def test_on_demand_streams_scale_with_their_traffic(self):
        """With --enforce-limits an ON_DEMAND stream that takes more than half its capacity doubles its shards;
        a PROVISIONED one under the same load does not, and an idle ON_DEMAND one stays as it is."""
        emu = Emulator("--enforce-limits")
        try:
            k = boto3_client(emu)
            for name, mode in (("od-busy", "ON_DEMAND"), ("od-idle", "ON_DEMAND")):
                k.create_stream(StreamName=name, StreamModeDetails={"StreamMode": mode})
            k.create_stream(StreamName="pv-busy", ShardCount=4)

            def open_shards(name):
                return len(k.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"])

            self.assertEqual([open_shards(n) for n in ("od-busy", "od-idle", "pv-busy")], [4, 4, 4])
            batch = [{"Data": b"x" * 100, "PartitionKey": f"key{i}"} for i in range(500)]
            deadline = time.monotonic() + 15
            while open_shards("od-busy") == 4 and time.monotonic() < deadline:
                for name in ("od-busy", "pv-busy"):  # about 2,500 records a second each: over half of 4,000
                    k.put_records(StreamName=name, Records=batch)
            self.assertGreaterEqual(open_shards("od-busy"), 8)
            self.assertEqual(open_shards("pv-busy"), 4)
            self.assertEqual(open_shards("od-idle"), 4)
            # the closed shards lead to the new ones, as after UpdateShardCount
            closed = [s for s in k.list_shards(StreamName="od-busy")["Shards"]
                      if "EndingSequenceNumber" in s["SequenceNumberRange"]]
            self.assertEqual(len(closed), 4)
        finally:
            self.check_exit(emu)

    def test_bad_configuration_is_refused(self):
        import subprocess
        from .kt import kintape_bin
        for env, flag in ((({"KINESIS_ERROR_PROBABILITY": "2"}), "KINESIS_ERROR_PROBABILITY"),
                          (({"KINESIS_LATENCY": "soon"}), "KINESIS_LATENCY"),
                          (({"KINESIS_SHARD_LIMIT": "-3"}), "KINESIS_SHARD_LIMIT"),
                          (({"KINESIS_INITIALIZE_STREAMS": "a:b"}), "KINESIS_INITIALIZE_STREAMS")):
            p = subprocess.run([kintape_bin(), "emulator", "--port", "0"], env={**env, "PATH": "/usr/bin:/bin"},
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(flag, p.stderr)
        p = subprocess.run([kintape_bin(), "emulator", "--port", "99999"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--port", p.stderr)


if __name__ == "__main__":
    unittest.main()
