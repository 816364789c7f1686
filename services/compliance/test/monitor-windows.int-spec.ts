/**
 * The AML monitor's read windows against real PostgreSQL: each detector reads only the range a pattern involving
 * the observed transfer can occupy, so these cases sit on the edges of those ranges (event time, not wall time).
 * Events go straight to ObserveTransferHandler (the Kafka path is monitor.int-spec.ts), in the order a
 * consumer could see them.
 */
import { randomUUID } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { eventTypeName } from '@tessera/contracts';
import { createKafka } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { Kafka } from 'kafkajs';
import type { ObservedTransfer } from '../src/monitoring/detectors';
import { MonitoringRepository } from '../src/monitoring/monitoring.repository';
import { ObserveTransferHandler } from '../src/monitoring/observe-transfer/observe-transfer.handler';
import { type Harness, startCompliance } from './support/harness';

jest.setTimeout(90_000);
process.env['LOG_LEVEL'] ??= 'warn';

// Spans of this process, to check what each event's trace shows of the chunk's shared claim.
const spans = new node.InMemorySpanExporter();
new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(spans)] }).register();

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const RUN = randomUUID().slice(0, 8);
const ALERTS = `test.compliance-monitor-alerts.${RUN}`;
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** rules.v1.yaml: monitoring.structuring.windowSeconds and monitoring.rapidInOut.windowSeconds. */
const STRUCTURING_WINDOW = 24 * HOUR;
const RAPID_WINDOW = 15 * MINUTE;

let kafka: Kafka;
let h: Harness;
let handler: ObserveTransferHandler;
let repository: MonitoringRepository;

function transfer(source: string, destination: string, amountMinor: bigint, at: number): ObservedTransfer {
  return {
    transferId: randomUUID(),
    sourceAccountId: source,
    destinationAccountId: destination,
    amountMinor,
    currency: 'EUR',
    occurredAt: new Date(at),
  };
}

function observe(t: ObservedTransfer): Promise<{ processed: boolean; alerts: number }> {
  return handler.execute({ eventId: randomUUID(), type: eventTypeName.TransferCreated }, t, 'POSTED');
}

async function alertsOf(accountId: string, ruleId: string): Promise<string[][]> {
  const { rows } = await h.db.query<{ transfer_ids: string[] }>(
    'SELECT transfer_ids FROM alerts WHERE account_id = $1 AND rule_id = $2 ORDER BY created_at',
    [accountId, ruleId],
  );
  return rows.map((r) => r.transfer_ids);
}

beforeAll(async () => {
  kafka = createKafka({ clientId: `compliance-test-${RUN}`, brokers: BROKERS, logger: createLogger('monitor-windows-test') });
  const admin = kafka.admin();
  await admin.connect();
  // Alerts raised here are relayed to a topic of this run, never to the shared compliance.alerts.v1.
  await admin.createTopics({ topics: [{ topic: ALERTS, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  h = await startCompliance({ KAFKA_BROKERS: BROKERS.join(','), COMPLIANCE_MONITOR_ENABLED: 'false', COMPLIANCE_ALERTS_TOPIC: ALERTS });
  handler = h.app.get(ObserveTransferHandler);
  repository = h.app.get(MonitoringRepository);
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  await h?.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [ALERTS] }).catch(() => undefined);
  await admin.disconnect();
});

describe('ObserveTransferHandler', () => {
  describe('executeMany: a chunk in one transaction', () => {
    /**
     * Patterns in both orders (structuring's newest first, rapid in-and-out's outgoing first, a redelivered event):
     * the events of one chunk claimed and recorded in one statement (issue #10) must raise exactly the alerts, on
     * exactly the events, that one transaction per event raises.
     */
    const scenario = (ids: { structurer: string; mule: string; other: string }, t0: number) => {
      const s = [950_000n, 990_000n, 999_999n].map((amount, i) => transfer(ids.structurer, ids.other, amount, t0 + i * HOUR));
      const moneyIn = transfer(ids.other, ids.mule, 800_000n, t0);
      const moneyOut = transfer(ids.mule, ids.other, 700_000n, t0 + 5 * MINUTE);
      const late = transfer(ids.structurer, ids.other, 960_000n, t0 + 2 * HOUR);
      const events = [s[2]!, moneyOut, s[0]!, moneyIn, s[1]!, late].map((t) => ({
        event: { eventId: randomUUID(), type: eventTypeName.TransferCreated },
        transfer: t,
        status: 'POSTED',
      }));
      return [...events, events[3]!];
    };
    const raisedOn = async (accounts: string[], events: Array<{ event: { eventId: string } }>) => {
      const { rows } = await h.db.query<{ rule_id: string; dedupe_key: string; n: number }>(
        'SELECT rule_id, dedupe_key, cardinality(transfer_ids) AS n FROM alerts WHERE account_id = ANY($1) ORDER BY rule_id, dedupe_key',
        [accounts],
      );
      return rows.map((r) => `${r.rule_id}@event${events.findIndex((e) => r.dedupe_key.endsWith(e.event.eventId))}x${r.n}`).sort();
    };

    it('raises the same alerts on the same events as one transaction per event', async () => {
      const t0 = Date.now() - 5 * 24 * HOUR;
      const one = { structurer: randomUUID(), mule: randomUUID(), other: randomUUID() };
      const oneByOne = scenario(one, t0);
      for (const e of oneByOne) await handler.execute(e.event, e.transfer, e.status);
      const chunk = { structurer: randomUUID(), mule: randomUUID(), other: randomUUID() };
      const together = scenario(chunk, t0);
      expect(await handler.executeMany(together)).toEqual({ processed: 6, alerts: expect.any(Number) });
      const expected = await raisedOn(Object.values(one), oneByOne);
      expect(expected.length).toBeGreaterThanOrEqual(2);
      expect(await raisedOn(Object.values(chunk), together)).toEqual(expected);
    });

    it("shows the chunk's one claim statement in every event's trace", async () => {
      const tracer = trace.getTracer('test');
      const ids = { structurer: randomUUID(), mule: randomUUID(), other: randomUUID() };
      const consumerSpans = [0, 1, 2].map((i) => tracer.startSpan(`process event ${i}`, { root: true }));
      const events = scenario(ids, Date.now() - 5 * 24 * HOUR)
        .slice(0, 3)
        .map((e, i) => ({ ...e, trace: trace.setSpan(context.active(), consumerSpans[i]!) }));
      spans.reset();
      expect(await handler.executeMany(events)).toEqual({ processed: 3, alerts: expect.any(Number) });
      const shared = spans.getFinishedSpans().filter((s) => s.name === 'claim and record observed_transfers');
      const carrier = consumerSpans[0]!.spanContext();
      // The statement ran once, in the first event's trace; the other two traces each show it, linked to where it ran.
      expect(shared.map((s) => s.parentSpanContext?.spanId).sort()).toEqual(
        consumerSpans
          .slice(1)
          .map((s) => s.spanContext().spanId)
          .sort(),
      );
      for (const s of shared) {
        expect(s.attributes['db.system.name']).toBe('postgresql');
        expect(String(s.attributes['db.query.text'])).toMatch(/INSERT INTO observed_transfers/);
        expect(s.attributes['db.operation.batch.size']).toBe(3);
        expect(s.links.map((l) => l.context.spanId)).toEqual([carrier.spanId]);
      }
      const { rows } = await h.db.query('SELECT count(*)::int AS n FROM observed_transfers WHERE transfer_id = ANY($1)', [
        events.map((e) => e.transfer.transferId),
      ]);
      expect(rows[0]).toEqual({ n: 3 });
    });
  });

  describe('execute: structuring (source account, [now - 24 h, now])', () => {
    it('detects three in-band transfers spread over 23 hours', async () => {
      const account = randomUUID();
      const t0 = Date.now() - 3 * 24 * HOUR;
      const transfers = [950_000n, 990_000n, 999_999n].map((amount, i) => transfer(account, randomUUID(), amount, t0 + i * 11.5 * HOUR));
      expect(await observe(transfers[0]!)).toEqual({ processed: true, alerts: 0 });
      expect(await observe(transfers[1]!)).toEqual({ processed: true, alerts: 0 });
      expect(await observe(transfers[2]!)).toEqual({ processed: true, alerts: 1 });
      expect(await alertsOf(account, 'aml.structuring')).toEqual([transfers.map((t) => t.transferId)]);
    });

    it('does not count a transfer 24 h + 1 s older than the observed one', async () => {
      const account = randomUUID();
      const t0 = Date.now() - 3 * 24 * HOUR;
      const transfers = [950_000n, 990_000n, 999_999n].map((amount, i) =>
        transfer(account, randomUUID(), amount, t0 + i * (12 * HOUR + 500)),
      );
      for (const t of transfers) expect(await observe(t)).toEqual({ processed: true, alerts: 0 });
      expect(await alertsOf(account, 'aml.structuring')).toEqual([]);
    });

    it('counts a transfer exactly 24 h older, whatever order the events came in', async () => {
      const account = randomUUID();
      const t0 = Date.now() - 3 * 24 * HOUR;
      const [oldest, middle, newest] = [950_000n, 990_000n, 999_999n].map((amount, i) =>
        transfer(account, randomUUID(), amount, t0 + i * (STRUCTURING_WINDOW / 2)),
      );
      expect(await observe(newest!)).toEqual({ processed: true, alerts: 0 });
      expect(await observe(middle!)).toEqual({ processed: true, alerts: 0 });
      // Each event's window ends at its own time, so none of these three saw the other two. A fourth at the newest's
      // time does, the oldest sitting exactly on the (inclusive) edge.
      expect(await observe(oldest!)).toEqual({ processed: true, alerts: 0 });
      const later = transfer(account, randomUUID(), 960_000n, newest!.occurredAt.getTime());
      expect(await observe(later)).toEqual({ processed: true, alerts: 1 });
      expect((await alertsOf(account, 'aml.structuring'))[0]).toHaveLength(4);
    });
  });

  describe('execute: rapid in-and-out (both accounts, [now - 15 min, now + 15 min])', () => {
    it('detects it on the outgoing event when the incoming one was observed first', async () => {
      const mule = randomUUID();
      const t0 = Date.now() - 2 * HOUR;
      const moneyIn = transfer(randomUUID(), mule, 800_000n, t0);
      const moneyOut = transfer(mule, randomUUID(), 700_000n, t0 + RAPID_WINDOW);
      expect(await observe(moneyIn)).toEqual({ processed: true, alerts: 0 });
      expect(await observe(moneyOut)).toEqual({ processed: true, alerts: 1 });
      expect(await alertsOf(mule, 'aml.rapid_in_out')).toEqual([[moneyIn.transferId, moneyOut.transferId]]);
    });

    it('detects it on the incoming event when the outgoing one was observed first (out-of-order events)', async () => {
      const mule = randomUUID();
      const t0 = Date.now() - 2 * HOUR;
      const moneyIn = transfer(randomUUID(), mule, 800_000n, t0);
      const moneyOut = transfer(mule, randomUUID(), 700_000n, t0 + RAPID_WINDOW);
      expect(await observe(moneyOut)).toEqual({ processed: true, alerts: 0 });
      expect(await observe(moneyIn)).toEqual({ processed: true, alerts: 1 });
      expect(await alertsOf(mule, 'aml.rapid_in_out')).toEqual([[moneyIn.transferId, moneyOut.transferId]]);
    });

    it('does not detect money that leaves 15 min + 1 s after it arrived, in either order', async () => {
      const t0 = Date.now() - 2 * HOUR;
      for (const outFirst of [false, true]) {
        const mule = randomUUID();
        const moneyIn = transfer(randomUUID(), mule, 800_000n, t0);
        const moneyOut = transfer(mule, randomUUID(), 700_000n, t0 + RAPID_WINDOW + 1000);
        for (const t of outFirst ? [moneyOut, moneyIn] : [moneyIn, moneyOut])
          expect(await observe(t)).toEqual({ processed: true, alerts: 0 });
        expect(await alertsOf(mule, 'aml.rapid_in_out')).toEqual([]);
      }
    });
  });

  describe('execute: a busy account', () => {
    const READS = ['history', 'previouslyPaid', 'windowFacts'] as const;
    const sizeOf = (r: unknown): number =>
      Array.isArray(r)
        ? r.length
        : r instanceof Set
          ? r.size
          : r instanceof Map
            ? [...r.values()].reduce((n: number, v: unknown[]) => n + v.length, 0)
            : 0;
    /** Rows of each part of windowFacts (for the rapid in-and-out aggregate: its groups). */
    const partsOf = (r: { totals: Map<string, unknown[]>; banded: unknown[]; firstPayments: unknown[] }) => ({
      rapidInOutTotals: sizeOf(r.totals),
      outgoingInBands: r.banded.length,
      firstPaymentPerDestination: r.firstPayments.length,
    });

    type Calls = Record<(typeof READS)[number], number>;
    type Rows = Record<'history' | 'previouslyPaid' | 'rapidInOutTotals' | 'outgoingInBands' | 'firstPaymentPerDestination', number>;

    /** Calls of each repository read while `fn` ran, and the rows they returned (for the rapid in-and-out aggregate: its groups). */
    async function reads<T>(fn: () => Promise<T>): Promise<{ result: T; calls: Calls; rows: Rows }> {
      const spies = READS.map((name) => [name, jest.spyOn(repository, name)] as const);
      const result = await fn();
      const calls = {} as Calls;
      const rows: Rows = { history: 0, previouslyPaid: 0, rapidInOutTotals: 0, outgoingInBands: 0, firstPaymentPerDestination: 0 };
      for (const [name, spy] of spies) {
        const results: unknown[] = await Promise.all(spy.mock.results.map((r) => r.value as unknown));
        calls[name] = results.length;
        for (const r of results) {
          if (name === 'windowFacts') {
            // One call reads the windows of every event of a chunk: the parts of each.
            for (const facts of r as Array<Parameters<typeof partsOf>[0]>)
              for (const [part, n] of Object.entries(partsOf(facts))) rows[part as keyof Rows] += n;
          } else rows[name] += sizeOf(r);
        }
        spy.mockRestore();
      }
      return { result, calls, rows };
    }

    it('reads a few aggregate rows, not 2,000 transfers, for an event on a merchant credited 2,000 times in 15 minutes', async () => {
      const merchant = randomUUID();
      const t0 = Date.now() - 2 * HOUR;
      await h.db.query(
        `INSERT INTO observed_transfers (transfer_id, source_account_id, destination_account_id, amount_minor, currency, status, occurred_at)
         SELECT $1 || '-' || g, 'payer-' || g, $2, 1000, 'EUR', 'POSTED', $3::timestamptz + g * interval '400 milliseconds'
         FROM generate_series(1, 2000) AS g`,
        [`busy-${RUN}`, merchant, new Date(t0)],
      );
      // 2,000,000 in, nothing out: no rapid in-and-out, and only the aggregate read the merchant's range. An account
      // that paid nothing out in the window has no totals at all (its incoming side is not even summed): only the payer.
      const another = transfer(randomUUID(), merchant, 1000n, t0 + 10 * MINUTE);
      const credited = await reads(() => observe(another));
      expect(credited.result).toEqual({ processed: true, alerts: 0 });
      expect(credited.calls).toEqual({ history: 0, previouslyPaid: 0, windowFacts: 1 });
      expect(credited.rows).toEqual({
        history: 0,
        outgoingInBands: 0,
        firstPaymentPerDestination: 1,
        previouslyPaid: 0,
        rapidInOutTotals: 1,
      });

      // A small refund out (its sum below 80% of the minimum in) cannot make a pattern either: nothing loaded.
      const refund = transfer(merchant, randomUUID(), 2_500n, t0 + 11 * MINUTE);
      const refunded = await reads(() => observe(refund));
      expect(refunded.result).toEqual({ processed: true, alerts: 0 });
      expect(refunded.calls.history).toBe(0);
      expect(refunded.rows).toMatchObject({ outgoingInBands: 0, firstPaymentPerDestination: 1, rapidInOutTotals: 1 }); // the merchant's; the payee paid nothing out

      // Paying most of it out can: the merchant's range is loaded once and the pattern found.
      const payout = transfer(merchant, randomUUID(), 1_800_000n, t0 + 14 * MINUTE);
      const paidOut = await reads(() => observe(payout));
      expect(paidOut.result).toEqual({ processed: true, alerts: 1 });
      expect(paidOut.calls.history).toBe(1);
      expect(paidOut.rows.history).toBe(2003);
      const [ids] = await alertsOf(merchant, 'aml.rapid_in_out');
      expect(ids).toContain(payout.transferId);
      expect(ids).toContain(refund.transferId);
    });
  });
});
