import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';
import { aggregationOptions } from '../src/composition';
import { streamProcessorConfigSchema } from '../src/config';
import type { NormalizedEvent } from '../src/processing/processing.types';
import {
  committedByPartition,
  committedTotal,
  createTopics,
  deleteTopics,
  endTotal,
  exited,
  GO_BINARY,
  groupMembers,
  produce,
  rawMessage,
  runNames,
  startGoProcessor,
  startProcessor,
  testKafka,
  waitFor,
} from './support/kafka-fixture';
import { offlineAggregates } from './support/offline-aggregates';
import { expectEqualToOffline, latestAggregates, makeEvents } from './support/scenario';

jest.setTimeout(240_000);

const PARTITIONS = 6;

/** Input with producer-retry duplicates: every 5th event twice. */
function withDuplicates(events: NormalizedEvent[]): NormalizedEvent[] {
  return events.flatMap((e, i) => (i % 5 === 0 ? [e, e] : [e]));
}

type Starter = (names: ReturnType<typeof runNames>, instance: number) => ChildProcess;
const startTs: Starter = (names) => startProcessor(names, { STREAM_PROCESSOR_MAX_BATCH_BYTES: '4096' });
// Small polls (many transactions) and a transactional id per instance (the default is per host).
const startGo: Starter = (names, instance) =>
  startGoProcessor(names, {
    STREAM_PROCESSOR_GO_MAX_POLL_RECORDS: '100',
    STREAM_PROCESSOR_GO_TRANSACTIONAL_ID: `${names.txPrefix}-${instance}`,
  });

/**
 * Two (then three) processor processes in one consumer group: B joins mid-stream (rebalance while
 * A is committing), A leaves with SIGTERM mid-stream, C joins, B is SIGKILLed mid-stream and C
 * takes its partitions after the session timeout. Every window's latest aggregate must still be
 * the offline computation of the input: nothing lost, nothing counted twice. The TS stage, then the Go one (issue #15).
 */
describe.each([
  ['stream-processor', startTs],
  ['stream-processor-go', startGo],
] as const)('%s rebalance (real Kafka, two instances in one group)', (stage, starter) => {
  const names = runNames('rebal');
  let kafka: Kafka;
  let admin: Admin;
  const children: ChildProcess[] = [];

  const start = (): ChildProcess => {
    const child = starter(names, children.length);
    children.push(child);
    return child;
  };
  const progress = () => committedTotal(admin, names.group, names.raw);
  /** Waits for a Stable group with `n` members that each own at least one partition. */
  const balancedAcross = (n: number) =>
    waitFor(
      `${n} members sharing the partitions`,
      async () => {
        const g = await groupMembers(admin, names.group, names.raw);
        return (
          g.state === 'Stable' && g.members.length === n && g.members.every((m) => m.length > 0) && g.members.flat().length === PARTITIONS
        );
      },
      90_000,
    );

  beforeAll(async () => {
    if (stage === 'stream-processor-go' && !existsSync(GO_BINARY))
      throw new Error(`${GO_BINARY} is missing: npx nx run stream-processor-go:build`);
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, [
      { topic: names.raw, partitions: PARTITIONS },
      { topic: names.aggregates, partitions: 3 },
      { topic: names.dlq, partitions: 1 },
    ]);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await deleteTopics(admin, names);
    await admin.disconnect();
  });

  it('splits partitions, survives join, graceful leave and kill -9 without loss or double count', async () => {
    // 8 streams x 3 tenants = 24 keys, so every partition gets traffic.
    const phase1 = withDuplicates(makeEvents(2000, 0, 8));
    const phase2 = withDuplicates(makeEvents(2000, 2000, 8));
    const phase3 = withDuplicates(makeEvents(2000, 4000, 8));
    const phase4 = withDuplicates(makeEvents(4000, 6000, 8));
    const afterSplit = withDuplicates(makeEvents(1000, 10_000, 8));
    const replayed = makeEvents(2000, 0, 8).slice(500, 900); // a replayed slice, already counted
    const input = [...phase1, ...phase2, ...afterSplit, ...phase3, ...phase4, ...replayed];

    await produce(
      kafka,
      names.raw,
      phase1.map((e) => rawMessage(e)),
    );
    const a = start();
    await waitFor('A makes progress', async () => (await progress()) > phase1.length / 5, 90_000);

    // B joins while A is mid-stream: the group rebalances and the partitions are split.
    const b = start();
    await produce(
      kafka,
      names.raw,
      phase2.map((e) => rawMessage(e)),
    );
    await balancedAcross(2);
    const split = await groupMembers(admin, names.group, names.raw);
    const before = await committedByPartition(admin, names.group, names.raw);
    // Fresh input after the split: phase 2 may be fully consumed while the group was still rebalancing,
    // and a member with nothing to read never commits.
    await produce(
      kafka,
      names.raw,
      afterSplit.map((e) => rawMessage(e)),
    );
    await waitFor(
      'both members commit after the split',
      async () => {
        const now = await committedByPartition(admin, names.group, names.raw);
        return split.members.every((ps) => ps.some((p) => (now.get(p) ?? -1) > (before.get(p) ?? -1)));
      },
      90_000,
    );

    // A leaves gracefully (SIGTERM) with fresh input pending; B takes over its partitions.
    await produce(
      kafka,
      names.raw,
      phase3.map((e) => rawMessage(e)),
    );
    expect(await progress()).toBeLessThan(await endTotal(admin, names.raw));
    a.kill('SIGTERM');
    expect(await exited(a)).toBe(0);
    await balancedAcross(1);

    // C joins; under the next burst B is killed -9 mid-stream and C gets everything after B's session times out.
    const c = start();
    await balancedAcross(2);
    const beforeBurst = await progress();
    const producing = produce(
      kafka,
      names.raw,
      [...phase4, ...replayed].map((e) => rawMessage(e)),
    );
    await waitFor('the burst is being processed', async () => (await progress()) > beforeBurst + 300, 90_000);
    b.kill('SIGKILL');
    await exited(b);
    await producing;
    const total = await endTotal(admin, names.raw);
    expect(await progress()).toBeLessThan(total); // really mid-stream

    await waitFor('all input committed', async () => (await progress()) === total, 150_000);
    c.kill('SIGTERM');
    expect(await exited(c)).toBe(0);

    const latest = await latestAggregates(kafka, admin, names.aggregates);
    const offline = offlineAggregates(input, aggregationOptions(streamProcessorConfigSchema.parse({})));
    expectEqualToOffline(latest, offline);
  });
});
