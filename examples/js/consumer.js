#!/usr/bin/env node
// Reads every record of STREAM from the start of each shard with the AWS SDK
// for JavaScript v3 and prints one payload a line.
//
//   node examples/js/consumer.js [STREAM]
const { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } = require("@aws-sdk/client-kinesis");
const { client } = require("./client");

// The reader went away (`| head`): stop quietly, as command-line tools do.
process.stdout.on("error", (e) => { if (e.code === "EPIPE") process.exit(0); throw e; });

async function main() {
  const stream = process.argv[2] || "orders";
  const k = client();
  const dec = new TextDecoder();
  let total = 0;
  const { Shards } = await k.send(new ListShardsCommand({ StreamName: stream }));
  for (const shard of Shards) {
    let { ShardIterator: it } = await k.send(new GetShardIteratorCommand({
      StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
    while (it) {
      const r = await k.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
      for (const rec of r.Records) {
        console.log(dec.decode(rec.Data));
        total++;
      }
      if (r.Records.length === 0 && r.MillisBehindLatest === 0) break;
      it = r.NextShardIterator;
    }
  }
  console.error(`consumer: read ${total} records from ${stream}`);
}

main().catch((e) => { console.error(`consumer: ${e.name}: ${e.message}`); process.exit(1); });
