/**
 * The local brokers authenticate every client and authorise each service by infra/topology.yaml (issue #13), against
 * the real cluster `npm run infra -- up` started: no credentials (kafkajs or kcat) -> refused; a wrong password ->
 * refused; each service principal sees exactly its topology topics, may write only what it produces, read only what
 * it consumes with its own groups, and use only its transactional-id prefix.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the test uses its Kafka credentials and topology as `npm run infra -- up` does */
import { desiredAcls, ensureAcls, KAFKA_ADMIN_PRINCIPAL, kafkaJsAuth, passwordFile, servicePrincipals } from '../../infra/local/kafka-auth';
import { kafkaBrokers, loadTopology, REPO_ROOT } from '../../infra/local/topology';

const topo = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined);
const stateDir = path.join(REPO_ROOT, topo.stateDir);
const BROKERS = kafkaBrokers(topo, 'single');
const RUN = randomUUID().slice(0, 8);
const CA = path.join(stateDir, 'tls', 'ca.crt');

/**
 * Protocol error types kafkajs logged at DEBUG: it reports a refused FindCoordinator (group or transactional id) only
 * as "Failed to find group coordinator", with the broker's GROUP/TRANSACTIONAL_ID_AUTHORIZATION_FAILED in its debug log.
 */
const loggedTypes: string[] = [];

function client(principal: string | undefined, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: `kafka-auth-test-${principal ?? 'anonymous'}`,
    brokers: BROKERS,
    logLevel: logLevel.DEBUG,
    logCreator: () => (entry) => {
      const type = (entry.log['error'] as { type?: unknown } | undefined)?.type;
      if (typeof type === 'string') loggedTypes.push(type);
    },
    connectionTimeout: 3000,
    retry: { retries: 0 },
    ...(principal ? kafkaJsAuth(stateDir, principal) : {}),
    ...extra,
  });
}

/**
 * The broker's refusal in a kafkajs error: the protocol error type (TOPIC_AUTHORIZATION_FAILED, ...) found anywhere in
 * its chain (kafkajs wraps them, e.g. "Failed to find group coordinator" around GROUP_AUTHORIZATION_FAILED), else its message.
 */
function refusal(err: unknown): string {
  const seen: string[] = [];
  for (
    let e = err as { type?: string; message?: string; originalError?: unknown; cause?: unknown } | undefined;
    e;
    e = (e.originalError ?? e.cause) as typeof e
  ) {
    if (e.type && /AUTHORIZATION_FAILED|SASL/.test(e.type)) return e.type;
    seen.push(e.message ?? String(e));
  }
  const text = seen.join(' <- ');
  for (const type of ['TOPIC', 'GROUP', 'TRANSACTIONAL_ID'])
    if (new RegExp(`${type.replace('_', ' ')} authorization failed`, 'i').test(text)) return `${type}_AUTHORIZATION_FAILED`;
  return text;
}

/** 'ok', or the broker's refusal. */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return refusal(err);
  }
}

/** The refusal, or the authorisation error kafkajs only logged (see loggedTypes). */
function refusalOrLogged(err: unknown, logged: string[]): string {
  const r = refusal(err);
  return r.endsWith('AUTHORIZATION_FAILED') ? r : (logged.find((t) => t.endsWith('AUTHORIZATION_FAILED')) ?? r);
}

function kcat(args: string[]): { status: number | null; output: string } {
  const res = spawnSync('kcat', ['-b', BROKERS.join(','), '-m', '5', ...args], { encoding: 'utf8', timeout: 30_000 });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new Error('kcat is not installed: apt-get install kcat (scripts/bootstrap.sh installs it)');
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('Kafka authentication (SASL/SCRAM over TLS)', () => {
  it('refuses kcat without credentials: it can neither list nor read payment events', () => {
    const list = kcat(['-L']);
    expect(list.status).not.toBe(0);
    expect(list.output).toMatch(/Failed to acquire metadata|Broker transport failure/);
    const read = kcat(['-C', '-t', 'payments.transfer.events.v1', '-o', 'beginning', '-e', '-c', '1']);
    expect(read.status).not.toBe(0);
    expect(read.output).not.toMatch(/TransferCreated/);
    const write = spawnSync('kcat', ['-b', BROKERS.join(','), '-m', '5', '-P', '-t', 'payments.transfer.events.v1'], {
      input: '{"forged":true}\n',
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(write.status).not.toBe(0);
  });

  it('refuses kcat over TLS with a wrong password (the broker answers, and says the credentials are invalid)', () => {
    const res = kcat([
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      'sasl.username=transactions',
      '-X',
      'sasl.password=guessed',
      '-X',
      `ssl.ca.location=${CA}`,
      '-L',
    ]);
    expect(res.status).not.toBe(0);
    expect(res.output).toMatch(/invalid credentials/i);
  });

  it('refuses kafkajs without TLS or with a wrong password, and admits the same client with its password', async () => {
    expect(await outcome(() => client(undefined).admin().connect())).not.toBe('ok');
    const wrong = client(undefined, {
      ssl: { ca: [readFileSync(CA)] },
      sasl: { mechanism: 'scram-sha-512', username: 'transactions', password: 'guessed' },
    });
    expect(await outcome(() => wrong.admin().connect())).toMatch(/SASL|authentication/i);
    const admin = client('transactions').admin();
    expect(await outcome(() => admin.connect())).toBe('ok');
    await admin.disconnect();
  });

  it('keeps every password file private to its owner (mode 0600)', () => {
    for (const principal of [KAFKA_ADMIN_PRINCIPAL, ...servicePrincipals(topo)]) {
      const { statSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
      expect([principal, statSync(passwordFile(stateDir, principal)).mode & 0o777]).toEqual([principal, 0o600]);
    }
  });
});

describe('Kafka authorisation (ACLs from infra/topology.yaml)', () => {
  const admin = client(KAFKA_ADMIN_PRINCIPAL).admin();
  beforeAll(() => admin.connect());
  afterAll(async () => {
    // The groups this run joined (and left empty).
    const ours = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(`kafka-auth-${RUN}`));
    if (ours.length > 0) await admin.deleteGroups(ours).catch(() => undefined);
    await admin.disconnect();
  });

  it('holds exactly the ACLs the topology grants (re-applying them changes nothing)', async () => {
    const result = await ensureAcls(admin, topo);
    expect(result).toEqual({ created: 0, deleted: 0, kept: desiredAcls(topo).length });
  });

  it.each(servicePrincipals(topo))('shows %s only the topics of its topology entry', async (name) => {
    const s = topo.services.find((x) => x.name === name)!;
    const observed = s.observes.flatMap((o) => topo.services.find((x) => x.name === o)?.consumes ?? []);
    const expected = [...new Set([...s.produces, ...s.consumes, ...observed])].sort();
    const a = client(name).admin();
    await a.connect();
    try {
      expect((await a.listTopics()).filter((t) => !t.startsWith('__')).sort()).toEqual(expected);
    } finally {
      await a.disconnect();
    }
  });

  it('lets a service write what it produces and nothing else', async () => {
    const producer = client('insights').producer();
    await producer.connect();
    try {
      const record = {
        key: `kafka-auth-${RUN}`,
        value: 'authorisation probe (tests/integration/kafka-auth.int-spec.ts)',
        headers: { 'x-probe': 'kafka-auth' },
      };
      expect(await outcome(() => producer.send({ topic: 'analytics.aggregates.v1.dlq', messages: [record] }))).toBe('ok');
      expect(await outcome(() => producer.send({ topic: 'analytics.aggregates.v1', messages: [record] }))).toBe(
        'TOPIC_AUTHORIZATION_FAILED',
      );
      expect(await outcome(() => producer.send({ topic: 'payments.transfer.events.v1', messages: [record] }))).toBe(
        'TOPIC_AUTHORIZATION_FAILED',
      );
    } finally {
      await producer.disconnect();
    }
  });

  it('lets a service read what it consumes, only in its own groups', async () => {
    const consume = async (principal: string, groupId: string, topic: string) => {
      loggedTypes.length = 0;
      const refusal = (e: unknown) => refusalOrLogged(e, loggedTypes);
      const consumer = client(principal).consumer({
        groupId,
        allowAutoTopicCreation: false,
        retry: { retries: 0, restartOnFailure: async () => false },
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: false });
        // Joining the group is where group and topic READ are checked: wait for the join (or the crash).
        return await new Promise<string>((resolve) => {
          consumer.on(consumer.events.GROUP_JOIN, () => resolve('ok'));
          consumer.on(consumer.events.CRASH, (e) => resolve(refusal(e.payload.error)));
          consumer.run({ eachMessage: async () => undefined }).catch((e: unknown) => resolve(refusal(e)));
        });
      } catch (err) {
        return refusal(err);
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
    };
    expect(await consume('compliance', `compliance.kafka-auth-${RUN}`, 'payments.transfer.events.v1')).toBe('ok');
    expect(await consume('compliance', `other.kafka-auth-${RUN}`, 'payments.transfer.events.v1')).toBe('GROUP_AUTHORIZATION_FAILED');
    expect(await consume('compliance', `compliance.kafka-auth-${RUN}-2`, 'analytics.events.raw.v1')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await consume('ingest', `ingest.kafka-auth-${RUN}`, 'payments.transfer.events.v1')).toMatch(/AUTHORIZATION_FAILED/);
  });

  it("lets the stream processor use its transactional ids and no one else's", async () => {
    const init = async (principal: string, transactionalId: string) => {
      loggedTypes.length = 0;
      const refusal = (e: unknown) => refusalOrLogged(e, loggedTypes);
      const producer = client(principal, { retry: { retries: 1 } }).producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect();
        const tx = await producer.transaction();
        await tx.abort();
        return 'ok';
      } catch (err) {
        return refusal(err);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    };
    expect(await init('stream-processor', `stream-processor-analytics.kafka-auth-${RUN}`)).toBe('ok');
    expect(await init('stream-processor', `stream-processor-go-kafka-auth-${RUN}`)).toBe('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    expect(await init('ingest', `stream-processor-analytics.kafka-auth-${RUN}`)).toBe('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
  });
});
