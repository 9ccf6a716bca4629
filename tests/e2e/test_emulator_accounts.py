"""Accounts and regions: streams are kept apart by the account of the caller's access key (--accounts) and by
the region of its request, as on AWS, and ARNs carry both."""
import unittest

from botocore.exceptions import ClientError

from .kt import EmulatorTestCase, boto3_client


class Accounts(EmulatorTestCase, unittest.TestCase):
    emulator_args = ("--accounts", "AKIDONE=111111111111,AKIDTWO=222222222222")

    def test_accounts_and_regions_are_apart(self):
        one = boto3_client(self.emu, key="AKIDONE")
        two = boto3_client(self.emu, key="AKIDTWO")
        other = boto3_client(self.emu, key="test")  # not in the map: the configured account
        one_eu = boto3_client(self.emu, key="AKIDONE", region="eu-west-1")
        for k in (one, two, other, one_eu):
            k.create_stream(StreamName="same", ShardCount=1)
        arns = [k.describe_stream_summary(StreamName="same")["StreamDescriptionSummary"]["StreamARN"]
                for k in (one, two, other, one_eu)]
        self.assertEqual(arns, ["arn:aws:kinesis:us-east-1:111111111111:stream/same",
                                "arn:aws:kinesis:us-east-1:222222222222:stream/same",
                                "arn:aws:kinesis:us-east-1:000000000000:stream/same",
                                "arn:aws:kinesis:eu-west-1:111111111111:stream/same"])
        one.put_record(StreamName="same", Data=b"for one", PartitionKey="p")
        for k, want in ((one, [b"for one"]), (two, []), (one_eu, [])):
            it = k.get_shard_iterator(StreamName="same", ShardId="shardId-000000000000",
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            self.assertEqual([r["Data"] for r in k.get_records(ShardIterator=it)["Records"]], want)
        # another account's stream is not found, by name or by ARN, and messages name the caller's account
        one.create_stream(StreamName="only-one", ShardCount=1)
        with self.assertRaises(ClientError) as cm:
            two.describe_stream(StreamName="only-one")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Stream only-one under account 222222222222 not found.")
        with self.assertRaises(ClientError) as cm:
            two.describe_stream(StreamARN="arn:aws:kinesis:us-east-1:111111111111:stream/only-one")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(sorted(one.list_streams()["StreamNames"]), ["only-one", "same"])
        self.assertEqual(two.list_streams()["StreamNames"], ["same"])
        # consumers carry the account too
        carn = one.register_stream_consumer(StreamARN=arns[0], ConsumerName="c")["Consumer"]["ConsumerARN"]
        self.assertTrue(carn.startswith("arn:aws:kinesis:us-east-1:111111111111:stream/same/consumer/c:"))
        with self.assertRaises(ClientError):
            two.describe_stream_consumer(ConsumerARN=carn)
        # limits count per account and region
        self.assertEqual(one.describe_limits()["OpenShardCount"], 2)
        self.assertEqual(two.describe_limits()["OpenShardCount"], 1)


if __name__ == "__main__":
    unittest.main()
