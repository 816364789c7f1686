import { ConfigResourceTypes, Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import type { ResolvedTopic } from './topology';

/** An admin client; `auth` is the `ssl`/`sasl` of the principal it acts as (kafka-auth.ts adminAuth: tessera-admin). */
export function adminClient(brokers: string[], auth: Pick<KafkaConfig, 'ssl' | 'sasl'>, opts: { retries?: number } = {}): Admin {
  return new Kafka({
    clientId: 'tessera-infra',
    brokers,
    ...auth,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 10000,
    retry: { retries: opts.retries ?? 5, initialRetryTime: 300 },
  }).admin();
}

export type TopicAction = 'created' | 'configs-updated' | 'partitions-added' | 'unchanged';

export interface TopicOutcome {
  topic: string;
  actions: TopicAction[];
  /** Differences Kafka cannot fix in place (fewer partitions, other replication factor). */
  warnings: string[];
}

/** Errors of a metadata request while a new topic spreads through the cluster: wait and ask again. */
const SPREADING = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Waits until every partition of `topics` has a leader (a broker may not know a just-created topic for a moment). */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (!SPREADING.has((err as { type?: string }).type ?? '')) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `topics ${topics.join(', ')} have no leader after ${timeoutMs / 1000} s: see the broker logs (npm run infra -- logs kafka-1)`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Makes the cluster's topics match the declared ones: creates missing topics, adds partitions, and rewrites
 * topic configs that drifted. Idempotent; never deletes a topic (that would lose data).
 */
export async function ensureTopics(admin: Admin, topics: ResolvedTopic[]): Promise<TopicOutcome[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      // kafkajs' own wait fails on a broker that has not learned of the new topic yet (UNKNOWN_TOPIC_OR_PARTITION, seen
      // on a fresh three-broker cluster in CI): waitForLeaders below tolerates it.
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  if (missing.length > 0)
    await waitForLeaders(
      admin,
      missing.map((t) => t.name),
    );
  const outcomes: TopicOutcome[] = missing.map((t) => ({ topic: t.name, actions: ['created'], warnings: [] }));
  const present = topics.filter((t) => existing.has(t.name));
  if (present.length === 0) return outcomes;

  const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configNames: Object.keys(t.config) })),
  });
  for (const topic of present) {
    const outcome: TopicOutcome = { topic: topic.name, actions: [], warnings: [] };
    const partitions = metadata.topics.find((m) => m.name === topic.name)?.partitions ?? [];
    if (partitions.length < topic.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: topic.name, count: topic.partitions }] });
      outcome.actions.push('partitions-added');
    } else if (partitions.length > topic.partitions) {
      outcome.warnings.push(`has ${partitions.length} partitions, topology says ${topic.partitions} (Kafka cannot remove partitions)`);
    }
    const rf = partitions[0]?.replicas.length;
    if (rf !== undefined && rf !== topic.replicationFactor) {
      outcome.warnings.push(
        `replication factor is ${rf}, topology says ${topic.replicationFactor} (reassign partitions or recreate the topic)`,
      );
    }
    const actual = new Map(
      (described.resources.find((r) => r.resourceName === topic.name)?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    const drifted = Object.entries(topic.config).filter(([k, v]) => actual.get(k) !== v);
    if (drifted.length > 0) {
      // AlterConfigs replaces the topic's whole override set, which is what a declarative source wants.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic.name,
            configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      outcome.actions.push('configs-updated');
    }
    if (outcome.actions.length === 0) outcome.actions.push('unchanged');
    outcomes.push(outcome);
  }
  return outcomes;
}
