#!/usr/bin/env node
// Puts COUNT records into STREAM with the AWS SDK for JavaScript v3, creating
// the stream (2 shards) if needed; failed records are sent again.
//
//   node examples/js/producer.js [STREAM] [COUNT]
const {
  CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand, ResourceNotFoundException,
  waitUntilStreamExists,
} = require("@aws-sdk/client-kinesis");
const { client } = require("./client");

async function main() {
  const stream = process.argv[2] || "orders";
  const count = Number(process.argv[3] || 10);
  const k = client();
  try {
    await k.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
    await k.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
    await waitUntilStreamExists({ client: k, maxWaitTime: 60 }, { StreamName: stream });
  }
  const enc = new TextEncoder();
  let sent = 0;
  for (let start = 0; start < count; start += 500) {
    let batch = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      batch.push({ Data: enc.encode(JSON.stringify({ order: i, amount: (i * 7) % 100 })),
                   PartitionKey: `customer-${i % 5}` });
    }
    const size = batch.length;
    for (let attempt = 0; batch.length; attempt++) {
      if (attempt === 10) throw new Error(`${batch.length} records still failing`);
      const r = await k.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
      batch = batch.filter((_, i) => r.Records[i].ErrorCode);
    }
    sent += size;
  }
  console.log(`producer: put ${sent} records into ${stream}`);
}

main().catch((e) => { console.error(`producer: ${e.name}: ${e.message}`); process.exit(1); });
