"""Enhanced fan-out against the emulator: consumers (register, describe, list, deregister) and SubscribeToShard
with boto3 (HTTP/1.1), the AWS SDK for JavaScript v3 (HTTP/2, plain and TLS) and CBOR; events pushed as records
arrive, the 5-second rule, the end of a subscription, ChildShards, flow control and idle subscribers."""
import http.client
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import unittest
import zlib

from botocore.exceptions import ClientError

from .kt import Emulator, EmulatorTestCase, assert_each_once_in_order, boto3_client, client_env, request_bytes
from .test_emulator_cbor import cbor_calls
from .test_emulator_examples import npm_install, JS

HERE = os.path.dirname(os.path.abspath(__file__))


def code_of(cm):
    return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]


def evs_messages(data):
    """Splits an event stream into (headers, payload) messages, checking both CRCs of each."""
    out, i = [], 0
    while i < len(data):
        total, hlen, pcrc = struct.unpack(">III", data[i:i + 12])
        assert zlib.crc32(data[i:i + 8]) == pcrc, "prelude CRC"
        assert zlib.crc32(data[i:i + total - 4]) == struct.unpack(">I", data[i + total - 4:i + total])[0], "CRC"
        h, j, end = {}, i + 12, i + 12 + hlen
        while j < end:
            n = data[j]
            name = data[j + 1:j + 1 + n].decode()
            j += 1 + n
            assert data[j] == 7
            vl = struct.unpack(">H", data[j + 1:j + 3])[0]
            h[name] = data[j + 3:j + 3 + vl].decode()
            j += 3 + vl
        out.append((h, data[end:i + total - 4]))
        i += total
    return out, data[i:]


def consumer(k, stream, name, shards=1):
    k.create_stream(StreamName=stream, ShardCount=shards)
    arn = k.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    return arn, k.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]["ConsumerARN"]


def raw_subscribe(emu, consumer_arn, shard="shardId-000000000000", position=None):
    """SubscribeToShard in JSON over a plain socket; returns the socket, with the response headers read."""
    body = json.dumps({"ConsumerARN": consumer_arn, "ShardId": shard,
                       "StartingPosition": position or {"Type": "TRIM_HORIZON"}})
    s = socket.create_connection(("127.0.0.1", emu.port), timeout=30)
    s.sendall(request_bytes("SubscribeToShard", body))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise AssertionError(f"closed before the headers: {head!r}")
        head += chunk
    return s, head.decode()


def dechunk(raw):
    """The body of a chunked HTTP/1.1 response (all of it); and whether its last chunk came."""
    out, i = b"", 0
    while True:
        j = raw.find(b"\r\n", i)
        if j < 0:
            return out, False
        n = int(raw[i:j], 16)
        if n == 0:
            return out, True
        if len(raw) < j + 2 + n + 2:
            return out, False
        out += raw[j + 2:j + 2 + n]
        i = j + 2 + n + 2


class Consumers(EmulatorTestCase, unittest.TestCase):
    emulator_args = ("--subscription-ms", "3000")

    def setUp(self):
        self.k = boto3_client(self.emu)

    def test_register_describe_list_deregister(self):
        k = self.k
        arn, carn = consumer(k, "fo-life", "first")
        self.assertRegex(carn, r"^arn:aws:kinesis:us-east-1:000000000000:stream/fo-life/consumer/first:\d+$")
        d = k.describe_stream_consumer(ConsumerARN=carn)["ConsumerDescription"]
        self.assertEqual((d["ConsumerName"], d["ConsumerStatus"], d["StreamARN"]), ("first", "ACTIVE", arn))
        self.assertEqual(k.describe_stream_consumer(StreamARN=arn, ConsumerName="first")["ConsumerDescription"]
                         ["ConsumerARN"], carn)
        for i in range(4):
            k.register_stream_consumer(StreamARN=arn, ConsumerName=f"more{i}")
        page = k.list_stream_consumers(StreamARN=arn, MaxResults=3)
        self.assertEqual([c["ConsumerName"] for c in page["Consumers"]], ["first", "more0", "more1"])
        rest = k.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"])
        self.assertEqual([c["ConsumerName"] for c in rest["Consumers"]], ["more2", "more3"])
        self.assertNotIn("NextToken", rest)
        self.assertEqual(k.describe_stream_summary(StreamName="fo-life")["StreamDescriptionSummary"]
                         ["ConsumerCount"], 5)
        with self.assertRaises(ClientError) as cm:
            k.register_stream_consumer(StreamARN=arn, ConsumerName="first")
        self.assertEqual(code_of(cm)[0], "ResourceInUseException")
        for i in range(15):
            k.register_stream_consumer(StreamARN=arn, ConsumerName=f"fill{i}")
        with self.assertRaises(ClientError) as cm:
            k.register_stream_consumer(StreamARN=arn, ConsumerName="one-too-many")
        self.assertEqual(code_of(cm)[0], "LimitExceededException")
        # a stream with consumers is deleted only with EnforceConsumerDeletion
        with self.assertRaises(ClientError) as cm:
            k.delete_stream(StreamName="fo-life")
        self.assertEqual(code_of(cm)[0], "ResourceInUseException")
        k.deregister_stream_consumer(ConsumerARN=carn)
        with self.assertRaises(ClientError) as cm:
            k.describe_stream_consumer(ConsumerARN=carn)
        self.assertEqual(code_of(cm)[0], "ResourceNotFoundException")
        k.deregister_stream_consumer(StreamARN=arn, ConsumerName="more0")
        self.assertEqual(len(k.list_stream_consumers(StreamARN=arn)["Consumers"]), 18)
        with self.assertRaises(ClientError) as cm:
            k.describe_stream_consumer(ConsumerName="x")
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")
        with self.assertRaises(ClientError) as cm:
            k.describe_stream_consumer(ConsumerARN="arn:aws:kinesis:us-east-1:000000000000:stream/fo-life")
        self.assertEqual(code_of(cm)[0], "ValidationException")
        k.delete_stream(StreamName="fo-life", EnforceConsumerDeletion=True)

    def test_boto3_receives_records_put_after_it_began(self):
        k = self.k
        arn, carn = consumer(k, "fo-boto3", "reader")
        k.put_record(StreamName="fo-boto3", Data=b"before", PartitionKey="p")
        r = k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "LATEST"})
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/vnd.amazon.eventstream")
        sent, seqs, got, delays, last = {}, [], [], [], None

        def produce():
            p = boto3_client(self.emu)
            time.sleep(0.3)
            for i in range(40):
                sent[str(i)] = time.monotonic()
                seqs.append(p.put_record(StreamName="fo-boto3", Data=str(i).encode(),
                                         PartitionKey="p")["SequenceNumber"])
                time.sleep(0.01)

        t = threading.Thread(target=produce)
        t.start()
        for ev in r["EventStream"]:
            e = ev["SubscribeToShardEvent"]
            now = time.monotonic()
            for rec in e["Records"]:
                got.append(rec["Data"].decode())
                delays.append((now - sent[got[-1]]) * 1000)
            self.assertIsInstance(e["MillisBehindLatest"], int)
            last = e
            if len(got) >= 40:
                break
        r["EventStream"].close()
        t.join()
        # every record put after the start, none from before, in order, each event continuing the last
        self.assertEqual(got, [str(i) for i in range(40)])
        self.assertEqual(last["ContinuationSequenceNumber"], seqs[-1])
        delays.sort()
        print(f"\n  boto3 SubscribeToShard, put to receipt (put call included): p50 {statistics.median(delays):.1f} "
              f"ms, p99 {delays[int(len(delays) * 0.99) - 1]:.1f} ms", file=sys.stderr)
        self.assertLess(statistics.median(delays), 1000, "pushed, not polled every few seconds")

    def test_resubscribing_within_5_seconds_is_refused(self):
        k = self.k
        arn, carn = consumer(k, "fo-again", "c")
        r = k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "LATEST"})
        with self.assertRaises(ClientError) as cm:
            k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "LATEST"})
        self.assertEqual(code_of(cm)[0], "ResourceInUseException")
        r["EventStream"].close()
        # bad input gets AWS's errors before any stream
        with self.assertRaises(ClientError) as cm:
            k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000007",
                                 StartingPosition={"Type": "LATEST"})
        self.assertEqual(code_of(cm), ("ResourceNotFoundException", "Could not find shard shardId-000000000007 in "
                                       "stream fo-again under account 000000000000."))
        with self.assertRaises(ClientError) as cm:
            k.subscribe_to_shard(ConsumerARN=carn + "9", ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "LATEST"})
        self.assertEqual(code_of(cm)[0], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as cm:
            k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "AT_SEQUENCE_NUMBER"})
        self.assertEqual(code_of(cm)[0], "InvalidArgumentException")

    def test_the_stream_ends_after_subscription_ms(self):
        k = self.k
        arn, carn = consumer(k, "fo-end", "c")
        t0 = time.monotonic()
        r = k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "TRIM_HORIZON"})
        n = sum(1 for _ in r["EventStream"])
        self.assertGreaterEqual(n, 1)  # the first event comes at once, records or not
        self.assertGreater(time.monotonic() - t0, 2.5)
        self.assertLess(time.monotonic() - t0, 10)

    def test_a_closed_shard_sends_child_shards_and_ends(self):
        k = self.k
        arn, carn = consumer(k, "fo-split", "c")
        k.put_record(StreamName="fo-split", Data=b"a", PartitionKey="p")
        r = k.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                 StartingPosition={"Type": "TRIM_HORIZON"})
        events = []
        for ev in r["EventStream"]:
            events.append(ev["SubscribeToShardEvent"])
            if len(events) == 1:
                k.split_shard(StreamName="fo-split", ShardToSplit="shardId-000000000000",
                              NewStartingHashKey=str(2 ** 127))
        self.assertEqual([x["Data"] for e in events for x in e["Records"]], [b"a"])
        self.assertEqual(sorted(c["ShardId"] for c in events[-1]["ChildShards"]),
                         ["shardId-000000000001", "shardId-000000000002"])
        self.assertNotIn("ChildShards", events[0])

    def test_json_and_cbor_events_agree(self):
        k = self.k
        arn, carn = consumer(k, "fo-cbor", "c")
        for i in range(5):
            k.put_record(StreamName="fo-cbor", Data=bytes([i, 255, 0]) * 10, PartitionKey=f"k{i}")
        s, head = raw_subscribe(self.emu, carn)
        self.assertIn("Content-Type: application/vnd.amazon.eventstream", head)
        raw = b""
        while True:  # the stream ends after --subscription-ms
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
            if raw.endswith(b"0\r\n\r\n"):
                break
        s.close()
        body, whole = dechunk(raw)
        self.assertTrue(whole)
        msgs, rest = evs_messages(body)
        self.assertEqual(rest, b"")
        self.assertEqual(msgs[0][0], {":message-type": "event", ":event-type": "initial-response",
                                      ":content-type": "application/json"})
        self.assertEqual(json.loads(msgs[0][1]), {})
        ev = json.loads(msgs[1][1])
        self.assertEqual(msgs[1][0][":event-type"], "SubscribeToShardEvent")
        time.sleep(5.1)  # the 5-second rule
        answers = cbor_calls(self.emu, [{"op": "SubscribeToShard", "body": {
            "ConsumerARN": carn, "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "TRIM_HORIZON"}}}])
        a = answers[0]
        self.assertEqual((a["status"], a["content_type"]), (200, "application/vnd.amazon.eventstream"))
        cev = a["body"]["$events"]
        self.assertEqual(cev[0]["headers"][":content-type"], "application/x-amz-cbor-1.1")
        self.assertEqual(cev[0]["payload"], {})
        c1 = cev[1]["payload"]
        import base64
        self.assertEqual([base64.b64decode(r["Data"]) for r in ev["Records"]],
                         [base64.b64decode(r["Data"]["$bytes"]) for r in c1["Records"]])
        self.assertEqual([(r["SequenceNumber"], r["PartitionKey"]) for r in ev["Records"]],
                         [(r["SequenceNumber"], r["PartitionKey"]) for r in c1["Records"]])
        self.assertEqual(ev["ContinuationSequenceNumber"], c1["ContinuationSequenceNumber"])
        self.assertEqual(len(ev["Records"]), 5)
        # CBOR timestamps are tag 1 epoch milliseconds, JSON's epoch seconds
        self.assertAlmostEqual(ev["Records"][0]["ApproximateArrivalTimestamp"] * 1000,
                               c1["Records"][0]["ApproximateArrivalTimestamp"]["$ms"], delta=1)

    def test_js_sdk_v3_over_http2_plain_and_tls(self):
        npm_install()
        k = self.k
        arn, carn = consumer(k, "fo-js", "c")
        env = client_env({"NODE_PATH": os.path.join(JS, "node_modules"), "NODE_EXTRA_CA_CERTS": self.emu.cert})
        for url in (self.emu.url, self.emu.https_url):
            p = subprocess.run(["node", os.path.join(HERE, "js", "subscribe.js"), url, arn, carn, "20"],
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            out = json.loads(p.stdout.strip().splitlines()[-1])
            self.assertEqual(out["got"], [str(i) for i in range(20)])
            d = sorted(out["delays"])
            print(f"\n  JS v3 SubscribeToShard over {url.split(':')[0]}, put to receipt (put call included): "
                  f"p50 {statistics.median(d):.1f} ms, p99 {d[-1]:.1f} ms", file=sys.stderr)
            self.assertLess(statistics.median(d), 1000)
            time.sleep(5.1)  # before subscribing the same consumer to the same shard again


class EventReader:
    """Reads a raw SubscribeToShard stream as it arrives: chunks, then whole messages."""

    def __init__(self, sock):
        self.sock, self.raw, self.body, self.ended = sock, b"", b"", False

    def messages(self, timeout):
        """The messages that came within timeout seconds (at least one, unless it timed out or ended)."""
        self.sock.settimeout(timeout)
        while True:
            msgs, rest = evs_messages_prefix(self.body)
            if msgs or self.ended:
                self.body = rest
                return msgs
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return []
            if not chunk:
                self.ended = True
                continue
            self.raw += chunk
            while True:  # move whole chunks into the body
                j = self.raw.find(b"\r\n")
                if j < 0:
                    break
                n = int(self.raw[:j], 16)
                if n == 0:
                    self.ended = True
                    break
                if len(self.raw) < j + 2 + n + 2:
                    break
                self.body += self.raw[j + 2:j + 2 + n]
                self.raw = self.raw[j + 2 + n + 2:]


class Lineage(EmulatorTestCase, unittest.TestCase):
    """A SubscribeToShard consumer follows ChildShards across a split, a merge and UpdateShardCount while a
    producer writes throughout: every record once, in order per key."""
    emulator_args = ("--subscription-ms", "120000")

    def test_subscriber_follows_child_shards(self):
        k = boto3_client(self.emu)
        arn, carn = consumer(k, "fo-lineage", "follower", shards=2)
        done, sent, got = threading.Event(), [], []

        def produce():
            p = boto3_client(self.emu)
            i = 0
            while not done.is_set():
                batch = [{"Data": str(i + j).encode(), "PartitionKey": f"key{(i + j) % 13}"} for j in range(10)]
                self.assertEqual(p.put_records(StreamName="fo-lineage", Records=batch)["FailedRecordCount"], 0)
                sent.extend(range(i, i + 10))
                i += 10
                time.sleep(0.01)

        def follow():
            todo, seen, parents = ["shardId-000000000000", "shardId-000000000001"], set(), {}
            while todo:
                sid = next((x for x in todo if all(q in seen for q in parents.get(x, ()))), None)
                if sid is None:
                    raise AssertionError(f"no shard whose parents are read among {todo}")
                todo.remove(sid)
                sock, _ = raw_subscribe(self.emu, carn, sid)
                r, children = EventReader(sock), None
                while children is None:
                    msgs = r.messages(2.0)
                    if not msgs:
                        if done.is_set() or r.ended:
                            break  # an open shard at its tip once the producer has stopped
                        continue
                    for h, payload in msgs:
                        if h.get(":event-type") != "SubscribeToShardEvent":
                            continue
                        e = json.loads(payload)
                        got.extend((x["PartitionKey"], int(__import__("base64").b64decode(x["Data"])))
                                   for x in e["Records"])
                        if "ChildShards" in e:
                            children = e["ChildShards"]
                sock.close()
                seen.add(sid)
                for c in children or ():
                    parents[c["ShardId"]] = c["ParentShards"]
                    if c["ShardId"] not in todo and c["ShardId"] not in seen:
                        todo.append(c["ShardId"])

        errors = []

        def guarded(fn):
            def run():
                try:
                    fn()
                except Exception as e:  # reported by the main thread
                    errors.append(e)
            return run

        tp, tf = threading.Thread(target=guarded(produce)), threading.Thread(target=guarded(follow))
        tp.start()
        tf.start()
        time.sleep(0.5)
        k.split_shard(StreamName="fo-lineage", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 126))
        time.sleep(0.5)
        k.merge_shards(StreamName="fo-lineage", ShardToMerge="shardId-000000000003",
                       AdjacentShardToMerge="shardId-000000000001")
        time.sleep(0.5)
        k.update_shard_count(StreamName="fo-lineage", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
        time.sleep(0.5)
        done.set()
        tp.join()
        tf.join(timeout=120)
        self.assertFalse(tf.is_alive())
        self.assertEqual(errors, [])
        assert_each_once_in_order(self, got, sent)


class FlowControl(unittest.TestCase):
    """A subscriber that does not read holds at most about SUB_BACKLOG in the emulator, and then gets every
    record in order once it reads: nothing skipped, nothing buffered without bound."""

    def test_slow_reader_is_bounded_and_loses_nothing(self):
        emu = Emulator("--subscription-ms", "20000")
        try:
            k = boto3_client(emu)
            arn, carn = consumer(k, "fo-slow", "c")
            s, _ = raw_subscribe(emu, carn)
            payload = b"x" * 60000
            for i in range(10):  # 30 MB in the shard, read by no one yet
                k.put_records(StreamName="fo-slow", Records=[{"Data": payload, "PartitionKey": str(i * 50 + j)}
                                                             for j in range(50)])
            time.sleep(0.5)
            conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
            conn.request("GET", "/health")
            health = json.loads(conn.getresponse().read())
            self.assertLess(health["unsent_bytes"], 6 << 20, health)
            raw = b""
            s.settimeout(5)
            while True:  # all of it, then the 5 s of silence after the last event
                try:
                    chunk = s.recv(1 << 20)
                except socket.timeout:
                    break
                if not chunk:
                    break
                raw += chunk
            msgs, _ = evs_messages_prefix(dechunk(raw)[0])
            records = [r for h, p in msgs[1:] for r in json.loads(p)["Records"]]
            s.close()
            self.assertEqual([r["PartitionKey"] for r in records], [str(i) for i in range(500)])
        finally:
            rc, log = emu.close()
        self.assertEqual(rc, 0, log)


class SubscriptionLimits(unittest.TestCase):
    """--enforce-limits: a subscription is sent at most 2 MiB a second; deregistering its consumer ends it."""

    def test_two_mib_a_second_and_the_end_of_a_consumer(self):
        emu = Emulator("--enforce-limits", "--subscription-ms", "60000")
        try:
            k = boto3_client(emu)
            arn, carn = consumer(k, "fo-rate", "c", shards=1)
            # 6 MiB in the shard, put across 7 seconds (the shard takes 1 MiB a second)
            for i in range(7):
                t0 = time.monotonic()
                r = k.put_records(StreamName="fo-rate", Records=[{"Data": bytes(100000), "PartitionKey": f"{i}-{j}"}
                                                                 for j in range(9)])
                self.assertEqual(r["FailedRecordCount"], 0)
                time.sleep(max(0, 1.05 - (time.monotonic() - t0)))
            sock, _ = raw_subscribe(emu, carn)
            r, got, t0 = EventReader(sock), 0, time.monotonic()
            while got < 63:
                msgs = r.messages(10)
                self.assertTrue(msgs, f"stalled at {got} records")
                got += sum(len(json.loads(p)["Records"]) for h, p in msgs
                           if h.get(":event-type") == "SubscribeToShardEvent")
            took = time.monotonic() - t0
            self.assertGreater(took, 1.0, "6 MiB at 2 MiB a second spans three one-second windows")
            # the consumer goes: the stream ends with an exception event
            k.deregister_stream_consumer(ConsumerARN=carn)
            ended = []
            while not r.ended:
                ended += r.messages(10)
                if not ended and not r.ended:
                    break
            self.assertEqual([h.get(":exception-type") for h, p in ended if h.get(":message-type") == "exception"],
                             ["ResourceNotFoundException"])
            sock.close()
        finally:
            rc, log = emu.close()
        self.assertEqual(rc, 0, log)


def evs_messages_prefix(data):
    """The whole messages at the start of data (a stream still arriving)."""
    out, i = [], 0
    while len(data) - i >= 12:
        total = struct.unpack(">I", data[i:i + 4])[0]
        if len(data) - i < total:
            break
        msgs, _ = evs_messages(data[i:i + total])
        out.extend(msgs)
        i += total
    return out, data[i:]


class IdleSubscribers(unittest.TestCase):
    """1,000 subscriptions open on one stream cost no CPU while it is idle, and each gets its record at once."""

    def test_a_thousand_idle_subscribers(self):
        emu = Emulator("--subscription-ms", "120000", "--shard-limit", "1000")
        socks = []
        try:
            k = boto3_client(emu)
            k.create_stream(StreamName="fo-idle", ShardCount=50)
            arn = k.describe_stream_summary(StreamName="fo-idle")["StreamDescriptionSummary"]["StreamARN"]
            carns = [k.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")["Consumer"]["ConsumerARN"]
                     for i in range(20)]
            for carn in carns:
                for sh in range(50):
                    socks.append(raw_subscribe(emu, carn, f"shardId-{sh:012d}", {"Type": "LATEST"})[0])
            time.sleep(1)

            def cpu():
                with open(f"/proc/{emu.proc.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            c0 = cpu()
            time.sleep(3)
            idle = cpu() - c0
            print(f"\n  1,000 idle subscribers: {idle:.3f} s of emulator CPU in 3 s", file=sys.stderr)
            self.assertLess(idle, 0.15)
            # one record per shard: each of the 20 subscribers of that shard gets it
            k.put_records(StreamName="fo-idle", Records=[{"Data": b"r", "PartitionKey": "x",
                                                          "ExplicitHashKey": str(sh * (2 ** 128 // 50))}
                                                         for sh in range(50)])
            for s in socks:
                s.settimeout(10)
                raw = b""
                while True:
                    raw += s.recv(65536)
                    msgs, _ = evs_messages_prefix(dechunk(raw)[0])
                    recs = [r for h, p in msgs[1:] for r in json.loads(p)["Records"]]
                    if recs:
                        break
                self.assertEqual(len(recs), 1)
        finally:
            for s in socks:
                s.close()
            rc, log = emu.close()
        self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main()
