/**
 * Jest setupFile of the `integration` and `e2e` projects: the test process (and every service process it spawns with
 * its env) talks to the local brokers as `tessera-admin`, over TLS with SASL/SCRAM (issue #13). Tests create their
 * own topics and groups, which no service principal may; the service principals' ACLs are proven by
 * tests/integration/kafka-auth.int-spec.ts and by the platform `npm run up` starts. Values already set win, so a run
 * against another cluster sets KAFKA_SECURITY_PROTOCOL & co. itself.
 */
import * as path from 'node:path';
/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the test uses its Kafka credentials and topology as `npm run infra -- up` does */
import { KAFKA_ADMIN_PRINCIPAL, kafkaClientEnv } from '../../infra/local/kafka-auth';
import { loadTopology, REPO_ROOT } from '../../infra/local/topology';

const topo = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined);
for (const [key, value] of Object.entries(kafkaClientEnv(path.join(REPO_ROOT, topo.stateDir), KAFKA_ADMIN_PRINCIPAL)))
  process.env[key] ??= value;
