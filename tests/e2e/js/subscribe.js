// SubscribeToShardCommand of the AWS SDK for JavaScript v3 against the emulator:
// subscribes a consumer to shard 0, puts N records one by one after the
// subscription has begun, and prints one JSON line: what was received and each
// record's delay from the put's start to its arrival in the event stream.
//
// (over https, NODE_EXTRA_CA_CERTS names the emulator's certificate)
//
//   NODE_PATH=examples/js/node_modules node tests/e2e/js/subscribe.js ENDPOINT STREAM_ARN CONSUMER_ARN N
const { KinesisClient, PutRecordCommand, SubscribeToShardCommand } = require("@aws-sdk/client-kinesis");

async function main() {
  const [endpoint, streamArn, consumerArn, n] = process.argv.slice(2);
  const total = Number(n);
  const opts = {
    endpoint, region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
  const k = new KinesisClient(opts);
  const putter = new KinesisClient(opts);
  const r = await k.send(new SubscribeToShardCommand({
    ConsumerARN: consumerArn, ShardId: "shardId-000000000000", StartingPosition: { Type: "LATEST" } }));
  const sent = new Map();
  const delays = [];
  const got = [];
  let events = 0;
  const producer = (async () => {
    await new Promise((res) => setTimeout(res, 300));
    for (let i = 0; i < total; i++) {
      sent.set(String(i), process.hrtime.bigint());
      await putter.send(new PutRecordCommand({ StreamARN: streamArn, Data: Buffer.from(String(i)), PartitionKey: "p" }));
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  const dec = new TextDecoder();
  for await (const ev of r.EventStream) {
    if (!ev.SubscribeToShardEvent) continue;
    events++;
    const now = process.hrtime.bigint();
    for (const rec of ev.SubscribeToShardEvent.Records) {
      const d = dec.decode(rec.Data);
      got.push(d);
      if (sent.has(d)) delays.push(Number(now - sent.get(d)) / 1e6);
    }
    if (got.length >= total) break;
  }
  await producer;
  console.log(JSON.stringify({ got, delays, events, protocol: r.$metadata.httpStatusCode }));
  process.exit(0);
}

main().catch((e) => { console.error(`subscribe: ${e.name}: ${e.message}`); process.exit(1); });
