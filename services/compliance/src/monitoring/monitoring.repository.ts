import { Injectable } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import { traceSharedWork } from '@tessera/db';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { ObservedTransfer, RapidInOutTotals, StructuringBand } from './detectors';

type Tx = Prisma.TransactionClient;

interface Range {
  from: Date;
  to: Date;
}

/** The window reads of one event (see `windowFacts`). */
export interface WindowQuery {
  accounts: readonly string[];
  source: string;
  rapid: Range;
  structuring: Range;
  fanOut: Range;
  /** Transfers this event must not see (recorded for the events after it in the same chunk). */
  hidden?: readonly string[];
}

/** What `windowFacts` found for one event. */
export interface WindowFacts {
  totals: Map<string, RapidInOutTotals[]>;
  banded: ObservedTransfer[];
  firstPayments: ObservedTransfer[];
}

interface TotalsRow {
  account_id: string;
  currency: string;
  in_sum: string;
  out_count: number;
  out_sum: string;
}

/** An observed transfer as jsonb_agg renders it: bigints as text, the time as epoch milliseconds. */
interface JsonObservedRow {
  transfer_id: string;
  source_account_id: string;
  destination_account_id: string;
  amount_minor: string;
  currency: string;
  occurred_ms: number;
}

const fromJson = (r: JsonObservedRow): ObservedTransfer => ({
  transferId: r.transfer_id,
  sourceAccountId: r.source_account_id,
  destinationAccountId: r.destination_account_id,
  amountMinor: BigInt(r.amount_minor),
  currency: r.currency,
  occurredAt: new Date(Number(r.occurred_ms)),
});

/**
 * The Prisma side of monitoring: processed event ids and the observed-transfer history. Every read is a range
 * scan of observed_transfers (source_account_id, occurred_at) or (destination_account_id, occurred_at).
 */
@Injectable()
export class MonitoringRepository {
  constructor(readonly prisma: PrismaService) {}

  /**
   * Claims the envelope ids of a chunk of events and records their observed transfers, in one statement (issue #10:
   * it was one statement per event). Per event, in order: true when this call claimed it, false when its id was
   * handled before (at-least-once delivery) or appears earlier in the chunk; an event not claimed records nothing.
   * Also returns the ids of the transfers this statement recorded: the caller reads each event's history without the
   * ones recorded for the events after it (`hidden`), so each sees exactly what the events before it recorded, as with
   * one claim per event.
   *
   * Run it under the first event's trace context and pass each event's (`traces`, in `events` order): the statement's
   * database spans land in the first event's trace, and every other event's trace gets a span for the same statement
   * (`traceSharedWork`), so each transfer's trace still shows the monitor's write.
   */
  async claimAndRecordMany(
    tx: Tx,
    events: ReadonlyArray<{ event: { eventId: string; type: string }; transfer: ObservedTransfer | undefined; status: string }>,
    traces: ReadonlyArray<Context | undefined> = [],
  ): Promise<{ claimed: boolean[]; recorded: Set<string> }> {
    if (events.length === 0) return { claimed: [], recorded: new Set() };
    const firstOf = new Map<string, number>();
    events.forEach((e, i) => {
      if (!firstOf.has(e.event.eventId)) firstOf.set(e.event.eventId, i);
    });
    const rows = events.map((e, i) => ({
      ord: i,
      eventId: e.event.eventId,
      type: e.event.type,
      first: firstOf.get(e.event.eventId) === i,
      transferId: e.transfer?.transferId ?? null,
      source: e.transfer?.sourceAccountId ?? null,
      destination: e.transfer?.destinationAccountId ?? null,
      amountMinor: e.transfer?.amountMinor.toString() ?? null,
      currency: e.transfer?.currency ?? null,
      status: e.status,
      occurredAt: e.transfer?.occurredAt.toISOString() ?? null,
    }));
    const query = Prisma.sql`
      WITH e AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS e(ord int, "eventId" text, type text, first boolean, "transferId" text,
          source text, destination text, "amountMinor" bigint, currency text, status text, "occurredAt" timestamptz)
      ),
      c AS (
        INSERT INTO processed_events (event_id, type)
        SELECT e."eventId", e.type FROM e WHERE e.first ORDER BY e.ord
        ON CONFLICT DO NOTHING RETURNING event_id
      ),
      r AS (
        INSERT INTO observed_transfers (transfer_id, source_account_id, destination_account_id, amount_minor, currency, status, occurred_at)
        SELECT e."transferId", e.source, e.destination, e."amountMinor", e.currency, e.status, e."occurredAt"
        FROM e JOIN c ON c.event_id = e."eventId"
        WHERE e.first AND e."transferId" IS NOT NULL
        ORDER BY e.ord
        ON CONFLICT DO NOTHING
        RETURNING transfer_id
      )
      SELECT ARRAY(SELECT event_id FROM c) AS claimed, ARRAY(SELECT transfer_id FROM r) AS recorded`;
    const attributes = { 'db.system.name': 'postgresql', 'db.query.text': query.text, 'db.operation.batch.size': events.length };
    const [row] = await traceSharedWork(traces.slice(1), 'claim and record observed_transfers', attributes, () =>
      tx.$queryRaw<Array<{ claimed: string[]; recorded: string[] }>>(query),
    );
    const mine = new Set(row?.claimed ?? []);
    return {
      claimed: events.map((e, i) => firstOf.get(e.event.eventId) === i && mine.has(e.event.eventId)),
      recorded: new Set(row?.recorded ?? []),
    };
  }

  /** Every transfer in or out of `accountId` within [from, to]. */
  async history(tx: Tx, accountId: string, from: Date, to: Date, hidden: readonly string[] = []): Promise<ObservedTransfer[]> {
    const rows = await tx.observedTransfer.findMany({
      where: {
        OR: [{ sourceAccountId: accountId }, { destinationAccountId: accountId }],
        occurredAt: { gte: from, lte: to },
        transferId: { notIn: [...hidden] },
      },
      orderBy: [{ occurredAt: 'asc' }, { transferId: 'asc' }],
    });
    return rows.map(({ status: _status, ...t }) => t);
  }

  /**
   * The three window reads of every event of a chunk in ONE statement (a round trip is the unit of cost under load;
   * issue #10: it was one statement per event), per query in `queries` order:
   * - `totals`: per account of `accounts` and currency within `rapid` in which the account paid out, the count and sum
   *   of outgoing amounts and the sum of incoming ones (a transfer to itself counts both ways); an account and
   *   currency without outgoing transfers is absent, since no rapid in-and-out pattern can hold there (`mayRapidInOut`
   *   needs one out). The incoming side is summed only for those: a merchant account receives thousands of payments
   *   in the window and pays out rarely, and summing its incoming ones for every event was the monitor's largest cost
   *   (43 ms a chunk, 9,200 buffers, in the hot-destination bench; issue #10);
   * - `banded`: transfers out of `source` within `structuring` whose amount lies in its currency's band, oldest first;
   * - `firstPayments`: the first transfer out of `source` to each destination within `fanOut`, oldest first.
   * Each query ignores the transfers in its `hidden` (the later events of the chunk, see `claimAndRecordMany`). Each
   * part is a correlated subquery per query row: the same index range scans as one statement per event.
   */
  async windowFacts(tx: Tx, queries: readonly WindowQuery[], bands: readonly StructuringBand[]): Promise<WindowFacts[]> {
    if (queries.length === 0) return [];
    const rows = queries.map((q, ord) => ({
      ord,
      accounts: [...q.accounts],
      source: q.source,
      rapidFrom: q.rapid.from.toISOString(),
      rapidTo: q.rapid.to.toISOString(),
      structuringFrom: q.structuring.from.toISOString(),
      structuringTo: q.structuring.to.toISOString(),
      fanOutFrom: q.fanOut.from.toISOString(),
      fanOutTo: q.fanOut.to.toISOString(),
      hidden: [...(q.hidden ?? [])],
    }));
    const result = await tx.$queryRaw<Array<{ totals: TotalsRow[]; banded: JsonObservedRow[]; first_payments: JsonObservedRow[] }>>`
      SELECT
        (SELECT coalesce(jsonb_agg(x), '[]'::jsonb) FROM (
          SELECT o.account_id, o.currency, o.out_count, o.out_sum::text AS out_sum,
                 coalesce((SELECT sum(i.amount_minor) FROM observed_transfers AS i
                           WHERE i.destination_account_id = o.account_id AND i.currency = o.currency
                             AND i.occurred_at >= q."rapidFrom" AND i.occurred_at <= q."rapidTo" AND i.transfer_id <> ALL(q.hidden)), 0)::text AS in_sum
          FROM (
            SELECT source_account_id AS account_id, currency, count(*)::int AS out_count, sum(amount_minor) AS out_sum FROM observed_transfers
            WHERE source_account_id = ANY(q.accounts) AND occurred_at >= q."rapidFrom" AND occurred_at <= q."rapidTo"
              AND transfer_id <> ALL(q.hidden)
            GROUP BY source_account_id, currency
          ) AS o) AS x) AS totals,
        (SELECT coalesce(jsonb_agg(x ORDER BY x.occurred_ms, x.transfer_id), '[]'::jsonb) FROM (
          SELECT o.transfer_id, o.source_account_id, o.destination_account_id, o.amount_minor::text AS amount_minor, o.currency,
                 floor(extract(epoch FROM o.occurred_at) * 1000)::bigint AS occurred_ms
          FROM observed_transfers AS o
          JOIN unnest(${bands.map((b) => b.currency)}::bpchar[], ${bands.map((b) => b.floor.toString())}::bigint[], ${bands.map((b) => b.threshold.toString())}::bigint[])
            AS b(currency, floor, threshold) ON o.currency = b.currency
          WHERE o.source_account_id = q.source AND o.occurred_at >= q."structuringFrom" AND o.occurred_at <= q."structuringTo"
            AND o.amount_minor >= b.floor AND o.amount_minor < b.threshold AND o.transfer_id <> ALL(q.hidden)) AS x) AS banded,
        (SELECT coalesce(jsonb_agg(x ORDER BY x.occurred_ms, x.transfer_id), '[]'::jsonb) FROM (
          SELECT DISTINCT ON (destination_account_id) transfer_id, source_account_id, destination_account_id, amount_minor::text AS amount_minor, currency,
                 floor(extract(epoch FROM occurred_at) * 1000)::bigint AS occurred_ms
          FROM observed_transfers
          WHERE source_account_id = q.source AND occurred_at >= q."fanOutFrom" AND occurred_at <= q."fanOutTo"
            AND transfer_id <> ALL(q.hidden)
          ORDER BY destination_account_id, occurred_at, transfer_id) AS x) AS first_payments
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS q(ord int, accounts text[], source text, "rapidFrom" timestamptz, "rapidTo" timestamptz,
             "structuringFrom" timestamptz, "structuringTo" timestamptz, "fanOutFrom" timestamptz, "fanOutTo" timestamptz, hidden text[])
      ORDER BY q.ord`;
    if (result.length !== queries.length) throw new Error(`windowFacts: ${result.length} rows for ${queries.length} queries`);
    return result.map((row) => {
      const totals = new Map<string, RapidInOutTotals[]>();
      for (const r of row.totals) {
        totals.set(r.account_id, [
          ...(totals.get(r.account_id) ?? []),
          { currency: r.currency, inSum: BigInt(r.in_sum), outCount: r.out_count, outSum: BigInt(r.out_sum) },
        ]);
      }
      return { totals, banded: row.banded.map(fromJson), firstPayments: row.first_payments.map(fromJson) };
    });
  }

  /** Of `destinations`, those `accountId` paid in [from, before). */
  async previouslyPaid(
    tx: Tx,
    accountId: string,
    destinations: string[],
    from: Date,
    before: Date,
    hidden: readonly string[] = [],
  ): Promise<Set<string>> {
    if (destinations.length === 0) return new Set();
    const rows = await tx.observedTransfer.findMany({
      where: {
        sourceAccountId: accountId,
        destinationAccountId: { in: destinations },
        occurredAt: { gte: from, lt: before },
        transferId: { notIn: [...hidden] },
      },
      select: { destinationAccountId: true },
      distinct: ['destinationAccountId'],
    });
    return new Set(rows.map((r) => r.destinationAccountId));
  }
}
