#!/bin/sh
# Reads every record of STREAM from the start of each shard with the AWS CLI and
# prints one payload a line.
#
#   examples/aws-cli/consumer.sh [STREAM]
set -eu
stream=${1:-orders}
endpoint=${KINESIS_ENDPOINT:-http://127.0.0.1:4566}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=
k() { aws --endpoint-url "$endpoint" kinesis "$@"; }

total=0
for shard in $(k list-shards --stream-name "$stream" --query 'Shards[].ShardId' --output text); do
    it=$(k get-shard-iterator --stream-name "$stream" --shard-id "$shard" \
        --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
    while :; do
        out=$(k get-records --shard-iterator "$it" --limit 1000 --output json)
        datas=$(printf '%s' "$out" | python3 -c 'import json,sys; [print(r["Data"]) for r in json.load(sys.stdin)["Records"]]')
        [ -z "$datas" ] && break
        for d in $datas; do
            printf '%s\n' "$d" | base64 -d
            echo
            total=$((total + 1))
        done
        it=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["NextShardIterator"])')
    done
done
echo "consumer: read $total records from $stream" >&2
