/**
 * Baseline child process: a bare kafkajs consumer (eachBatch, default fetch sizes, auto-commit) that only
 * counts records from the beginning of a topic until N, then prints `RESULT {json}` and leaves the group.
 *
 *   node --import tsx bench/src/pipeline/kafkajs-drain.ts <brokers> <topic> <group> <n>
 */
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaSecurityFromEnv } from '@tessera/kafka';

async function main(): Promise<void> {
  const [brokers, topic, groupId, n] = process.argv.slice(2) as [string, string, string, string];
  const target = Number(n);
  const kafka = new Kafka({
    ...kafkaSecurityFromEnv(),
    clientId: 'bench-kafkajs-drain',
    brokers: brokers.split(','),
    logLevel: logLevel.ERROR,
  });
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let count = 0;
  let firstMs = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (count === 0) firstMs = performance.now();
      count += batch.messages.length;
      if (count >= target) done();
    },
  });
  await finished;
  const doneMs = performance.now();
  console.log(`RESULT ${JSON.stringify({ count, firstMs, doneMs, maxRssKb: process.resourceUsage().maxRSS })}`);
  await consumer.disconnect();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
