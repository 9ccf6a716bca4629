#!/usr/bin/env python3
"""Reads every record of STREAM from the start of each shard with boto3 and
prints one payload a line.

    examples/boto3/consumer.py [STREAM]
"""
import os
import sys

from producer import client


def main():
    stream = sys.argv[1] if len(sys.argv) > 1 else "orders"
    k = client()
    total = 0
    for shard in k.list_shards(StreamName=stream)["Shards"]:
        it = k.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = k.get_records(ShardIterator=it, Limit=1000)
            for rec in r["Records"]:
                print(rec["Data"].decode("utf-8", errors="replace"))
                total += 1
            if not r["Records"] and r["MillisBehindLatest"] == 0:
                break
            it = r.get("NextShardIterator")
    print(f"consumer: read {total} records from {stream}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
