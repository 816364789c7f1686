/**
 * docker-compose's `kafka-init` job: the topics and ACLs of infra/topology.yaml on the Compose broker, with the very
 * code `npm run infra -- up` runs natively (topics.ts ensureTopics, kafka-auth.ts ensureAcls), as tessera-admin.
 * Reads KAFKA_BROKERS, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE and KAFKA_TLS_CA_FILE (compose.ts sets them).
 */
import { readFileSync } from 'node:fs';
import { ensureAcls } from './kafka-auth';
import { adminClient, ensureTopics } from './topics';
import { loadTopology, resolveTopics } from './topology';

async function main(): Promise<void> {
  const need = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set (docker-compose.yml sets it for kafka-init)`);
    return v;
  };
  const topo = loadTopology();
  const admin = adminClient(need('KAFKA_BROKERS').split(','), {
    ssl: { ca: [readFileSync(need('KAFKA_TLS_CA_FILE'))] },
    sasl: {
      mechanism: 'scram-sha-512',
      username: need('KAFKA_SASL_USERNAME'),
      password: readFileSync(need('KAFKA_SASL_PASSWORD_FILE'), 'utf8').trim(),
    },
  });
  await admin.connect();
  try {
    for (const outcome of await ensureTopics(admin, resolveTopics(topo, 'single')))
      console.log(`==> topic ${outcome.topic}: ${outcome.actions.join(', ')}`);
    const acls = await ensureAcls(admin, topo);
    console.log(`==> ACLs from infra/topology.yaml: ${acls.created} created, ${acls.deleted} removed, ${acls.kept} unchanged`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error('✖ kafka-init failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
