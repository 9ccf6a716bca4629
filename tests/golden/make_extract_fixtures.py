#!/usr/bin/env python3
"""Writes the extract golden fixtures: snapshots (as capture writes them) and
the CSV each must give, computed here independently with Python's csv module.

    python3 tests/golden/make_extract_fixtures.py

Run it only to change the fixtures; the test suite compares against the files.
"""
import base64
import csv
import io
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "extract")
T0 = 1795560000000000000


def rfc3339(ns):
    import datetime
    s, frac = divmod(ns, 10 ** 9)
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def exchange(n, ts, op, stream, req_body, status=200, resp_body=None, incomplete=None):
    req_body = req_body if isinstance(req_body, str) else json.dumps(req_body)
    x = {"ts": rfc3339(ts), "ts_ns": ts, "client": {"ip": "10.0.0.1", "port": 40000},
         "server": {"ip": "10.0.0.2", "port": 4566}, "conn": 1, "n": n,
         "http": {"request": {"method": "POST", "target": "/", "version": "HTTP/1.1",
                              "headers": [["X-Amz-Target", f"Kinesis_20131202.{op}"],
                                          ["Content-Type", "application/x-amz-json-1.1"]],
                              "body": req_body, "body_bytes": len(req_body.encode())},
                  "response": None},
         "kinesis": {"operation": op, "stream": stream}}
    if status is not None:
        rb = resp_body if isinstance(resp_body, str) else json.dumps(resp_body)
        x["http"]["response"] = {"ts": rfc3339(ts + 1000), "ts_ns": ts + 1000, "status": status,
                                 "reason": "OK" if status == 200 else "Bad Request", "version": "HTTP/1.1",
                                 "headers": [["Content-Type", "application/x-amz-json-1.1"]],
                                 "body": rb, "body_bytes": len(rb.encode())}
        x["duration_ns"] = 2000
    if incomplete:
        x["incomplete"] = incomplete
    return x


def snapshot(path, exchanges):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"kintape_snapshot": 1, "minor": 0, "created": rfc3339(T0), "tool": "fixture",
                            "source": {"type": "file", "name": "fixture.pcap", "filter": "", "snaplen": 65535}},
                           separators=(",", ":")) + "\n")
        for x in exchanges:
            f.write(json.dumps(x, separators=(",", ":"), ensure_ascii=False) + "\n")
        f.write(json.dumps({"kintape_snapshot_end": {"exchanges": len(exchanges), "lossless": True}}) + "\n")


def b64(b):
    return base64.b64encode(b).decode()


def seq(shard, i):
    return f"4901795556000000000000000{shard}{i:030d}"[:56]


def write_csv(path, header, rows):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


def main():
    os.makedirs(HERE, exist_ok=True)
    texts = ['plain text', 'comma, "quote" and\nnewline\r\nCRLF', 'unicode: é 漢字 😀', '', '  spaces  ']
    xs = []
    # 1: PutRecords, the third record throttled
    recs = [{"Data": b64(t.encode()), "PartitionKey": f"pk-{i}"} for i, t in enumerate(texts)]
    recs[1]["ExplicitHashKey"] = "340282366920938463463374607431768211455"
    results = [{"SequenceNumber": seq(0, i), "ShardId": "shardId-000000000000"} for i in range(len(texts))]
    results[2] = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}
    xs.append(exchange(1, T0, "PutRecords", "orders", {"StreamName": "orders", "Records": recs},
                       resp_body={"FailedRecordCount": 1, "Records": results}))
    # 2: the throttled record sent again, as PutRecord, accepted
    xs.append(exchange(2, T0 + 10 ** 9, "PutRecord", "orders",
                       {"StreamName": "orders", "Data": b64(texts[2].encode()), "PartitionKey": "pk-2"},
                       resp_body={"ShardId": "shardId-000000000001", "SequenceNumber": seq(1, 0)}))
    # 3: ListStreams: not a record
    xs.append(exchange(3, T0 + 2 * 10 ** 9, "ListStreams", None, {}, resp_body={"StreamNames": ["orders"]}))
    # 4: PutRecord refused as a whole
    xs.append(exchange(4, T0 + 3 * 10 ** 9, "PutRecord", "orders",
                       {"StreamName": "orders", "Data": b64(b"too late"), "PartitionKey": "pk-x"}, status=400,
                       resp_body={"__type": "ResourceNotFoundException", "message": "gone"}))
    # 5: PutRecords to another stream, by ARN, no response captured
    xs.append(exchange(5, T0 + 4 * 10 ** 9, "PutRecords", "clicks",
                       {"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks",
                        "Records": [{"Data": b64(b"click-1"), "PartitionKey": "u1"}]},
                       status=None, incomplete="no response"))
    # 6: PutRecords to clicks, accepted
    xs.append(exchange(6, T0 + 5 * 10 ** 9, "PutRecords", "clicks",
                       {"Records": [{"Data": b64(b"click-2"), "PartitionKey": "u2"}], "StreamName": "clicks"},
                       resp_body={"FailedRecordCount": 0, "Records": [{"SequenceNumber": seq(0, 7),
                                                                       "ShardId": "shardId-000000000000"}]}))
    snapshot(os.path.join(HERE, "mixed.snap.jsonl"), xs)

    ts = [rfc3339(T0 + k * 10 ** 9) for k in range(6)]
    cols = ["ts", "partition_key", "explicit_hash_key", "stream", "shard_id", "sequence_number"]
    accepted = []
    for i, t in enumerate(texts):
        if i == 2:
            continue
        accepted.append([t, ts[0], f"pk-{i}", recs[i].get("ExplicitHashKey", ""), "orders",
                         "shardId-000000000000", seq(0, i)])
    accepted.append([texts[2], ts[1], "pk-2", "", "orders", "shardId-000000000001", seq(1, 0)])
    clicks2 = ["click-2", ts[5], "u2", "", "clicks", "shardId-000000000000", seq(0, 7)]
    write_csv(os.path.join(HERE, "mixed.csv"), ["data"] + cols, accepted + [clicks2])

    every = []
    for i, t in enumerate(texts):
        ok = i != 2
        every.append([t, ts[0], f"pk-{i}", recs[i].get("ExplicitHashKey", ""), "orders",
                      "shardId-000000000000" if ok else "", seq(0, i) if ok else "",
                      "" if ok else "ProvisionedThroughputExceededException"])
    every.append([texts[2], ts[1], "pk-2", "", "orders", "shardId-000000000001", seq(1, 0), ""])
    every.append(["too late", ts[3], "pk-x", "", "orders", "", "", "ResourceNotFoundException"])
    every.append(["click-1", ts[4], "u1", "", "clicks", "", "", "(no response)"])
    every.append(clicks2 + [""])
    write_csv(os.path.join(HERE, "mixed.all.csv"), ["data"] + cols + ["error_code"], every)

    write_csv(os.path.join(HERE, "mixed.clicks.csv"), ["data"] + cols, [clicks2])
    write_csv(os.path.join(HERE, "mixed.since.csv"), ["data"] + cols,
              [r for r in accepted if r[1] >= ts[1]] + [clicks2])
    write_csv(os.path.join(HERE, "mixed.base64.csv"), ["data_base64"] + cols,
              [[b64(r[0].encode())] + r[1:] for r in accepted + [clicks2]])
    write_csv(os.path.join(HERE, "mixed.paths.csv"),
              [".ts", ".kinesis.operation", ".http.response.status", ".http.request.headers[0][1]", ".kinesis"],
              [[ts[k], op, "200", f"Kinesis_20131202.{op}", json.dumps({"operation": op, "stream": st},
                                                                       separators=(",", ":"))]
               for k, op, st in ((0, "PutRecords", "orders"), (1, "PutRecord", "orders"),
                                 (2, "ListStreams", None), (5, "PutRecords", "clicks"))])

    # Binary payloads: the header says data_base64.
    raw = [bytes(range(256)), b"\x00nul", "text too".encode()]
    brecs = [{"Data": b64(b), "PartitionKey": f"b{i}"} for i, b in enumerate(raw)]
    snapshot(os.path.join(HERE, "binary.snap.jsonl"), [exchange(
        1, T0, "PutRecords", "bin", {"StreamName": "bin", "Records": brecs},
        resp_body={"FailedRecordCount": 0, "Records": [{"SequenceNumber": seq(0, i), "ShardId": "shardId-000000000000"}
                                                       for i in range(3)]})])
    write_csv(os.path.join(HERE, "binary.csv"), ["data_base64"] + cols,
              [[b64(b), rfc3339(T0), f"b{i}", "", "bin", "shardId-000000000000", seq(0, i)]
               for i, b in enumerate(raw)])


if __name__ == "__main__":
    main()
