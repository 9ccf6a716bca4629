"""Resharding against the emulator: SplitShard, MergeShards, UpdateShardCount, closed shards and ChildShards,
with boto3 and the AWS CLI, and a consumer following the lineage while a producer writes."""
import threading
import time
import unittest

from botocore.exceptions import ClientError

from .kt import Emulator, EmulatorTestCase, assert_each_once_in_order, aws, boto3_client

MAX = 2 ** 128 - 1


def code_of(cm):
    return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]


def shards_of(k, stream, **kw):
    return {s["ShardId"]: s for s in k.list_shards(StreamName=stream, **kw)["Shards"]}


def drain(k, stream, shard_id):
    """Reads a closed shard to its end: its records, and the ChildShards of its last answer."""
    it = k.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out = []
    for _ in range(1000):
        r = k.get_records(ShardIterator=it)
        out.extend(r["Records"])
        if "NextShardIterator" not in r:
            return out, r
        it = r["NextShardIterator"]
    raise AssertionError(f"{shard_id} never ended")


class Reshard(EmulatorTestCase, unittest.TestCase):

    def setUp(self):
        self.k = boto3_client(self.emu)

    def test_split_then_merge(self):
        k = self.k
        k.create_stream(StreamName="rs-split", ShardCount=1)
        k.put_record(StreamName="rs-split", Data=b"before", PartitionKey="a")
        half = MAX // 2 + 1
        k.split_shard(StreamName="rs-split", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(half))
        s = shards_of(k, "rs-split")
        self.assertEqual(sorted(s), ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
        parent, left, right = s["shardId-000000000000"], s["shardId-000000000001"], s["shardId-000000000002"]
        self.assertIn("EndingSequenceNumber", parent["SequenceNumberRange"])
        self.assertEqual(left["ParentShardId"], "shardId-000000000000")
        self.assertEqual(right["ParentShardId"], "shardId-000000000000")
        self.assertEqual(left["HashKeyRange"], {"StartingHashKey": "0", "EndingHashKey": str(half - 1)})
        self.assertEqual(right["HashKeyRange"], {"StartingHashKey": str(half), "EndingHashKey": str(MAX)})
        # children's numbers follow the parent's
        self.assertGreater(int(left["SequenceNumberRange"]["StartingSequenceNumber"]),
                           int(parent["SequenceNumberRange"]["EndingSequenceNumber"]))
        # the parent's ending number is its last record's
        recs, last = drain(k, "rs-split", "shardId-000000000000")
        self.assertEqual([r["Data"] for r in recs], [b"before"])
        self.assertEqual(recs[-1]["SequenceNumber"], parent["SequenceNumberRange"]["EndingSequenceNumber"])
        self.assertEqual(sorted(c["ShardId"] for c in last["ChildShards"]),
                         ["shardId-000000000001", "shardId-000000000002"])
        for c in last["ChildShards"]:
            self.assertEqual(c["ParentShards"], ["shardId-000000000000"])
        # new records go to the children by hash key
        r = k.put_record(StreamName="rs-split", Data=b"x", PartitionKey="p", ExplicitHashKey=str(half))
        self.assertEqual(r["ShardId"], "shardId-000000000002")
        r = k.put_record(StreamName="rs-split", Data=b"x", PartitionKey="p", ExplicitHashKey="5")
        self.assertEqual(r["ShardId"], "shardId-000000000001")
        d = k.describe_stream_summary(StreamName="rs-split")["StreamDescriptionSummary"]
        self.assertEqual(d["OpenShardCount"], 2)
        # a closed shard is not split again; a hash key outside the range is refused in AWS's words
        with self.assertRaises(ClientError) as cm:
            k.split_shard(StreamName="rs-split", ShardToSplit="shardId-000000000000", NewStartingHashKey="10")
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.split_shard(StreamName="rs-split", ShardToSplit="shardId-1", NewStartingHashKey="1")
        self.assertEqual(code_of(cm), (
            "InvalidArgumentException",
            "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000001 in stream rs-split under "
            f"account 000000000000 is not both greater than one plus the shard's StartingHashKey 0 and less than "
            f"the shard's EndingHashKey {half - 1}."))
        with self.assertRaises(ClientError) as cm:
            k.split_shard(StreamName="rs-split", ShardToSplit="shardId-000000000009", NewStartingHashKey="100")
        self.assertEqual(code_of(cm), (
            "ResourceNotFoundException",
            "Could not find shard shardId-000000000009 in stream rs-split under account 000000000000."))
        # merge the two children back: one child with both as parents
        with self.assertRaises(ClientError) as cm:
            k.merge_shards(StreamName="rs-split", ShardToMerge="shardId-000000000000",
                           AdjacentShardToMerge="shardId-000000000002")
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        k.merge_shards(StreamName="rs-split", ShardToMerge="shardId-000000000001",
                       AdjacentShardToMerge="shardId-000000000002")
        s = shards_of(k, "rs-split")
        merged = s["shardId-000000000003"]
        self.assertEqual(merged["ParentShardId"], "shardId-000000000001")
        self.assertEqual(merged["AdjacentParentShardId"], "shardId-000000000002")
        self.assertEqual(merged["HashKeyRange"], {"StartingHashKey": "0", "EndingHashKey": str(MAX)})
        _, last = drain(k, "rs-split", "shardId-000000000002")
        self.assertEqual(last["ChildShards"], [{"ShardId": "shardId-000000000003",
                                                "ParentShards": ["shardId-000000000001", "shardId-000000000002"],
                                                "HashKeyRange": merged["HashKeyRange"]}])
        # ShardFilter: AT_LATEST shows the open shard only; FROM_TRIM_HORIZON all of them
        self.assertEqual(list(shards_of(k, "rs-split", ShardFilter={"Type": "AT_LATEST"})), ["shardId-000000000003"])
        self.assertEqual(len(shards_of(k, "rs-split", ShardFilter={"Type": "FROM_TRIM_HORIZON"})), 4)
        self.assertEqual(list(shards_of(k, "rs-split", ShardFilter={"Type": "AT_TRIM_HORIZON"})),
                         ["shardId-000000000000"])
        self.assertEqual(list(shards_of(k, "rs-split", ShardFilter={"Type": "AFTER_SHARD_ID",
                                                                    "ShardId": "shardId-000000000001"})),
                         ["shardId-000000000002", "shardId-000000000003"])
        # a NextToken keeps the filter
        page = k.list_shards(StreamName="rs-split", ShardFilter={"Type": "AT_LATEST"}, MaxResults=1)
        self.assertEqual([x["ShardId"] for x in page["Shards"]], ["shardId-000000000003"])
        self.assertNotIn("NextToken", page)
        page = k.list_shards(StreamName="rs-split", ShardFilter={"Type": "FROM_TRIM_HORIZON"}, MaxResults=3)
        rest = k.list_shards(NextToken=page["NextToken"])
        self.assertEqual([x["ShardId"] for x in rest["Shards"]], ["shardId-000000000003"])
        # LATEST on a closed shard ends at once with its children
        it = k.get_shard_iterator(StreamName="rs-split", ShardId="shardId-000000000000",
                                  ShardIteratorType="LATEST")["ShardIterator"]
        r = k.get_records(ShardIterator=it)
        self.assertNotIn("NextShardIterator", r)
        self.assertEqual(len(r["ChildShards"]), 2)

    def test_update_shard_count(self):
        k = self.k
        k.create_stream(StreamName="rs-count", ShardCount=3)
        r = k.update_shard_count(StreamName="rs-count", TargetShardCount=5, ScalingType="UNIFORM_SCALING")
        self.assertEqual((r["CurrentShardCount"], r["TargetShardCount"]), (3, 5))
        open_ = shards_of(k, "rs-count", ShardFilter={"Type": "AT_LATEST"})
        self.assertEqual(len(open_), 5)
        ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                        for s in open_.values())
        self.assertEqual(ranges[0][0], 0)
        self.assertEqual(ranges[-1][1], MAX)
        for i in range(1, 5):
            self.assertEqual(ranges[i][0], ranges[i - 1][1] + 1)
            self.assertEqual(ranges[i][0], i * (2 ** 128 // 5))  # even ranges, as CreateStream makes them
        self.assertEqual(k.describe_stream_summary(StreamName="rs-count")["StreamDescriptionSummary"]
                         ["OpenShardCount"], 5)
        for target, word in ((11, "double"), (2, "half")):
            with self.assertRaises(ClientError) as cm:
                k.update_shard_count(StreamName="rs-count", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
            self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
            self.assertIn(word, code_of(cm)[1])
        k.update_shard_count(StreamName="rs-count", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
        self.assertEqual(len(shards_of(k, "rs-count", ShardFilter={"Type": "AT_LATEST"})), 3)
        # every record put after lands in an open shard and is read back there
        for i in range(50):
            k.put_record(StreamName="rs-count", Data=str(i).encode(), PartitionKey=f"k{i}")
        got = 0
        for sid in shards_of(k, "rs-count", ShardFilter={"Type": "AT_LATEST"}):
            it = k.get_shard_iterator(StreamName="rs-count", ShardId=sid,
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            got += len(k.get_records(ShardIterator=it)["Records"])
        self.assertEqual(got, 50)
        with self.assertRaises(ClientError) as cm:
            k.update_shard_count(StreamName="rs-count", TargetShardCount=3, ScalingType="OTHER")
        self.assertEqual(code_of(cm)[0], "ValidationException")

    def test_consumer_follows_child_shards_and_loses_nothing(self):
        """A producer writes throughout a split and a merge; a reader that follows ChildShards (parents drained
        before children) gets every record exactly once, in order per partition key."""
        k = self.k
        k.create_stream(StreamName="rs-follow", ShardCount=2)
        stop = threading.Event()
        sent = []

        def produce():
            p = boto3_client(self.emu)
            i = 0
            while not stop.is_set() or i < 300:
                batch = [{"Data": f"{i + j}".encode(), "PartitionKey": f"key{(i + j) % 17}"} for j in range(20)]
                r = p.put_records(StreamName="rs-follow", Records=batch)
                self.assertEqual(r["FailedRecordCount"], 0)
                sent.extend(range(i, i + 20))
                i += 20
                time.sleep(0.005)

        t = threading.Thread(target=produce)
        t.start()
        time.sleep(0.2)
        k.split_shard(StreamName="rs-follow", ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str(2 ** 126))
        time.sleep(0.2)
        k.merge_shards(StreamName="rs-follow", ShardToMerge="shardId-000000000003",
                       AdjacentShardToMerge="shardId-000000000001")
        time.sleep(0.2)
        k.update_shard_count(StreamName="rs-follow", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
        time.sleep(0.2)
        stop.set()
        t.join()

        # follow the lineage from the shards open at the trim horizon
        todo = list(shards_of(k, "rs-follow", ShardFilter={"Type": "AT_TRIM_HORIZON"}))
        self.assertEqual(todo, ["shardId-000000000000", "shardId-000000000001"])
        done, parents_of, got = set(), {}, []
        while todo:
            sid = next((x for x in todo if all(p in done for p in parents_of.get(x, ()))), None)
            self.assertIsNotNone(sid, f"no shard whose parents are read: {todo}")
            todo.remove(sid)
            it = k.get_shard_iterator(StreamName="rs-follow", ShardId=sid,
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                r = k.get_records(ShardIterator=it)
                got.extend((x["PartitionKey"], int(x["Data"])) for x in r["Records"])
                if "NextShardIterator" not in r:
                    for c in r["ChildShards"]:
                        parents_of[c["ShardId"]] = c["ParentShards"]
                        if c["ShardId"] not in todo and c["ShardId"] not in done:
                            todo.append(c["ShardId"])
                    break
                if not r["Records"]:
                    break  # an open shard read to its tip
                it = r["NextShardIterator"]
            done.add(sid)
        assert_each_once_in_order(self, got, sent)


class ReshardUpdating(unittest.TestCase):
    """With --update-stream-ms a reshard leaves the stream UPDATING: the CLI's waiter sees it through."""

    def test_updating_then_active_with_the_cli_waiter(self):
        emu = Emulator("--update-stream-ms", "1500")
        try:
            k = boto3_client(emu)
            k.create_stream(StreamName="rs-up", ShardCount=2)
            k.update_shard_count(StreamName="rs-up", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
            k.describe_stream_summary(StreamName="rs-up")
            d = k.describe_stream_summary(StreamName="rs-up")["StreamDescriptionSummary"]
            self.assertEqual(d["StreamStatus"], "UPDATING")
            # records still go in while it updates
            k.put_record(StreamName="rs-up", Data=b"x", PartitionKey="p")
            with self.assertRaises(ClientError) as cm:
                k.split_shard(StreamName="rs-up", ShardToSplit="shardId-000000000002", NewStartingHashKey="100")
            self.assertEqual(code_of(cm), ("ResourceInUseException",
                                           "Stream rs-up under account 000000000000 not ACTIVE, instead in state "
                                           "UPDATING"))
            t0 = time.monotonic()
            rc, out, err = aws(emu, "kinesis", "wait", "stream-exists", "--stream-name", "rs-up")
            self.assertEqual(rc, 0, err)
            self.assertGreater(time.monotonic() - t0, 0.5)
            rc, out, err = aws(emu, "kinesis", "describe-stream-summary", "--stream-name", "rs-up")
            self.assertEqual(out["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")
            rc, out, err = aws(emu, "kinesis", "split-shard", "--stream-name", "rs-up", "--shard-to-split",
                               "shardId-000000000002", "--new-starting-hash-key", str(2 ** 125))
            self.assertEqual(rc, 0, err)
            rc, out, err = aws(emu, "kinesis", "list-shards", "--stream-name", "rs-up")
            # 2 first, 4 from the rescale (each split once at a quarter boundary), 2 from the split
            self.assertEqual(len(out["Shards"]), 8)
            self.assertEqual([s["ShardId"] for s in out["Shards"] if s.get("ParentShardId") == "shardId-000000000002"],
                             ["shardId-000000000006", "shardId-000000000007"])
        finally:
            rc, log = emu.close()
        self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main()
