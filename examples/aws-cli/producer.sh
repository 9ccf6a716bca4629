#!/bin/sh
# Puts COUNT records into STREAM with the AWS CLI, creating the stream (2 shards) if needed.
#
#   examples/aws-cli/producer.sh [STREAM] [COUNT]
#
# KINESIS_ENDPOINT (default http://127.0.0.1:4566) points the CLI at the emulator
# or at AWS; credentials and region come from the usual AWS variables, with
# dummy ones for the local emulator when none are set.
set -eu
stream=${1:-orders}
count=${2:-10}
endpoint=${KINESIS_ENDPOINT:-http://127.0.0.1:4566}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=
k() { aws --endpoint-url "$endpoint" kinesis "$@"; }

if ! k describe-stream-summary --stream-name "$stream" >/dev/null 2>&1; then
    k create-stream --stream-name "$stream" --shard-count 2
    k wait stream-exists --stream-name "$stream"
fi

# PutRecords takes at most 500 records a call.
sent=0
while [ "$sent" -lt "$count" ]; do
    n=$((count - sent))
    [ "$n" -gt 500 ] && n=500
    records=$(i=0; printf '['; while [ "$i" -lt "$n" ]; do
        id=$((sent + i))
        [ "$i" -gt 0 ] && printf ','
        # The AWS CLI v1 base64-encodes blob arguments itself: Data is the payload text.
        printf '{"Data":"{\\"order\\":%d,\\"amount\\":%d}","PartitionKey":"customer-%d"}' "$id" $((id * 7 % 100)) $((id % 5))
        i=$((i + 1))
    done; printf ']')
    failed=$(k put-records --stream-name "$stream" --records "$records" --query FailedRecordCount --output text)
    if [ "$failed" != "0" ]; then
        echo "producer: $failed records failed" >&2
        exit 1
    fi
    sent=$((sent + n))
done
echo "producer: put $sent records into $stream"
