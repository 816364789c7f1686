import { analyticsV1, eventTypeName } from '@tessera/contracts';
import { buildEnvelope, encodeEnvelope } from '@tessera/kafka';
import { type Admin, type Kafka, type Message } from 'kafkajs';

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'demo', 'stark', 'wayne'];
const STREAMS_PER_TENANT = 4;
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'JP', 'IN', 'GB', 'ES'];
const PLANS = ['free', 'pro', 'enterprise'];
const TYPES = ['page.view', 'page.view', 'page.view', 'click', 'checkout', 'signup'];
const USERS = 5_000;

/** One raw record as ingest writes it (envelope + AnalyticsEvent, key tenant/stream); `at` is the event time. */
export function rawRecord(i: number, at: number, runId: string): Message {
  const tenantId = TENANTS[i % TENANTS.length] as string;
  const streamId = `web-${(i >> 3) % STREAMS_PER_TENANT}`;
  const eventId = `bench-${runId}-${i}`;
  const payload = analyticsV1.AnalyticsEvent.fromPartial({
    tenantId,
    streamId,
    eventId,
    eventType: TYPES[i % TYPES.length] as string,
    occurredAt: new Date(at),
    value: (i * 37) % 1_000,
    attributes: {
      country: COUNTRIES[(i * 7) % COUNTRIES.length] as string,
      plan: PLANS[(i * 13) % PLANS.length] as string,
      user_id: `u${(i * 7919) % USERS}`,
    },
  });
  const envelope = buildEnvelope(
    {
      type: eventTypeName.AnalyticsEvent,
      subject: eventId,
      id: eventId,
      time: new Date(at),
      message: payload,
      codec: analyticsV1.AnalyticsEvent,
    },
    'bench',
    {},
  );
  return { key: `${tenantId}/${streamId}`, value: encodeEnvelope(envelope), timestamp: String(at) };
}

/**
 * Produces `n` raw events with event times spread evenly over the `spreadMs` before now (in order, so each
 * partition is in event-time order), acks=-1, 10 000 records per request. Returns the seconds it took.
 */
export async function produceBacklog(
  kafka: Kafka,
  topic: string,
  n: number,
  spreadMs: number,
  runId: string,
): Promise<{ seconds: number; bytes: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now();
  const base = t0 - spreadMs;
  const step = spreadMs / n;
  const chunk = 10_000;
  let bytes = 0;
  try {
    for (let i = 0; i < n; i += chunk) {
      const messages: Message[] = [];
      for (let j = i; j < Math.min(n, i + chunk); j++) {
        const m = rawRecord(j, Math.round(base + j * step), runId);
        bytes += (m.value as Buffer).length;
        messages.push(m);
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return { seconds: (Date.now() - t0) / 1000, bytes };
}

export async function partitionsOf(admin: Admin, topic: string): Promise<number | undefined> {
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length;
  } catch {
    return undefined;
  }
}

/** Log end offset per partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
}

/** Committed offsets of a group on a topic, summed over partitions, and whether every partition reached `ends`. */
export async function groupProgress(
  admin: Admin,
  groupId: string,
  topic: string,
  ends: Map<number, number>,
): Promise<{ committed: number; caughtUp: boolean }> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  let committed = 0;
  let caughtUp = true;
  for (const [partition, end] of ends) {
    const p = t?.partitions.find((x) => x.partition === partition);
    const off = p ? Number(p.offset) : -1;
    if (off > 0) committed += off;
    if (end > 0 && off < end) caughtUp = false;
  }
  return { committed, caughtUp };
}
