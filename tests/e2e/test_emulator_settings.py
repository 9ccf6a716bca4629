"""Stream and account settings, tags and policies by ARN, against the emulator with boto3 and the AWS CLI:
encryption, enhanced monitoring, stream mode, record size, warm throughput, account settings."""
import base64
import json
import unittest

from botocore.exceptions import ClientError

from .kt import EmulatorTestCase, aws, boto3_client, call


def code_of(cm):
    return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]


class Settings(EmulatorTestCase, unittest.TestCase):

    def setUp(self):
        self.k = boto3_client(self.emu)

    def arn(self, name, shards=1):
        self.k.create_stream(StreamName=name, ShardCount=shards)
        return self.k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def test_encryption_is_kept_and_shown(self):
        k = self.k
        self.arn("st-kms")
        k.start_stream_encryption(StreamName="st-kms", EncryptionType="KMS", KeyId="alias/aws/kinesis")
        d = k.describe_stream(StreamName="st-kms")["StreamDescription"]
        self.assertEqual((d["EncryptionType"], d["KeyId"]), ("KMS", "alias/aws/kinesis"))
        self.assertEqual(k.put_record(StreamName="st-kms", Data=b"x", PartitionKey="p")["EncryptionType"], "KMS")
        self.assertEqual(k.put_records(StreamName="st-kms", Records=[{"Data": b"x", "PartitionKey": "p"}])
                         ["EncryptionType"], "KMS")
        with self.assertRaises(ClientError) as cm:
            k.start_stream_encryption(StreamName="st-kms", EncryptionType="NONE", KeyId="k")
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        k.stop_stream_encryption(StreamName="st-kms", EncryptionType="KMS", KeyId="alias/aws/kinesis")
        s = k.describe_stream_summary(StreamName="st-kms")["StreamDescriptionSummary"]
        self.assertEqual(s["EncryptionType"], "NONE")
        self.assertNotIn("KeyId", s)

    def test_enhanced_monitoring(self):
        k = self.k
        self.arn("st-mon")
        r = k.enable_enhanced_monitoring(StreamName="st-mon", ShardLevelMetrics=["IncomingBytes", "OutgoingBytes"])
        self.assertEqual((r["CurrentShardLevelMetrics"], r["DesiredShardLevelMetrics"]),
                         ([], ["IncomingBytes", "OutgoingBytes"]))
        r = k.enable_enhanced_monitoring(StreamName="st-mon", ShardLevelMetrics=["ALL"])
        self.assertEqual(len(r["DesiredShardLevelMetrics"]), 7)
        r = k.disable_enhanced_monitoring(StreamName="st-mon", ShardLevelMetrics=["IncomingBytes"])
        self.assertNotIn("IncomingBytes", r["DesiredShardLevelMetrics"])
        self.assertEqual(len(r["DesiredShardLevelMetrics"]), 6)
        d = k.describe_stream(StreamName="st-mon")["StreamDescription"]
        self.assertEqual(d["EnhancedMonitoring"][0]["ShardLevelMetrics"], r["DesiredShardLevelMetrics"])
        with self.assertRaises(ClientError) as cm:
            k.enable_enhanced_monitoring(StreamName="st-mon", ShardLevelMetrics=["Bogus"])
        self.assertEqual(code_of(cm)[0], "ValidationException")

    def test_stream_mode_and_warm_throughput(self):
        k = self.k
        arn = self.arn("st-mode", 2)
        with self.assertRaises(ClientError) as cm:
            k.update_stream_warm_throughput(StreamARN=arn, WarmThroughputMiBps=10)
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        s = k.describe_stream_summary(StreamName="st-mode")["StreamDescriptionSummary"]
        self.assertEqual(s["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})
        self.assertEqual(k.describe_limits()["OnDemandStreamCount"] >= 1, True)
        r = k.update_stream_warm_throughput(StreamARN=arn, WarmThroughputMiBps=25)
        self.assertEqual(r["WarmThroughput"], {"TargetMiBps": 25, "CurrentMiBps": 25})
        self.assertEqual(k.describe_stream_summary(StreamName="st-mode")["StreamDescriptionSummary"]
                         ["WarmThroughput"]["TargetMiBps"], 25)
        with self.assertRaises(ClientError) as cm:
            k.update_shard_count(StreamName="st-mode", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
        k.update_shard_count(StreamName="st-mode", TargetShardCount=3, ScalingType="UNIFORM_SCALING")

    def test_max_record_size_is_per_stream(self):
        k = self.k
        big_arn = self.arn("st-big")
        self.arn("st-small")
        five = b"\x01\x02" * (5 << 19)  # 5 MiB
        for name in ("st-big", "st-small"):
            with self.assertRaises(ClientError) as cm:
                k.put_record(StreamName=name, Data=five, PartitionKey="p")
            self.assertEqual(code_of(cm)[0], "ValidationException")
        k.update_max_record_size(StreamARN=big_arn, MaxRecordSizeInKiB=10240)
        self.assertEqual(k.describe_stream_summary(StreamName="st-big")["StreamDescriptionSummary"]
                         ["MaxRecordSizeInKiB"], 10240)
        k.put_record(StreamName="st-big", Data=five, PartitionKey="p")
        with self.assertRaises(ClientError) as cm:
            k.put_record(StreamName="st-small", Data=five, PartitionKey="p")
        self.assertEqual(code_of(cm)[0], "ValidationException")
        it = k.get_shard_iterator(StreamName="st-big", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual(k.get_records(ShardIterator=it)["Records"][0]["Data"], five)
        with self.assertRaises(ClientError) as cm:
            k.update_max_record_size(StreamARN=big_arn, MaxRecordSizeInKiB=20000)
        self.assertEqual(code_of(cm)[0], "ValidationException")

    def test_tags_and_policies_by_arn(self):
        k = self.k
        arn = self.arn("st-res")
        carn = k.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]["ConsumerARN"]
        k.tag_resource(ResourceARN=arn, Tags={"team": "a", "env": "b"})
        k.tag_resource(ResourceARN=carn, Tags={"owner": "me"})
        self.assertEqual(k.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "env", "Value": "b"}, {"Key": "team", "Value": "a"}])
        self.assertEqual(k.list_tags_for_stream(StreamName="st-res")["Tags"],
                         [{"Key": "env", "Value": "b"}, {"Key": "team", "Value": "a"}])
        self.assertEqual(k.list_tags_for_resource(ResourceARN=carn)["Tags"], [{"Key": "owner", "Value": "me"}])
        k.untag_resource(ResourceARN=arn, TagKeys=["env"])
        self.assertEqual(k.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "team", "Value": "a"}])
        with self.assertRaises(ClientError) as cm:
            k.tag_resource(ResourceARN=arn, Tags={"bad\tkey": "v"})
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                      "Action": "kinesis:*", "Resource": arn}]})
        k.put_resource_policy(ResourceARN=arn, Policy=policy)
        self.assertEqual(k.get_resource_policy(ResourceARN=arn)["Policy"], policy)
        self.assertEqual(k.get_resource_policy(ResourceARN=carn)["Policy"], "{}")
        k.delete_resource_policy(ResourceARN=arn)
        with self.assertRaises(ClientError) as cm:
            k.delete_resource_policy(ResourceARN=arn)
        self.assertEqual(code_of(cm)[0], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            k.put_resource_policy(ResourceARN=arn, Policy="[1, 2]")
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.list_tags_for_resource(ResourceARN=arn.replace("st-res", "st-none"))
        self.assertEqual(code_of(cm), ("ResourceNotFoundException",
                                       "Stream st-none under account 000000000000 not found."))

    def test_account_settings(self):
        k = self.k
        self.assertEqual(k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"], "DISABLED")
        r = k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        m = r["MinimumThroughputBillingCommitment"]
        self.assertEqual(m["Status"], "ENABLED")
        self.assertGreater(m["EarliestAllowedEndAt"], m["StartedAt"])
        r = k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})
        self.assertEqual(r["MinimumThroughputBillingCommitment"]["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
        k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        self.assertEqual(k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"], "ENABLED")

    def test_data_size_is_in_the_validation_list_before_the_stream(self):
        body = json.dumps({"StreamName": "no-such-stream", "Data": base64.b64encode(bytes(10485761)).decode(),
                           "PartitionKey": ""})
        r = call(self.emu, "PutRecord", body)
        self.assertEqual((r.status, r.json()["__type"]), (400, "ValidationException"))
        self.assertEqual(r.json()["message"], "2 validation errors detected: Value at 'data' failed to satisfy constraint: "
                                       "Member must have length less than or equal to 10485760; Value '' at "
                                       "'partitionKey' failed to satisfy constraint: Member must have length "
                                       "greater than or equal to 1")

    def test_every_new_operation_from_the_cli(self):
        def ok(*args):
            rc, out, err = aws(self.emu, "kinesis", *args)
            self.assertEqual(rc, 0, f"aws kinesis {' '.join(args)}: {err}")
            return out

        arn = self.arn("st-cli", 2)
        ok("split-shard", "--stream-name", "st-cli", "--shard-to-split", "shardId-000000000000",
           "--new-starting-hash-key", str(2 ** 126))
        ok("merge-shards", "--stream-name", "st-cli", "--shard-to-merge", "shardId-000000000003",
           "--adjacent-shard-to-merge", "shardId-000000000001")
        ok("update-shard-count", "--stream-name", "st-cli", "--target-shard-count", "4", "--scaling-type",
           "UNIFORM_SCALING")
        ok("wait", "stream-exists", "--stream-name", "st-cli")
        c = ok("register-stream-consumer", "--stream-arn", arn, "--consumer-name", "cli")["Consumer"]
        ok("describe-stream-consumer", "--consumer-arn", c["ConsumerARN"])
        self.assertEqual(len(ok("list-stream-consumers", "--stream-arn", arn)["Consumers"]), 1)
        ok("start-stream-encryption", "--stream-name", "st-cli", "--encryption-type", "KMS", "--key-id", "alias/k")
        ok("stop-stream-encryption", "--stream-name", "st-cli", "--encryption-type", "KMS", "--key-id", "alias/k")
        ok("enable-enhanced-monitoring", "--stream-name", "st-cli", "--shard-level-metrics", "ALL")
        ok("disable-enhanced-monitoring", "--stream-name", "st-cli", "--shard-level-metrics", "ALL")
        ok("tag-resource", "--resource-arn", arn, "--tags", "k=v")
        self.assertEqual(ok("list-tags-for-resource", "--resource-arn", arn)["Tags"], [{"Key": "k", "Value": "v"}])
        ok("untag-resource", "--resource-arn", arn, "--tag-keys", "k")
        ok("put-resource-policy", "--resource-arn", arn, "--policy", '{"Version":"2012-10-17","Statement":[]}')
        ok("get-resource-policy", "--resource-arn", arn)
        ok("delete-resource-policy", "--resource-arn", arn)
        ok("update-max-record-size", "--stream-arn", arn, "--max-record-size-in-ki-b", "2048")
        ok("update-stream-mode", "--stream-arn", arn, "--stream-mode-details", "StreamMode=ON_DEMAND")
        ok("update-stream-warm-throughput", "--stream-arn", arn, "--warm-throughput-mi-bps", "5")
        ok("describe-account-settings")
        ok("update-account-settings", "--minimum-throughput-billing-commitment", "Status=DISABLED")
        ok("deregister-stream-consumer", "--consumer-arn", c["ConsumerARN"])
        ok("delete-stream", "--stream-name", "st-cli")


if __name__ == "__main__":
    unittest.main()
