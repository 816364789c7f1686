/**
 * Side by side (issue #15): with `TESSERA_AGGREGATE_STAGE=both` the TS stage writes `analytics.aggregates.v1` as usual
 * and the Go stage runs beside it on the same input with its own consumer group, state, repartition and output topics
 * (`compareEnv` of stream-processor-go in infra/topology.yaml). `npm run infra -- compare-stages` reads the newest
 * revision of every window from both output topics and compares them field by field.
 *
 * Only windows final in both are compared: an open window changes with the next batch, and the two stages commit on
 * their own schedules. Expected differences: none for the same log. Two things make a log's result depend on timing in
 * either stage (never on the language): the idle watermark advance (a stage that was idle for STREAM_PROCESSOR_IDLE_*
 * while the other was busy with a backlog closes windows earlier, so later events count as late in one only), and the
 * payments repartition order when payments.transfer.events.v1 has several partitions (each stage copies them in the
 * order it happened to fetch them). A stage that started later also recomputes the raw topic's whole retention, while
 * the other's oldest windows may have been compacted away: windows in one topic only are listed, not failed.
 */
import { analyticsV1 } from '@tessera/contracts';
import { decodeEnvelope, readTopicSnapshot } from '@tessera/kafka';
import type { Kafka } from 'kafkajs';

type Aggregate = analyticsV1.WindowAggregate;

/** The fields compared: everything a window's consumer reads, except revision, computed_at and trace ids. */
export const COMPARED_FIELDS = [
  'count',
  'sum',
  'min',
  'max',
  'p50Approx',
  'p95Approx',
  'p99Approx',
  'distinctCount',
  'lateEvents',
  'final',
  'maxEventTime',
] as const;

export interface FieldDifference {
  field: (typeof COMPARED_FIELDS)[number];
  a: string;
  b: string;
}

export interface StageComparison {
  /** Windows final in both outputs, compared field by field. */
  compared: number;
  equal: number;
  differ: Array<{ windowKey: string; fields: FieldDifference[] }>;
  /** Final windows in one output only. */
  onlyA: string[];
  onlyB: string[];
  /** Windows in both that are still open in at least one (not compared). */
  open: number;
}

const show = (v: unknown): string => (v instanceof Date ? v.toISOString() : v === undefined ? '-' : String(v));

/**
 * Compares the newest revisions (window key -> aggregate) of two stages. `includeOpen`: compare open windows too (both
 * stages stopped after the same input, as in a test; with the stages running, an open window is a moving target).
 */
export function compareStages(
  a: Map<string, Aggregate>,
  b: Map<string, Aggregate>,
  options: { includeOpen?: boolean } = {},
): StageComparison {
  const out: StageComparison = { compared: 0, equal: 0, differ: [], onlyA: [], onlyB: [], open: 0 };
  for (const [key, x] of a) {
    const y = b.get(key);
    if (!y) {
      if (x.final || options.includeOpen) out.onlyA.push(key);
      continue;
    }
    if (!options.includeOpen && (!x.final || !y.final)) {
      out.open++;
      continue;
    }
    out.compared++;
    const fields = COMPARED_FIELDS.filter((f) => show(x[f]) !== show(y[f])).map((field) => ({
      field,
      a: show(x[field]),
      b: show(y[field]),
    }));
    if (fields.length === 0) out.equal++;
    else out.differ.push({ windowKey: key, fields });
  }
  for (const [key, y] of b) if (!a.has(key) && (y.final || options.includeOpen)) out.onlyB.push(key);
  out.differ.sort((p, q) => (p.windowKey < q.windowKey ? -1 : 1));
  out.onlyA.sort();
  out.onlyB.sort();
  return out;
}

/** The newest revision of every window on an aggregates topic (read_committed, up to its end at the time of the call). */
export async function newestRevisions(kafka: Kafka, topic: string, groupPrefix: string): Promise<Map<string, Aggregate>> {
  const newest = new Map<string, Aggregate>();
  await readTopicSnapshot(kafka, topic, groupPrefix, ({ value }) => {
    const agg = analyticsV1.WindowAggregate.decode(decodeEnvelope(value).data);
    const prev = newest.get(agg.windowKey);
    if (!prev || prev.revision < agg.revision) newest.set(agg.windowKey, agg);
  });
  return newest;
}

/** A report for people: counts, then the first differences and one-sided windows. */
export function formatComparison(c: StageComparison, names: { a: string; b: string }, show = 10): string[] {
  const lines = [
    `${c.compared} windows compared: ${c.equal} equal, ${c.differ.length} differ; ${c.open} still open in one or both (not compared)`,
    `final in ${names.a} only: ${c.onlyA.length}; final in ${names.b} only: ${c.onlyB.length}`,
  ];
  for (const d of c.differ.slice(0, show))
    lines.push(`  differs ${d.windowKey}: ${d.fields.map((f) => `${f.field} ${f.a} vs ${f.b}`).join(', ')}`);
  if (c.differ.length > show) lines.push(`  ... and ${c.differ.length - show} more`);
  for (const [name, keys] of [
    [names.a, c.onlyA],
    [names.b, c.onlyB],
  ] as const)
    for (const k of keys.slice(0, 3)) lines.push(`  only in ${name}: ${k}`);
  return lines;
}
