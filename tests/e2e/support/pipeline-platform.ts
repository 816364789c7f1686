import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { throwawayDatabase } from '@tessera/testing';
import { checkHealth } from '@tessera/grpc';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { createCredentials, type E2eCredentials } from './credentials';
import { OtlpReceiver } from './otlp-receiver';
import { restartService, ROOT, type RunningService, type ServiceSpec, startServices, stopServices } from './platform';
import { kafkaSecurityFromEnv } from '@tessera/kafka';
/* eslint-disable-next-line @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the same leader wait as `npm run up` */
import { waitForLeaders } from '../../../infra/local/topics';

const KAFKA = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';

/** Build outputs the pipeline needs; a missing one names the project to build. */
export const PIPELINE_ARTIFACTS: Record<string, string> = {
  ingest: 'services/ingest/dist/main.js',
  'stream-processor': 'services/stream-processor/dist/main.js',
  insights: 'services/insights/dist/main.js',
  gateway: 'services/gateway/dist/main.js',
  console: 'services/console/dist/index.html',
};

/** The Go stream processor's binary (`npx nx run stream-processor-go:build`), for `processor: 'go'`. */
export const GO_PROCESSOR_BINARY = join(ROOT, 'services/stream-processor-go/dist/stream-processor-go');

export function missingArtifacts(): string[] {
  return Object.entries(PIPELINE_ARTIFACTS)
    .filter(([, file]) => !existsSync(join(ROOT, file)))
    .map(([name, file]) => `${name} (${file})`);
}

export interface PipelinePlatform {
  run: string;
  gateway: string;
  /** dlq: the processor's; aggregatesDlq: insights' (`<aggregates topic>.dlq`). */
  topics: { raw: string; aggregates: string; dlq: string; aggregatesDlq: string; changelog: string };
  groups: { processor: string; insights: string };
  /** The processor this run uses: `stream-processor` (TS) or `stream-processor-go`. */
  processor: 'stream-processor' | 'stream-processor-go';
  /** This run's insights database. */
  insightsDbUrl: string;
  services: RunningService[];
  /** Receives every span and log record the services export (OTLP/HTTP). */
  otlp: OtlpReceiver;
  admin: Admin;
  /** This run's token issuer, tenant API keys (`demo`, `payments`) and mTLS material. */
  creds: E2eCredentials;
  /** Starts a service again with the same settings (after a chaos scenario's kill -9, or kills it first). */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PipelineOptions {
  /** The aggregate stage: the TS stream processor (default) or the Go one, on the same topics and contracts. */
  processor?: 'ts' | 'go';
  /** Extra environment for every service (e.g. a chaos scenario's own Kafka cluster). */
  env?: Record<string, string>;
}

/**
 * ingest, stream-processor (or, with `processor: 'go'`, stream-processor-go), insights and gateway as real processes on their own ports, with per-run topics,
 * consumer groups, transactional ids and insights database, so the suite never shares state with a platform
 * started by `npm run up` or with another suite. Real auth (per-run dev issuer and hashed tenant API keys) and
 * mTLS between every process, as in `npm run up`.
 */
export async function startPipelinePlatform(portBase: number, options: PipelineOptions = {}): Promise<PipelinePlatform> {
  const run = randomBytes(3).toString('hex');
  const extra = options.env ?? {};
  const kafkaBrokers = extra['KAFKA_BROKERS'] ?? KAFKA;
  const go = options.processor === 'go';
  if (go && !existsSync(GO_PROCESSOR_BINARY)) throw new Error(`${GO_PROCESSOR_BINARY} is missing: npx nx run stream-processor-go:build`);
  const processor = go ? 'stream-processor-go' : 'stream-processor';
  const topics = {
    raw: `e2e.${run}.analytics.events.raw.v1`,
    aggregates: `e2e.${run}.analytics.aggregates.v1`,
    dlq: `e2e.${run}.analytics.events.dlq.v1`,
    aggregatesDlq: `e2e.${run}.analytics.aggregates.v1.dlq`,
    changelog: `e2e.${run}.analytics.processor-state.changelog.v1`,
  };
  const groups = { processor: `${processor}.e2e-${run}`, insights: `insights.e2e-${run}` };
  const ports = { gateway: portBase, ingest: portBase + 3, insights: portBase + 4 };
  const gateway = `http://127.0.0.1:${ports.gateway}`;

  const creds = await createCredentials();
  const health = { timeoutMs: 1000, credentials: creds.grpc };
  const admin = new Kafka({
    ...kafkaSecurityFromEnv({ ...process.env, ...extra }),
    clientId: `e2e-pipeline-${run}`,
    brokers: kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: false, // waitForLeaders below: kafkajs' own wait fails while a new topic spreads over three brokers
    topics: [
      { topic: topics.raw, numPartitions: 3 },
      { topic: topics.aggregates, numPartitions: 3 },
      { topic: topics.dlq, numPartitions: 1 },
      { topic: topics.aggregatesDlq, numPartitions: 1 },
    ],
  });
  await waitForLeaders(admin, [topics.raw, topics.aggregates, topics.dlq, topics.aggregatesDlq]);
  const database = await throwawayDatabase('tessera_e2e_insights', join(ROOT, 'services/insights/prisma/migrations'));
  const dbUrl = database.url;

  let services: RunningService[] = [];
  // A worker has no port: ready once its consumer group is stable with members, none of them one a restart replaced (a
  // killed member stays in the group until its session times out, and the group looked Stable with it).
  const replaced = new Set<string>();
  const processorReady = async () => {
    const [group] = (await admin.describeGroups([groups.processor])).groups;
    return group?.state === 'Stable' && group.members.length > 0 && group.members.every((m) => !replaced.has(m.memberId));
  };
  const processorSpec: ServiceSpec = go
    ? {
        name: 'stream-processor-go',
        command: [GO_PROCESSOR_BINARY],
        env: {
          KAFKA_BROKERS: kafkaBrokers,
          STREAM_PROCESSOR_GO_RAW_TOPIC: topics.raw,
          STREAM_PROCESSOR_GO_PAYMENTS_TOPIC: 'none', // as the TS stage here: the pipeline's own topics only
          STREAM_PROCESSOR_GO_AGGREGATES_TOPIC: topics.aggregates,
          STREAM_PROCESSOR_GO_DLQ_TOPIC: topics.dlq,
          STREAM_PROCESSOR_GO_STATE_TOPIC: topics.changelog,
          STREAM_PROCESSOR_GO_GROUP_ID: groups.processor,
          STREAM_PROCESSOR_GO_TRANSACTIONAL_ID: `stream-processor-go-e2e-${run}`,
          STREAM_PROCESSOR_GO_POLL_WAIT: '200ms',
          ...extra,
        },
        ready: processorReady,
      }
    : {
        name: 'stream-processor',
        env: {
          ...creds.env,
          KAFKA_BROKERS: kafkaBrokers,
          STREAM_PROCESSOR_RAW_TOPIC: topics.raw,
          STREAM_PROCESSOR_PAYMENTS_TOPIC: 'none',
          STREAM_PROCESSOR_AGGREGATES_TOPIC: topics.aggregates,
          STREAM_PROCESSOR_DLQ_TOPIC: topics.dlq,
          STREAM_PROCESSOR_CHANGELOG_TOPIC: topics.changelog,
          STREAM_PROCESSOR_GROUP: groups.processor,
          STREAM_PROCESSOR_TRANSACTIONAL_ID_PREFIX: `stream-processor-e2e-${run}`,
          ...extra,
        },
        ready: processorReady,
      };
  const specs: ServiceSpec[] = [
    {
      name: 'ingest',
      env: { ...creds.env, INGEST_GRPC_PORT: String(ports.ingest), KAFKA_BROKERS: kafkaBrokers, INGEST_RAW_TOPIC: topics.raw, ...extra },
      ready: async () => (await checkHealth(`127.0.0.1:${ports.ingest}`, '', health)) === 'SERVING',
    },
    {
      name: 'insights',
      env: {
        ...creds.env,
        INSIGHTS_GRPC_PORT: String(ports.insights),
        INSIGHTS_DATABASE_URL: dbUrl,
        KAFKA_BROKERS: kafkaBrokers,
        INSIGHTS_CONSUMER_GROUP: groups.insights,
        INSIGHTS_AGGREGATES_TOPIC: topics.aggregates,
        ...extra,
      },
      ready: async () => (await checkHealth(`127.0.0.1:${ports.insights}`, '', health)) === 'SERVING',
    },
    processorSpec,
    {
      name: 'gateway',
      env: {
        ...creds.env,
        GATEWAY_HTTP_PORT: String(ports.gateway),
        INGEST_ADDR: `127.0.0.1:${ports.ingest}`,
        INSIGHTS_ADDR: `127.0.0.1:${ports.insights}`,
        // Payments services are not part of this suite: the alerts panel shows them unavailable.
        TRANSACTIONS_ADDR: `127.0.0.1:${portBase + 1}`,
        COMPLIANCE_ADDR: `127.0.0.1:${portBase + 2}`,
        KAFKA_BROKERS: kafkaBrokers,
        GATEWAY_LAG_GROUPS: Object.values(groups).join(','),
        TESSERA_TRACE_URL: 'http://127.0.0.1:16686/trace/{traceId}',
        ...extra,
      },
      ready: async () => (await fetch(`${gateway}/console/config.json`)).status === 200,
    },
  ];

  const otlp = await OtlpReceiver.start();
  const cleanup = async () => {
    await stopServices(services);
    await otlp.stop();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.deleteGroups(Object.values(groups)).catch(() => undefined);
    await admin.disconnect();
    await database.drop();
    creds.cleanup();
  };
  /**
   * A restarted processor is ready only once it owns partitions: the group first waits for the members a kill -9 left
   * behind (their session timeout, 45 s for franz-go, and the join that follows), so it gets up to 150 s.
   */
  const restart = async (name: string) => {
    if (name !== processor) return restartService(services, specs, name, otlp);
    const [group] = (await admin.describeGroups([groups.processor])).groups;
    for (const m of group?.members ?? []) replaced.add(m.memberId);
    return restartService(services, specs, name, otlp, {}, 150_000);
  };
  try {
    services = await startServices(specs, otlp, 90_000);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { run, gateway, topics, groups, processor, insightsDbUrl: dbUrl, services, otlp, admin, creds, restart, stop: cleanup };
}
