/**
 * Baseline child process: a bare @platformatic/kafka consumer stream (default options, auto-commit) that only
 * counts records from the beginning of a topic until N, then prints `RESULT {json}` and leaves the group.
 *
 *   node --import tsx bench/src/pipeline/platformatic-drain.ts <brokers> <topic> <group> <n>
 */
import { performance } from 'node:perf_hooks';
import { type ConnectionOptions, Consumer, type SASLOptions } from '@platformatic/kafka';
import { kafkaSecurityFromEnv } from '@tessera/kafka';

/**
 * The TLS + SASL settings of the environment (KAFKA_SECURITY_PROTOCOL & co., read by libs/kafka like every other
 * client; the bench sets tessera-admin's) in @platformatic/kafka's terms: `tls` takes node:tls connect options (the
 * CA), `sasl` `{ mechanism: 'SCRAM-SHA-512', username, password }` (its ConnectionOptions / SASLOptions).
 */
function security(): Pick<ConnectionOptions, 'tls' | 'sasl'> {
  const { ssl, sasl } = kafkaSecurityFromEnv();
  const out: Pick<ConnectionOptions, 'tls' | 'sasl'> = {};
  if (ssl) out.tls = ssl === true ? {} : ssl;
  if (sasl) {
    if (!('username' in sasl) || !('password' in sasl)) throw new Error(`SASL mechanism ${sasl.mechanism} is not supported by this drain`);
    out.sasl = { mechanism: sasl.mechanism.toUpperCase() as SASLOptions['mechanism'], username: sasl.username, password: sasl.password };
  }
  return out;
}

async function main(): Promise<void> {
  const [brokers, topic, groupId, n] = process.argv.slice(2) as [string, string, string, string];
  const target = Number(n);
  const consumer = new Consumer({ ...security(), groupId, clientId: 'bench-platformatic-drain', bootstrapBrokers: brokers.split(',') });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
  let count = 0;
  let firstMs = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      if (count === 0) firstMs = performance.now();
      if (++count === target) resolve();
    });
    stream.on('error', reject);
  });
  const doneMs = performance.now();
  console.log(`RESULT ${JSON.stringify({ count, firstMs, doneMs, maxRssKb: process.resourceUsage().maxRSS })}`);
  await stream.close();
  await consumer.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
