/**
 * `npm run dlq -- list <dlq-topic>` / `npm run dlq -- replay <dlq-topic> [--error-code <code>] [--dry-run]`: an operator's
 * view and re-drive of any dead-letter topic EventConsumer writes (payments.transfer.events.v1.dlq,
 * analytics.aggregates.v1.dlq, platform.pings.v1.dlq): letters by original topic and error code, then replayed to the
 * topic each came from (libs/kafka dlq-replay.ts). The analytics DLQ has its own replay: npm run replay (stream-processor).
 * Connects as tessera-admin (the local cluster's credentials; KAFKA_* variables override).
 */
import * as path from 'node:path';
import { createKafka, kafkaSecurityFromEnv, replayDlq } from '@tessera/kafka';
import { KAFKA_ADMIN_PRINCIPAL, kafkaClientEnv } from '../infra/local/kafka-auth';
import { kafkaBrokers, loadTopology, REPO_ROOT } from '../infra/local/topology';

async function main(argv: string[]): Promise<void> {
  const [command, dlqTopic, ...rest] = argv;
  const usage = 'usage: npm run dlq -- list <dlq-topic> | replay <dlq-topic> [--error-code <code>] [--dry-run]';
  if ((command !== 'list' && command !== 'replay') || !dlqTopic) throw new Error(usage);
  const topo = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined);
  const dlqTopics = topo.topics.filter((t) => t.dlqFor !== undefined).map((t) => t.name);
  if (!dlqTopics.includes(dlqTopic)) throw new Error(`${dlqTopic} is not a DLQ topic of infra/topology.yaml (${dlqTopics.join(', ')})`);
  if (dlqTopic === 'analytics.events.dlq.v1')
    throw new Error("the analytics DLQ holds DeadLetter envelopes: use the stream processor's replay (services/stream-processor README)");
  for (const [k, v] of Object.entries(kafkaClientEnv(path.join(REPO_ROOT, topo.stateDir), KAFKA_ADMIN_PRINCIPAL))) process.env[k] ??= v;
  const errorCode = rest.includes('--error-code') ? rest[rest.indexOf('--error-code') + 1] : undefined;
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (o: unknown, m?: string) => console.error(m ?? o),
    error: (o: unknown, m?: string) => console.error(m ?? o),
  };
  const kafka = createKafka({
    clientId: 'tessera-dlq',
    brokers: process.env['KAFKA_BROKERS']?.split(',') ?? kafkaBrokers(topo, 'single'),
    logger,
    config: kafkaSecurityFromEnv(),
  });
  const dryRun = command === 'list' || rest.includes('--dry-run');
  const result = await replayDlq({
    kafka,
    dlqTopic,
    dryRun,
    ...(errorCode ? { errorCode } : {}),
    groupPrefix: `${KAFKA_ADMIN_PRINCIPAL}.dlq-`,
  });
  console.log(`${dlqTopic}: ${Object.values(result.byCause).reduce((a, b) => a + b, 0)} letter(s)`);
  for (const [cause, n] of Object.entries(result.byCause)) console.log(`  ${n}  ${cause}`);
  if (command === 'replay') console.log(`${dryRun ? 'would replay' : 'replayed'} ${result.replayed}, left ${result.skipped}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`✖ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
