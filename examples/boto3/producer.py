#!/usr/bin/env python3
"""Puts COUNT records into STREAM with boto3, creating the stream (2 shards) if needed.

    examples/boto3/producer.py [STREAM] [COUNT]

KINESIS_ENDPOINT (default http://127.0.0.1:4566) points boto3 at the emulator or
at AWS; against the local emulator, dummy credentials are used when none are set.
Failed records in a PutRecords answer are sent again, as a producer should.
"""
import json
import os
import sys
import time

import boto3


def client():
    endpoint = os.environ.get("KINESIS_ENDPOINT", "http://127.0.0.1:4566")
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


def main():
    stream = sys.argv[1] if len(sys.argv) > 1 else "orders"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    k = client()
    try:
        k.describe_stream_summary(StreamName=stream)
    except k.exceptions.ResourceNotFoundException:
        k.create_stream(StreamName=stream, ShardCount=2)
        k.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})

    records = [{"Data": json.dumps({"order": i, "amount": i * 7 % 100}).encode(),
                "PartitionKey": f"customer-{i % 5}"} for i in range(count)]
    sent = retries = 0
    for start in range(0, count, 500):
        batch = records[start:start + 500]
        for attempt in range(10):
            r = k.put_records(StreamName=stream, Records=batch)
            if r["FailedRecordCount"] == 0:
                break
            batch = [rec for rec, res in zip(batch, r["Records"]) if "ErrorCode" in res]
            retries += len(batch)
            time.sleep(0.05 * 2 ** attempt)
        else:
            sys.exit(f"producer: {len(batch)} records still failing after 10 attempts")
        sent += len(records[start:start + 500])
    print(f"producer: put {sent} records into {stream} ({retries} retried)")


if __name__ == "__main__":
    main()
