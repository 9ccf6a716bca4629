"""CBOR (application/x-amz-cbor-1.1, what the AWS SDKs for Java and the KCL
send): every core operation answered as in JSON, field by field, with blobs
as byte strings and timestamps as tag 1 epoch milliseconds; the JSON tests'
bad inputs get the same errors; bad CBOR gets SerializationException and
never a crash, a big allocation or a hung connection. The CBOR client is
tests/e2e/cbor_peer.py under Debian's python3 with python3-cbor2."""
import base64
import json
import os
import random
import subprocess
import time
import unittest

from .kt import EmulatorTestCase, boto3_client, call

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cbor_peer.py")
DEBIAN_PYTHON = "/usr/bin/python3"


def cbor_calls(emu, calls, url=None, cafile=None):
    """Makes the calls over CBOR on one connection; returns their answers."""
    p = subprocess.run([DEBIAN_PYTHON, PEER], input=json.dumps({"url": url or emu.url, "cafile": cafile,
                                                                 "calls": calls}),
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"cbor_peer failed: {p.stderr[-3000:]}")
    return json.loads(p.stdout)


def b(data):
    return {"$bytes": base64.b64encode(data).decode()}


def to_cbor_value(v):
    """A JSON request body as the Java SDK sends it in CBOR: base64 Data becomes a byte string."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == "Data" and isinstance(x, str):
                try:
                    out[k] = b(base64.b64decode(x, validate=True))
                    continue
                except ValueError:
                    pass  # not base64: sent as the text it is (the emulator reads it as base64 and refuses it)
            out[k] = to_cbor_value(x)
        return out
    if isinstance(v, list):
        return [to_cbor_value(x) for x in v]
    return v


SEQ_KEYS = {"SequenceNumber", "StartingSequenceNumber", "EndingSequenceNumber"}
ITER_KEYS = {"ShardIterator", "NextShardIterator", "StreamId"}  # opaque, different per stream or call
TIME_KEYS = {"ApproximateArrivalTimestamp", "StreamCreationTimestamp", "ConsumerCreationTimestamp", "StartedAt",
             "EndedAt", "EarliestAllowedEndAt"}
ARN_KEYS = {"ConsumerARN"}  # ends with its creation second, which may differ between the two consumers


class Cbor(EmulatorTestCase, unittest.TestCase):
    emulator_args = ("--no-tls",)

    def assertSameAnswer(self, j, c, path="", names=("", "")):
        """A JSON answer and a CBOR one say the same, field by field."""
        if isinstance(j, dict):
            self.assertIsInstance(c, dict, path)
            self.assertEqual(sorted(j), sorted(c), path)
            for k in j:
                p = f"{path}.{k}"
                if k in SEQ_KEYS:
                    self.assertTrue(j[k].isdigit() and c[k].isdigit(), (p, j[k], c[k]))
                elif k in ITER_KEYS:
                    self.assertIsInstance(j[k], str, p)
                    self.assertIsInstance(c[k], str, p)
                elif k in TIME_KEYS:
                    # JSON: epoch seconds with millisecond decimals; CBOR: tag 1, integer milliseconds.
                    self.assertEqual(set(c[k]), {"$ms"}, p)
                    self.assertIsInstance(c[k]["$ms"], int, p)
                    self.assertLess(abs(j[k] * 1000 - c[k]["$ms"]), 120000, p)
                elif k == "Data":
                    self.assertEqual(base64.b64decode(j[k]), base64.b64decode(c[k]["$bytes"]), p)
                elif k in ARN_KEYS:
                    self.assertEqual(j[k].rsplit(":", 1)[0].replace(names[0], "S"),
                                     c[k].rsplit(":", 1)[0].replace(names[1], "S"), p)
                else:
                    self.assertSameAnswer(j[k], c[k], p, names)
        elif isinstance(j, list):
            self.assertIsInstance(c, list, path)
            self.assertEqual(len(j), len(c), path)
            for i, (x, y) in enumerate(zip(j, c)):
                self.assertSameAnswer(x, y, f"{path}[{i}]", names)
        elif isinstance(j, str):
            self.assertEqual(j.replace(names[0], "S"), c.replace(names[1], "S"), path)
        else:
            self.assertEqual(type(j), type(c), path)
            self.assertEqual(j, c, path)

    def both(self, steps, names):
        """Runs the same calls over JSON (stream names[0]) and over CBOR (names[1]); returns both answers."""
        json_answers = []
        for op, body in steps:
            r = call(self.emu, op, json.dumps(json.loads(json.dumps(body).replace("$S", names[0]))))
            json_answers.append((r.status, r.json() if r.body else None))
        cbor_answers = cbor_calls(self.emu, [{"op": op, "body": to_cbor_value(json.loads(
            json.dumps(body).replace("$S", names[1])))} for op, body in steps])
        for (op, _), (js, jb), c in zip(steps, json_answers, cbor_answers):
            self.assertEqual(c["content_type"], "application/x-amz-cbor-1.1", op)
            self.assertEqual(js, c["status"], (op, jb, c["body"]))
            self.assertSameAnswer(jb, c["body"], op, names)
        return json_answers, cbor_answers

    def test_core_operations_answer_as_in_json(self):
        data = [bytes(range(256)), b"", b"\x00", "h\u00e9llo \u2603".encode(), os.urandom(3000)]
        recs = [{"Data": base64.b64encode(d).decode(), "PartitionKey": f"pk{i}"} for i, d in enumerate(data)]
        steps = [
            ("CreateStream", {"StreamName": "$S", "ShardCount": 1}),
            ("DescribeStream", {"StreamName": "$S"}),
            ("DescribeStreamSummary", {"StreamName": "$S"}),
            ("ListShards", {"StreamName": "$S"}),
            ("PutRecord", {"StreamName": "$S", "Data": recs[0]["Data"], "PartitionKey": "one"}),
            ("PutRecords", {"StreamName": "$S", "Records": recs}),
            ("GetShardIterator", {"StreamName": "$S", "ShardId": "shardId-000000000000",
                                  "ShardIteratorType": "TRIM_HORIZON"}),
            ("AddTagsToStream", {"StreamName": "$S", "Tags": {"team": "kintape", "env": "test"}}),
            ("ListTagsForStream", {"StreamName": "$S"}),
            ("RemoveTagsFromStream", {"StreamName": "$S", "TagKeys": ["env"]}),
            ("ListTagsForStream", {"StreamName": "$S"}),
            ("IncreaseStreamRetentionPeriod", {"StreamName": "$S", "RetentionPeriodHours": 48}),
            ("DecreaseStreamRetentionPeriod", {"StreamName": "$S", "RetentionPeriodHours": 24}),
        ]
        j, c = self.both(steps, ("cj-core", "cc-core"))
        # Account-wide answers, asked over both at the same moment.
        for op in ("DescribeLimits", "ListStreams"):
            jr = call(self.emu, op, "{}").json()
            cr = cbor_calls(self.emu, [{"op": op, "body": {}}])[0]["body"]
            self.assertSameAnswer(jr, cr, op)
        # GetRecords with each side's own iterator: every record, byte for byte.
        jit, cit = j[6][1]["ShardIterator"], c[6]["body"]["ShardIterator"]
        jr = call(self.emu, "GetRecords", json.dumps({"ShardIterator": jit})).json()
        cr = cbor_calls(self.emu, [{"op": "GetRecords", "body": {"ShardIterator": cit}}])[0]["body"]
        self.assertSameAnswer(jr, cr, "GetRecords", ("cj-core", "cc-core"))
        self.assertEqual([base64.b64decode(r["Data"]["$bytes"]) for r in cr["Records"]], [data[0]] + data)
        # AT_TIMESTAMP from a tag 1 timestamp (ms), AT_SEQUENCE_NUMBER, then delete.
        first = cr["Records"][1]
        ts = first["ApproximateArrivalTimestamp"]["$ms"]
        got = cbor_calls(self.emu, [
            {"op": "GetShardIterator", "body": {"StreamName": "cc-core", "ShardId": "shardId-000000000000",
                                                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                                                "StartingSequenceNumber": first["SequenceNumber"]}},
            {"op": "GetShardIterator", "body": {"StreamName": "cc-core", "ShardId": "shardId-000000000000",
                                                "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": {"$ms": ts}}},
            {"op": "GetShardIterator", "body": {"StreamName": "cc-core", "ShardId": "shardId-000000000000",
                                                "ShardIteratorType": "AT_TIMESTAMP",
                                                "Timestamp": {"$ms": int(time.time() * 1000) + 3600000}}},
        ])
        # A tag 1 timestamp an hour ahead is read as milliseconds: refused as AWS refuses it.
        self.assertEqual(got[2]["body"]["__type"], "InvalidArgumentException", got[2])
        self.assertIn("timestampInMillis", got[2]["body"]["message"])
        got = got[:2]
        for g in got:
            self.assertEqual(g["status"], 200, g)
        seq_recs = cbor_calls(self.emu, [{"op": "GetRecords", "body": {"ShardIterator": g["body"]["ShardIterator"]}}
                                         for g in got])
        self.assertEqual(seq_recs[0]["body"]["Records"][0]["SequenceNumber"], first["SequenceNumber"])
        self.assertGreaterEqual(len(seq_recs[1]["body"]["Records"]), len(data))
        self.both([("DeleteStream", {"StreamName": "$S"}), ("DescribeStreamSummary", {"StreamName": "$S"})],
                  ("cj-core", "cc-core"))

    def test_new_operations_answer_as_in_json(self):
        """The operations beyond the core: resharding, consumers, settings, tags and policies by ARN."""
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/$S"
        steps = [
            ("CreateStream", {"StreamName": "$S", "ShardCount": 2}),
            ("SplitShard", {"StreamName": "$S", "ShardToSplit": "shardId-000000000000",
                            "NewStartingHashKey": str(2 ** 126)}),
            ("MergeShards", {"StreamName": "$S", "ShardToMerge": "shardId-000000000003",
                             "AdjacentShardToMerge": "shardId-000000000001"}),
            ("UpdateShardCount", {"StreamName": "$S", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"}),
            ("ListShards", {"StreamName": "$S", "ShardFilter": {"Type": "AT_LATEST"}}),
            ("DescribeStream", {"StreamName": "$S"}),
            ("RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "c1"}),
            ("DescribeStreamConsumer", {"StreamARN": arn, "ConsumerName": "c1"}),
            ("ListStreamConsumers", {"StreamARN": arn}),
            ("StartStreamEncryption", {"StreamName": "$S", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
            ("EnableEnhancedMonitoring", {"StreamName": "$S", "ShardLevelMetrics": ["IncomingBytes",
                                                                                     "IteratorAgeMilliseconds"]}),
            ("DisableEnhancedMonitoring", {"StreamName": "$S", "ShardLevelMetrics": ["IncomingBytes"]}),
            ("DescribeStreamSummary", {"StreamName": "$S"}),
            ("StopStreamEncryption", {"StreamName": "$S", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
            ("UpdateMaxRecordSize", {"StreamARN": arn, "MaxRecordSizeInKiB": 2048}),
            ("TagResource", {"ResourceARN": arn, "Tags": {"team": "t"}}),
            ("ListTagsForResource", {"ResourceARN": arn}),
            ("UntagResource", {"ResourceARN": arn, "TagKeys": ["team"]}),
            ("PutResourcePolicy", {"ResourceARN": arn, "Policy": '{"Version": "2012-10-17", "Statement": []}'}),
            ("GetResourcePolicy", {"ResourceARN": arn}),
            ("DeleteResourcePolicy", {"ResourceARN": arn}),
            ("GetResourcePolicy", {"ResourceARN": arn}),
            ("UpdateStreamMode", {"StreamARN": arn, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
            ("UpdateStreamWarmThroughput", {"StreamARN": arn, "WarmThroughputMiBps": 10}),
            ("DescribeStreamSummary", {"StreamName": "$S"}),
            ("DeregisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "c1"}),
            ("PutResourcePolicy", {"ResourceARN": arn, "Policy": "not json"}),
            ("UpdateStreamWarmThroughput", {"StreamARN": arn, "WarmThroughputMiBps": -1}),
            ("SplitShard", {"StreamName": "$S", "ShardToSplit": "shardId-000000000000",
                            "NewStartingHashKey": "5"}),
        ]
        j, c = self.both(steps, ("cj-new", "cc-new"))
        self.assertEqual([s for s, _ in j][:27], [200] * 26 + [400])
        self.assertEqual(j[12][1]["StreamDescriptionSummary"]["EncryptionType"], "KMS")
        self.assertEqual(j[24][1]["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"], "ON_DEMAND")
        for op in ("DescribeAccountSettings",):
            jr = call(self.emu, op, "{}").json()
            cr = cbor_calls(self.emu, [{"op": op, "body": {}}])[0]["body"]
            self.assertSameAnswer(jr, cr, op)

    def test_bad_inputs_get_the_json_errors(self):
        big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
        one = base64.b64encode(b"x" * (1024 * 1024 - 10)).decode()
        steps = [
            ("CreateStream", {"StreamName": 7, "ShardCount": 1}),
            ("PutRecords", {"StreamName": "$S", "Records": "no"}),
            ("GetRecords", {"ShardIterator": ["x"]}),
            ("CreateStream", {"ShardCount": 1}),
            ("CreateStream", {"StreamName": "v", "ShardCount": 0}),
            ("GetRecords", {"ShardIterator": "x", "Limit": 10001}),
            ("ListStreams", {"Limit": 0, "ExclusiveStartStreamName": ""}),
            ("PutRecords", {"StreamName": "$S", "Records": []}),
            ("PutRecords", {"StreamName": "$S", "Records": [{"Data": "YQ==", "PartitionKey": "k"}] * 501}),
            ("PutRecord", {"StreamName": "$S", "Data": "YQ==", "PartitionKey": ""}),
            ("DescribeStream", {}),
            ("GetRecords", {"ShardIterator": "bm90IGFuIGl0ZXJhdG9y"}),
            ("PutRecord", {"StreamName": "$S", "Data": "!!!!", "PartitionKey": "k"}),
            ("PutRecord", {"StreamName": "$S", "Data": big, "PartitionKey": "k"}),
            ("PutRecords", {"StreamName": "$S", "Records": [{"Data": one, "PartitionKey": "k"}] * 6}),
            ("PutRecords", {"StreamName": "$S", "Records": [{"Data": "YQ==", "PartitionKey": "k"}] * 3 +
                            [{"Data": "***", "PartitionKey": "k"}]}),
            ("DescribeStream", {"StreamName": "no-such-stream"}),
            ("ListShards", {"StreamName": "$S", "MaxResults": 2 ** 40}),
            ("UpdateShardCount", {"StreamName": "$S", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"}),
        ]
        call(self.emu, "CreateStream", '{"StreamName":"cb-bad","ShardCount":1}')
        j, c = self.both(steps, ("cb-bad", "cb-bad"))
        for (op, _), (status, body) in zip(steps, j):
            self.assertGreaterEqual(status, 400, (op, body))
            self.assertIn("__type", body)
        stored = call(self.emu, "DescribeStreamSummary", '{"StreamName":"cb-bad"}').json()
        self.assertEqual(stored["StreamDescriptionSummary"]["OpenShardCount"], 1)

    def test_malformed_cbor_is_a_serialization_exception(self):
        raw = {
            "empty map, truncated": b"\xbf",
            "text cut short": b"\xa1\x6aStreamName\x65ab",
            "map key not text": b"\xa1\x01\x02",
            "top level array": b"\x82\x01\x02",
            "top level text": b"\x63abc",
            "indefinite nesting past the cap": b"\xbf\x61a" * 80,
            "indefinite arrays past the cap": b"\x9f" * 100,
            "byte string longer than the body": b"\xa1\x64Data\x5b\x7f\xff\xff\xff\xff\xff\xff\xff",
            "array longer than the body": b"\xa1\x61a\x9b\x00\x00\x00\x01\x00\x00\x00\x00",
            "map longer than the body": b"\xbb\x00\x00\x10\x00\x00\x00\x00\x00",
            "reserved head": b"\x1c",
            "break outside": b"\xff",
            "bytes after the value": b"\xa0\xa0",
            "text not UTF-8": b"\xa1\x6aStreamName\x62\xc3\x28",
            "chunk of the wrong type": b"\xa1\x6aStreamName\x7f\x41a\xff",
            "map ends after a key": b"\xbf\x61a\xff",
        }
        answers = cbor_calls(self.emu, [{"op": "DescribeStreamSummary", "raw": base64.b64encode(v).decode()}
                                        for v in raw.values()] +
                             [{"op": "ListStreams", "body": {}}])  # same connection: still served
        for (what, _), a in zip(raw.items(), answers):
            self.assertEqual(a["status"], 400, (what, a))
            self.assertEqual(a["content_type"], "application/x-amz-cbor-1.1", what)
            self.assertEqual(a["body"]["__type"], "SerializationException", (what, a))
            self.assertIn("CBOR", a["body"]["message"], what)
            if not what.startswith("top level"):
                self.assertIn("byte", a["body"]["message"], what)
        self.assertEqual(answers[-1]["status"], 200)
        # Declared lengths were not allocated.
        with open(f"/proc/{self.emu.proc.pid}/status") as f:
            rss_kb = int(next(line for line in f if line.startswith("VmRSS")).split()[1])
        self.assertLess(rss_kb, 512 * 1024)

    def test_binary_records_read_back_over_json_and_cbor(self):
        rnd = random.Random(7)
        data = [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 2000))) for _ in range(200)]
        put = cbor_calls(self.emu, [
            {"op": "CreateStream", "body": {"StreamName": "cb-bin", "ShardCount": 2}},
            {"op": "PutRecords", "body": {"StreamName": "cb-bin", "Records": [
                {"Data": b(d), "PartitionKey": f"k{i}"} for i, d in enumerate(data)]}},
        ])
        self.assertEqual(put[1]["status"], 200, put[1])
        self.assertEqual(put[1]["body"]["FailedRecordCount"], 0)
        kin = boto3_client(self.emu)
        via_json, via_cbor = [], []
        for shard in kin.list_shards(StreamName="cb-bin")["Shards"]:
            it = kin.get_shard_iterator(StreamName="cb-bin", ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            via_json += [r["Data"] for r in kin.get_records(ShardIterator=it)["Records"]]
            it = cbor_calls(self.emu, [{"op": "GetShardIterator", "body": {
                "StreamName": "cb-bin", "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}}])
            got = cbor_calls(self.emu, [{"op": "GetRecords", "body": {
                "ShardIterator": it[0]["body"]["ShardIterator"]}}])[0]["body"]
            via_cbor += [base64.b64decode(r["Data"]["$bytes"]) for r in got["Records"]]
        self.assertEqual(sorted(via_json), sorted(data))
        self.assertEqual(sorted(via_cbor), sorted(data))


class CborOverEveryTransport(EmulatorTestCase, unittest.TestCase):
    """CBOR over TLS (HTTP/1.1) and over h2c: the same answers."""

    def test_tls_and_h2c(self):
        answers = cbor_calls(self.emu, [
            {"op": "CreateStream", "body": {"StreamName": "cb-tls", "ShardCount": 1}},
            {"op": "PutRecord", "body": {"StreamName": "cb-tls", "Data": b(b"\x00\x01tls"), "PartitionKey": "k"}},
        ], url=self.emu.https_url, cafile=self.emu.cert)
        self.assertEqual([a["status"] for a in answers], [200, 200], answers)
        # h2c with curl: the CBOR body sent as it is, the CBOR answer read back by the peer's decoder.
        body = b"\xa1\x6aStreamName\x66cb-tls"
        p = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "-", "-w", "\n%{http_code} %{http_version}",
                            "-X", "POST", self.emu.url + "/", "-H", "Content-Type: application/x-amz-cbor-1.1",
                            "-H", "X-Amz-Target: Kinesis_20131202.DescribeStreamSummary",
                            "-H", "X-Amz-Date: 20261124T000000Z",
                            "-H", "Authorization: AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/kinesis/"
                                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
                            "--data-binary", "@-"], input=body, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out, _, tail = p.stdout.rpartition(b"\n")
        self.assertEqual(tail, b"200 2")
        self.assertIn(b"StreamDescriptionSummary", out)
        self.assertIn(b"cb-tls", out)
        self.assertEqual(out[:1], b"\xbf")  # an indefinite-length map: CBOR, not JSON


if __name__ == "__main__":
    unittest.main()
