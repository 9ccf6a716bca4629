// The Kinesis client both examples use: KINESIS_ENDPOINT (default the local
// emulator) and dummy credentials unless AWS_ACCESS_KEY_ID is set.
const { KinesisClient } = require("@aws-sdk/client-kinesis");

function client() {
  return new KinesisClient({
    endpoint: process.env.KINESIS_ENDPOINT || "http://127.0.0.1:4566",
    region: process.env.AWS_DEFAULT_REGION || process.env.AWS_REGION || "us-east-1",
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
    },
  });
}

module.exports = { client };
