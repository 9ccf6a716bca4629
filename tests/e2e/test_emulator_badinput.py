"""Bad input to the emulator, sent as raw HTTP: each gets the right status and
__type, and the server keeps serving other clients afterwards."""
import base64
import json
import socket
import subprocess
import threading
import time
import unittest

from .kt import (AUTH, EmulatorTestCase, call, closed_by_peer, connect, read_response, request_bytes)


def put_body(stream, records):
    return json.dumps({"StreamName": stream, "Records": records})


class BadInput(EmulatorTestCase, unittest.TestCase):
    emulator_args = ("--max-body", "8388608", "--initialize-streams", "bad:2")

    def assertServing(self):
        r = call(self.emu, "ListStreams", "{}")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("bad", r.json()["StreamNames"])

    def assertError(self, resp, status, typ, message=None):
        self.assertEqual(resp.status, status, resp.body)
        body = resp.json()
        self.assertEqual(body["__type"], typ, body)
        if message is not None:
            self.assertEqual(body["message"], message)
        self.assertEqual(resp.headers.get("content-type"), "application/x-amz-json-1.1")
        return body

    def tearDown(self):
        self.assertTrue(self.emu.alive(), self.emu.stderr())
        self.assertServing()

    # --- JSON and the API -----------------------------------------------------

    def test_truncated_json(self):
        b = self.assertError(call(self.emu, "CreateStream", '{"StreamName": "x", "ShardCount"'), 400,
                             "SerializationException")
        self.assertIn("byte", b["message"])

    def test_not_json(self):
        self.assertError(call(self.emu, "ListStreams", "hello"), 400, "SerializationException")
        self.assertError(call(self.emu, "ListStreams", b"\xff\xfe\x00"), 400, "SerializationException")
        self.assertError(call(self.emu, "ListStreams", "[1,2]"), 400, "SerializationException")
        self.assertError(call(self.emu, "ListStreams", '"str"'), 400, "SerializationException")

    def test_wrong_member_types(self):
        # In AWS's words: its JSON reader names the Java classes, not the member.
        number = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
        for op, body, message in (
                ("CreateStream", '{"StreamName": 7, "ShardCount": 1}', number + " can not be converted to an String"),
                ("CreateStream", '{"StreamName": true, "ShardCount": 1}',
                 "class java.lang.Boolean can not be converted to an String"),
                ("CreateStream", '{"StreamName": "x", "ShardCount": "1"}',
                 "class java.lang.String can not be converted to an Integer"),
                ("CreateStream", '{"StreamName": "x", "ShardCount": true}',
                 "class java.lang.Boolean can not be converted to an Integer"),
                ("CreateStream", '{"StreamName": {}, "ShardCount": 1}',
                 "Start of structure or map found where not expected."),
                ("CreateStream", '{"StreamName": ["x"], "ShardCount": 1}', "Start of list found where not expected"),
                ("PutRecords", '{"StreamName": "bad", "Records": "no"}', "Expected list or null"),
                ("PutRecords", '{"StreamName": "bad", "Records": {}}',
                 "Start of structure or map found where not expected."),
                ("PutRecord", '{"StreamName": "bad", "Data": 5, "PartitionKey": "k"}',
                 number + " can not be converted to a Blob"),
                ("GetRecords", '{"ShardIterator": ["x"]}', "Start of list found where not expected"),
                ("AddTagsToStream", '{"StreamName": "bad", "Tags": []}', "Start of list found where not expected"),
                ("AddTagsToStream", '{"StreamName": "bad", "Tags": 3}', "Expected map or null"),
                ("ListShards", '{"StreamName": "bad", "ShardFilter": "x"}', "Expected null"),
                ("CreateStream", '{"StreamName": "x", "ShardCount": 1, "StreamModeDetails": {"StreamMode": 1}}',
                 number + " can not be converted to an String"),
                ("GetShardIterator", '{"StreamName": "bad", "ShardId": "shardId-0", "ShardIteratorType": '
                                     '"AT_TIMESTAMP", "Timestamp": "23"}',
                 "class java.lang.String can not be converted to milliseconds since epoch"),
                ("ListStreams", '{"Limit": 1, "ExclusiveStartStreamName": "a", "NextToken": false}',
                 "class java.lang.Boolean can not be converted to an String"),
                ("ListShards", '{"StreamName": "bad", "StreamCreationTimestamp": "23"}',
                 "class java.lang.String can not be converted to milliseconds since epoch"),
                ("ListShards", '{"StreamName": "bad", "StreamCreationTimestamp": true}',
                 "class java.lang.Boolean can not be converted to milliseconds since epoch")):
            b = self.assertError(call(self.emu, op, body), 400, "SerializationException")
            self.assertEqual(b.get("message", b.get("Message")), message, (op, body))

    def test_integer_past_32_bits_is_a_validation_error(self):
        for count, bound in (("4294967296", "less than or equal to 2147483647"),
                             ("99999999999999999999999", "less than or equal to 2147483647"),
                             ("-4294967296", "greater than or equal to -2147483648")):
            b = self.assertError(call(self.emu, "CreateStream", '{"StreamName": "big", "ShardCount": %s}' % count),
                                 400, "ValidationException")
            self.assertIn(f"Value '{count}' at 'shardCount' failed to satisfy constraint: Member must have value "
                          f"{bound}", b["message"])

    def test_missing_and_unknown_target(self):
        # AWS answers an operation it does not know with the type alone: {"__type": "UnknownOperationException"}.
        for target in (None, "Kinesis_20131202.Frobnicate", "DynamoDB_20120810.ListTables"):
            r = call(self.emu, target, "{}")
            self.assertError(r, 400, "UnknownOperationException")
            self.assertEqual(r.json(), {"__type": "UnknownOperationException"})
            self.assertEqual(len(r.headers.get("x-amz-id-2", "")), 96, r.headers)
            self.assertTrue(r.headers.get("x-amzn-requestid"))

    def test_error_messages_are_utf8_whatever_was_echoed(self):
        # An Authorization header that is not UTF-8 is echoed in the message: as U+FFFD, so the answer stays JSON.
        with connect(self.emu) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
                      b"Content-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Date: 20261124T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=\xe3x\r\n"
                      b"Content-Length: 2\r\n\r\n{}")
            r, _ = read_response(s)
        self.assertEqual(r.status, 400)
        body = json.loads(r.body.decode("utf-8"))  # strict: fails on bytes that are not UTF-8
        self.assertEqual(body["__type"], "IncompleteSignatureException")
        self.assertIn("Credential=\ufffdx", body["message"])

    def test_content_type_and_empty_body_as_aws_answers(self):
        # Checked before the operation and the signature, in AWS's order.
        def raw(ctype, body, target="Kinesis_20131202.ListStreams"):
            head = f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Date: 20261124T000000Z\r\nAuthorization: {AUTH}\r\n"
            if target:
                head += f"X-Amz-Target: {target}\r\n"
            if ctype:
                head += f"Content-Type: {ctype}\r\n"
            with connect(self.emu) as s:
                s.sendall(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                return read_response(s)[0]
        r = raw("application/x-amz-json-1.1", b"")
        self.assertEqual((r.status, r.json()), (400, {"__type": "SerializationException"}))
        r = raw("application/x-amz-json-1.1", b"", target="Kinesis_20131202.Nope")
        self.assertEqual((r.status, r.json()), (400, {"__type": "UnknownOperationException"}))
        r = raw("application/x-amz-cbor-1.1", b"")
        self.assertEqual((r.status, r.headers["content-type"]), (400, "application/x-amz-cbor-1.1"))
        self.assertEqual(r.body, b"\xbff__typevSerializationException\xff")  # {"__type": ...} in CBOR
        r = raw(None, b"{}")
        self.assertEqual((r.status, r.body), (404, b"<UnknownOperationException/>\n"))
        r = raw("text/plain", b"{}", target=None)
        self.assertEqual(r.status, 403)
        self.assertIn(b"<AccessDeniedException>", r.body)
        r = raw("application/json", b"{}")
        self.assertEqual((r.status, r.json()), (200, {"Output": {"__type": "com.amazon.coral.service#"
                                                                           "UnknownOperationException",
                                                                 "message": None}, "Version": "1.0"}))
        r = raw("application/json", b"{nope")
        self.assertEqual((r.status, r.json()), (200, {"Output": {"__type": "com.amazon.coral.service#"
                                                                           "SerializationException",
                                                                 "Message": None}, "Version": "1.0"}))
        # With a content type and a body, the request goes on to the operation.
        r = raw("application/x-amz-json-1.1; charset=utf-8", b"{}")
        self.assertEqual(r.status, 200, r.body)

    def test_tag_with_a_nul_byte_is_refused(self):
        # "\u0000" unescapes to a NUL byte: not a tag character (it was stored cut short, and read past).
        for op, body in (("AddTagsToStream", '{"StreamName":"bad","Tags":{"a\\u0000b":"v"}}'),
                         ("AddTagsToStream", '{"StreamName":"bad","Tags":{"k":"v\\u0000"}}'),
                         ("RemoveTagsFromStream", '{"StreamName":"bad","TagKeys":["x\\u0000"]}')):
            b = self.assertError(call(self.emu, op, body), 400, "InvalidArgumentException")
            self.assertIn("invalid characters", b["message"])
        r = call(self.emu, "ListTagsForStream", '{"StreamName":"bad"}')
        self.assertEqual(r.json()["Tags"], [])

    def test_tag_characters_as_aws_takes_them(self):
        call(self.emu, "CreateStream", '{"StreamName":"tagchars","ShardCount":1}')
        refused = ["tab\tkey", "ctl\u0001", "copy\u00a9", "dash\u2014", "emoji\U0001f600", 'quote"',
                   "semi;", "star*", "hash#", "priv\ue000", "comma,"]
        for text in refused:
            for op, body in (("AddTagsToStream", {"StreamName": "tagchars", "Tags": {text: "v"}}),
                             ("AddTagsToStream", {"StreamName": "tagchars", "Tags": {"k": text}}),
                             ("RemoveTagsFromStream", {"StreamName": "tagchars", "TagKeys": [text]})):
                b = self.assertError(call(self.emu, op, json.dumps(body)), 400, "InvalidArgumentException")
                self.assertEqual(b["message"], "Some tags contain invalid characters. Valid characters: Unicode "
                                               "letters, digits, white space, _ . / = + - % @ :.", (op, text))
        # '%' passes the character check and is refused next, in each operation's own words.
        for op, body, verb in (("AddTagsToStream", '{"StreamName":"tagchars","Tags":{"a%b":"v"}}', "add tags to"),
                               ("AddTagsToStream", '{"StreamName":"tagchars","Tags":{"k":"50%"}}', "add tags to"),
                               ("RemoveTagsFromStream", '{"StreamName":"tagchars","TagKeys":["a%"]}',
                                "remove tags from")):
            b = self.assertError(call(self.emu, op, body), 400, "InvalidArgumentException")
            self.assertEqual(b["message"], f"Failed to {verb} stream tagchars under account 000000000000 because "
                             "some tags contained illegal characters. The allowed characters are Unicode letters, "
                             "white-spaces, '_',',','/','=','+','-','@',':'.")
        # Every class AWS allows is stored.
        ok = {"Az09 _./=+-@:": "v", "\u00e9t\u00e9": "\u4e2d\u6587", "k": ""}
        body = json.dumps({"StreamName": "tagchars", "Tags": {json.loads(f'"{k}"'): json.loads(f'"{v}"')
                                                                for k, v in ok.items()}})
        self.assertEqual(call(self.emu, "AddTagsToStream", body).status, 200)
        tags = {t["Key"]: t.get("Value", "") for t in call(self.emu, "ListTagsForStream",
                                                           '{"StreamName":"tagchars"}').json()["Tags"]}
        self.assertEqual(tags, {"Az09 _./=+-@:": "v", "\u00e9t\u00e9": "\u4e2d\u6587", "k": ""})

    def test_every_operation_of_the_model_is_answered(self):
        import botocore
        import gzip
        import os
        model = json.load(gzip.open(os.path.join(os.path.dirname(botocore.__file__),
                                                 "data/kinesis/2013-12-02/service-2.json.gz")))
        self.assertEqual(len(model["operations"]), 39)
        for op in model["operations"]:
            r = call(self.emu, op, "{}")
            # an empty input is refused for its missing members or answered: never "not implemented", never 5xx
            self.assertLess(r.status, 500, (op, r.body))
            self.assertNotIn(b"NotImplemented", r.body, op)

    def test_authentication(self):
        self.assertError(call(self.emu, "ListStreams", "{}", auth=None), 400, "MissingAuthenticationTokenException",
                         "Missing Authentication Token")
        b = self.assertError(call(self.emu, "ListStreams", "{}", auth="AWS4-HMAC-SHA256 Credential=x"), 400,
                             "IncompleteSignatureException")
        self.assertIn("Credential", b["message"])
        self.assertError(call(self.emu, "ListStreams", "{}", auth="Basic dXNlcjpwYXNz"), 400,
                         "IncompleteSignatureException")
        b = self.assertError(call(self.emu, "ListStreams", "{}", extra_headers={"X-Amz-Date": None}), 400,
                             "IncompleteSignatureException")
        self.assertIn("X-Amz-Date", b["message"])

    def test_validation_messages(self):
        self.assertError(call(self.emu, "CreateStream", '{"ShardCount": 1}'), 400, "ValidationException",
                         "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: "
                         "Member must not be null")
        self.assertError(call(self.emu, "CreateStream", '{"StreamName": "v", "ShardCount": 0}'), 400,
                         "ValidationException",
                         "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
                         "Member must have value greater than or equal to 1")
        b = self.assertError(call(self.emu, "GetRecords", '{"ShardIterator": "x", "Limit": 10001}'), 400,
                             "ValidationException")
        self.assertIn("Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or "
                      "equal to 10000", b["message"])
        b = self.assertError(call(self.emu, "ListStreams", '{"Limit": 0, "ExclusiveStartStreamName": ""}'), 400,
                             "ValidationException")
        self.assertTrue(b["message"].startswith("3 validation errors detected: "), b["message"])
        # AWS lists and counts the first 10 violations only.
        recs = [{"Data": "YQ==", "PartitionKey": ""}] * 25
        b = self.assertError(call(self.emu, "PutRecords", put_body("bad", recs)), 400, "ValidationException")
        self.assertTrue(b["message"].startswith("10 validation errors detected: "), b["message"])
        self.assertEqual(b["message"].count("failed to satisfy constraint"), 10)
        self.assertIn("'records.10.member.partitionKey'", b["message"])
        self.assertNotIn("'records.11.member.partitionKey'", b["message"])
        self.assertError(call(self.emu, "PutRecords", put_body("bad", [])), 400, "ValidationException")
        recs = [{"Data": "YQ==", "PartitionKey": "k"}] * 501
        b = self.assertError(call(self.emu, "PutRecords", put_body("bad", recs)), 400, "ValidationException")
        self.assertIn("Member must have length less than or equal to 500", b["message"])
        self.assertError(call(self.emu, "PutRecord", '{"StreamName":"bad","Data":"YQ==","PartitionKey":""}'), 400,
                         "ValidationException")

    def test_invalid_arguments(self):
        self.assertError(call(self.emu, "DescribeStream", "{}"), 400, "InvalidArgumentException")
        self.assertError(call(self.emu, "GetRecords", '{"ShardIterator": "bm90IGFuIGl0ZXJhdG9y"}'), 400,
                         "InvalidArgumentException", "Invalid ShardIterator.")
        b = self.assertError(call(self.emu, "PutRecord", '{"StreamName":"bad","Data":"!!!!","PartitionKey":"k"}'),
                             400, "SerializationException")
        self.assertIn("base64", b["message"])
        big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
        self.assertError(call(self.emu, "PutRecord", json.dumps({"StreamName": "bad", "Data": big,
                                                                 "PartitionKey": "k"})),
                         400, "ValidationException")
        # 5 records of 1 MiB - 10 bytes and one of 200 KB: over 5 MiB in total.
        one = base64.b64encode(b"x" * (1024 * 1024 - 10)).decode()
        extra = base64.b64encode(b"x" * 200000).decode()
        b = self.assertError(call(self.emu, "PutRecords",
                                  put_body("bad", [{"Data": one, "PartitionKey": "k"}] * 5 +
                                           [{"Data": extra, "PartitionKey": "k"}])),
                             400, "InvalidArgumentException")
        self.assertIn("5 MB", b["message"])
        # A bad record anywhere rejects the whole request: nothing is stored.
        before = call(self.emu, "DescribeStreamSummary", '{"StreamName":"bad"}').json()
        recs = [{"Data": "YQ==", "PartitionKey": "k"}] * 3 + [{"Data": "***", "PartitionKey": "k"}]
        b = self.assertError(call(self.emu, "PutRecords", put_body("bad", recs)), 400, "SerializationException")
        self.assertIn("records.4.member.Data", b["message"])
        health = self.health()
        self.assertEqual(health["records"], 0)
        self.assertTrue(before)

    def health(self):
        with connect(self.emu) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            r, _ = read_response(s)
        self.assertEqual(r.status, 200)
        return r.json()

    # --- HTTP -------------------------------------------------------------------

    def test_health(self):
        h = self.health()
        self.assertEqual(h["status"], "running")
        self.assertGreaterEqual(h["streams"], 1)

    def test_malformed_request_line_closes(self):
        for junk in (b"HELLO\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                     b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                     b"POST / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n"):
            with connect(self.emu) as s:
                s.sendall(junk)
                r, _ = read_response(s)
                self.assertEqual(r.status, 400, junk)
                self.assertEqual(r.json()["__type"], "MalformedHttpRequestException")
                self.assertIn("byte", r.json()["message"])
                self.assertTrue(closed_by_peer(s), junk)

    def test_body_over_limit_413(self):
        with connect(self.emu) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
                      b"Content-Length: 999999999999\r\n\r\n{")
            r, _ = read_response(s)
            self.assertEqual(r.status, 413)
            self.assertEqual(r.json()["__type"], "RequestEntityTooLargeException")
            self.assertIn("8388608", r.json()["message"])
            self.assertTrue(closed_by_peer(s))
        # A chunked body that grows past the cap is cut off the same way.
        with connect(self.emu) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"
            try:
                for _ in range(12):
                    s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            r, _ = read_response(s)
            self.assertEqual(r.status, 413)

    def test_chunked_body_accepted(self):
        body = b'{"StreamName":"bad"}'
        with connect(self.emu) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.DescribeStreamSummary\r\n"
                      b"Content-Type: application/x-amz-json-1.1\r\n"
                      b"X-Amz-Date: 20261124T000000Z\r\nAuthorization: " + AUTH.encode() +
                      b"\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      b"5\r\n" + body[:5] + b"\r\n" + b"%x\r\n" % (len(body) - 5) + body[5:] + b"\r\n0\r\n\r\n")
            r, _ = read_response(s)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["StreamDescriptionSummary"]["StreamName"], "bad")

    def test_huge_header_rejected(self):
        with connect(self.emu) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: " + b"a" * 20000 + b"\r\n\r\n")
            r, _ = read_response(s)
            self.assertIn(r.status, (400, 431))
            self.assertTrue(closed_by_peer(s))
        with connect(self.emu) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: aaaaaaaaaaaaaaaa\r\n" * 8000 + b"\r\n")
            r, _ = read_response(s)
            self.assertEqual(r.status, 400)

    def test_keep_alive_and_pipelining(self):
        reqs = b"".join(request_bytes("DescribeStreamSummary", json.dumps({"StreamName": n}))
                        for n in ("bad", "missing", "bad"))
        with connect(self.emu) as s:
            s.sendall(reqs)
            r1, rest = read_response(s)
            r2, rest = read_response(s, rest)
            r3, rest = read_response(s, rest)
            self.assertEqual([r1.status, r2.status, r3.status], [200, 400, 200])
            self.assertEqual(r2.json()["__type"], "ResourceNotFoundException")
            # The connection stays open for more.
            for _ in range(50):
                s.sendall(request_bytes("ListStreams", "{}"))
                r, rest = read_response(s, rest)
                self.assertEqual(r.status, 200)

    def test_http10_closes(self):
        with connect(self.emu) as s:
            req = request_bytes("ListStreams", "{}").replace(b"HTTP/1.1", b"HTTP/1.0", 1)
            s.sendall(req)
            r, _ = read_response(s)
            self.assertEqual(r.status, 200)
            self.assertTrue(closed_by_peer(s))

    def test_expect_continue(self):
        body = b'{"StreamName":"bad"}'
        req = request_bytes("DescribeStreamSummary", body, extra_headers={"Expect": "100-continue"})
        head, _, _ = req.partition(b"\r\n\r\n")
        with connect(self.emu) as s:
            s.sendall(head + b"\r\n\r\n")
            s.settimeout(10)
            interim = s.recv(100)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim)
            s.sendall(body)
            r, _ = read_response(s, interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):])
            self.assertEqual(r.status, 200)

    def test_method_and_path(self):
        # Any method but POST, on any path (GET /health aside), gets AWS's 403 with an XML body.
        for method, path in (("GET", "/nothing"), ("GET", "/"), ("DELETE", "/"), ("PUT", "/x")):
            with connect(self.emu) as s:
                s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
                r, _ = read_response(s)
            self.assertEqual(r.status, 403, (method, path))
            self.assertEqual(r.body, b"<AccessDeniedException>\n  <Message>Unable to determine service/operation "
                                     b"name to be authorized</Message>\n</AccessDeniedException>\n")
            self.assertIsNone(r.headers.get("content-type"))
            self.assertTrue(r.headers.get("x-amz-id-2"))
        with connect(self.emu) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            r, _ = read_response(s)
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["status"], "running")

    def test_half_sent_requests_do_not_block_others(self):
        # Connections that stall mid-header or mid-body, or vanish, leave other clients unaffected.
        stalled = []
        for part in (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le",
                     request_bytes("ListStreams", '{"Limit": 10}')[:-5]):
            s = connect(self.emu)
            s.sendall(part)
            stalled.append(s)
        gone = connect(self.emu)
        gone.sendall(request_bytes("ListStreams", "{}")[:30])
        gone.close()
        t0 = time.time()
        self.assertServing()
        self.assertLess(time.time() - t0, 5)
        for s in stalled:
            s.close()

    def test_many_concurrent_connections(self):
        results = []
        lock = threading.Lock()

        def client(i):
            try:
                with connect(self.emu) as s:
                    for _ in range(5):
                        s.sendall(request_bytes("PutRecord", json.dumps(
                            {"StreamName": "bad", "Data": base64.b64encode(f"c{i}".encode()).decode(),
                             "PartitionKey": f"k{i}"})))
                        r, _ = read_response(s)
                        with lock:
                            results.append(r.status)
            except Exception as e:  # noqa: BLE001 - recorded as a failure below
                with lock:
                    results.append(repr(e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
        socks_open = [connect(self.emu) for _ in range(100)]  # idle connections held open meanwhile
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for s in socks_open:
            s.close()
        self.assertEqual(results, [200] * 1000)
        self.assertGreaterEqual(self.health()["records"], 1000)


if __name__ == "__main__":
    unittest.main()


class Cors(unittest.TestCase):
    """Browsers running the JavaScript SDK against the emulator: preflights and CORS headers, over HTTP/1.1
    and HTTP/2, with --cors-origins restricting who may call."""

    def preflight(self, emu, origin, extra=b""):
        with connect(emu) as s:
            s.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: " + origin + b"\r\n"
                      b"Access-Control-Request-Method: POST\r\n"
                      b"Access-Control-Request-Headers: content-type,x-amz-target,authorization\r\n" + extra +
                      b"Content-Length: 0\r\n\r\n")
            return read_response(s)[0]

    def test_any_origin_by_default(self):
        from .kt import Emulator
        with Emulator() as emu:
            r = self.preflight(emu, b"http://localhost:3000")
            self.assertEqual((r.status, r.body), (200, b""))
            self.assertEqual(r.headers["access-control-allow-origin"], "*")
            self.assertEqual(r.headers["access-control-allow-methods"], "POST")
            self.assertEqual(r.headers["access-control-allow-headers"], "content-type,x-amz-target,authorization")
            self.assertEqual(r.headers["access-control-max-age"], "172800")
            # The call itself exposes AWS's headers to the page's script.
            r = call(emu, "ListStreams", "{}", extra_headers={"Origin": "http://localhost:3000"})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["access-control-allow-origin"], "*")
            self.assertIn("x-amzn-RequestId", r.headers["access-control-expose-headers"])
            # No Origin: no CORS headers, and OPTIONS is a method like any other but POST (403).
            r = call(emu, "ListStreams", "{}")
            self.assertNotIn("access-control-allow-origin", r.headers)
            with connect(emu) as s:
                s.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                self.assertEqual(read_response(s)[0].status, 403)
            # HTTP/2 (curl, prior knowledge) gets the same preflight answer.
            p = subprocess.run(["curl", "-s", "-i", "--http2-prior-knowledge", "-X", "OPTIONS",
                                "-H", "Origin: http://localhost:3000", "-H", "Access-Control-Request-Method: POST",
                                f"http://127.0.0.1:{emu.port}/"], capture_output=True, text=True, timeout=30)
            self.assertIn("HTTP/2 200", p.stdout)
            self.assertIn("access-control-allow-origin: *", p.stdout.lower())
            self.assertIn("access-control-max-age: 172800", p.stdout.lower())

    def test_restricted_origins(self):
        from .kt import Emulator
        with Emulator("--cors-origins", "https://app.example, http://localhost:3000") as emu:
            r = self.preflight(emu, b"http://localhost:3000")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["access-control-allow-origin"], "http://localhost:3000")
            r = self.preflight(emu, b"https://evil.example")
            self.assertEqual(r.status, 403)
            self.assertNotIn("access-control-allow-origin", r.headers)
            r = call(emu, "ListStreams", "{}", extra_headers={"Origin": "https://evil.example"})
            self.assertEqual(r.status, 200)
            self.assertNotIn("access-control-allow-origin", r.headers)
        with Emulator("--cors-origins", "none") as emu:
            self.assertEqual(self.preflight(emu, b"http://localhost:3000").status, 403)
