import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { ObservedTransfer, RapidInOutTotals, StructuringBand } from './detectors';

type Tx = Prisma.TransactionClient;

interface Range {
  from: Date;
  to: Date;
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
   * Claims the envelope id and records the observed transfer (if any) in one statement; false when this envelope id
   * was handled before (at-least-once delivery), and then nothing is recorded.
   */
  async claimAndRecord(tx: Tx, event: { eventId: string; type: string }, t: ObservedTransfer | undefined, status: string): Promise<boolean> {
    const rows = await tx.$queryRaw<Array<{ claimed: number }>>`
      WITH c AS (INSERT INTO processed_events (event_id, type) VALUES (${event.eventId}, ${event.type}) ON CONFLICT DO NOTHING RETURNING 1),
      r AS (
        INSERT INTO observed_transfers (transfer_id, source_account_id, destination_account_id, amount_minor, currency, status, occurred_at)
        SELECT ${t?.transferId ?? null}::text, ${t?.sourceAccountId ?? null}::text, ${t?.destinationAccountId ?? null}::text, ${t?.amountMinor.toString() ?? null}::bigint,
               ${t?.currency ?? null}::bpchar, ${status}::text, ${t?.occurredAt ?? null}::timestamptz
        WHERE ${t?.transferId ?? null}::text IS NOT NULL AND EXISTS (SELECT 1 FROM c)
        ON CONFLICT DO NOTHING
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM c)::int AS claimed, (SELECT count(*) FROM r)::int AS recorded`;
    return rows[0]?.claimed === 1;
  }

  /** Every transfer in or out of `accountId` within [from, to]. */
  async history(tx: Tx, accountId: string, from: Date, to: Date): Promise<ObservedTransfer[]> {
    const rows = await tx.observedTransfer.findMany({
      where: { OR: [{ sourceAccountId: accountId }, { destinationAccountId: accountId }], occurredAt: { gte: from, lte: to } },
      orderBy: [{ occurredAt: 'asc' }, { transferId: 'asc' }],
    });
    return rows.map(({ status: _status, ...t }) => t);
  }

  /**
   * The three window reads of one event in one statement (a round trip is the unit of cost under load):
   * - `totals`: per account of `accounts` and currency within `rapid`, the sum of incoming amounts and the count and
   *   sum of outgoing ones (a transfer to itself counts both ways); accounts without movement are absent;
   * - `banded`: transfers out of `source` within `structuring` whose amount lies in its currency's band, oldest first;
   * - `firstPayments`: the first transfer out of `source` to each destination within `fanOut`, oldest first.
   */
  async windowFacts(
    tx: Tx,
    q: { accounts: readonly string[]; source: string; bands: readonly StructuringBand[]; rapid: Range; structuring: Range; fanOut: Range },
  ): Promise<{ totals: Map<string, RapidInOutTotals[]>; banded: ObservedTransfer[]; firstPayments: ObservedTransfer[] }> {
    const ids = [...q.accounts];
    const rows = await tx.$queryRaw<Array<{ totals: TotalsRow[]; banded: JsonObservedRow[]; first_payments: JsonObservedRow[] }>>`
      SELECT
        (SELECT coalesce(jsonb_agg(x), '[]'::jsonb) FROM (
          SELECT m.account_id, m.currency, coalesce(sum(m.in_amount), 0)::text AS in_sum, count(m.out_amount)::int AS out_count, coalesce(sum(m.out_amount), 0)::text AS out_sum
          FROM (
            SELECT destination_account_id AS account_id, currency, amount_minor AS in_amount, NULL::bigint AS out_amount FROM observed_transfers
            WHERE destination_account_id = ANY(${ids}::text[]) AND occurred_at >= ${q.rapid.from}::timestamptz AND occurred_at <= ${q.rapid.to}::timestamptz
            UNION ALL
            SELECT source_account_id, currency, NULL, amount_minor FROM observed_transfers
            WHERE source_account_id = ANY(${ids}::text[]) AND occurred_at >= ${q.rapid.from}::timestamptz AND occurred_at <= ${q.rapid.to}::timestamptz
          ) AS m
          GROUP BY m.account_id, m.currency) AS x) AS totals,
        (SELECT coalesce(jsonb_agg(x ORDER BY x.occurred_ms, x.transfer_id), '[]'::jsonb) FROM (
          SELECT o.transfer_id, o.source_account_id, o.destination_account_id, o.amount_minor::text AS amount_minor, o.currency,
                 floor(extract(epoch FROM o.occurred_at) * 1000)::bigint AS occurred_ms
          FROM observed_transfers AS o
          JOIN unnest(${q.bands.map((b) => b.currency)}::bpchar[], ${q.bands.map((b) => b.floor.toString())}::bigint[], ${q.bands.map((b) => b.threshold.toString())}::bigint[])
            AS b(currency, floor, threshold) ON o.currency = b.currency
          WHERE o.source_account_id = ${q.source} AND o.occurred_at >= ${q.structuring.from}::timestamptz AND o.occurred_at <= ${q.structuring.to}::timestamptz
            AND o.amount_minor >= b.floor AND o.amount_minor < b.threshold) AS x) AS banded,
        (SELECT coalesce(jsonb_agg(x ORDER BY x.occurred_ms, x.transfer_id), '[]'::jsonb) FROM (
          SELECT DISTINCT ON (destination_account_id) transfer_id, source_account_id, destination_account_id, amount_minor::text AS amount_minor, currency,
                 floor(extract(epoch FROM occurred_at) * 1000)::bigint AS occurred_ms
          FROM observed_transfers
          WHERE source_account_id = ${q.source} AND occurred_at >= ${q.fanOut.from}::timestamptz AND occurred_at <= ${q.fanOut.to}::timestamptz
          ORDER BY destination_account_id, occurred_at, transfer_id) AS x) AS first_payments`;
    const row = rows[0];
    const totals = new Map<string, RapidInOutTotals[]>();
    for (const r of row?.totals ?? []) {
      totals.set(r.account_id, [...(totals.get(r.account_id) ?? []), { currency: r.currency, inSum: BigInt(r.in_sum), outCount: r.out_count, outSum: BigInt(r.out_sum) }]);
    }
    return { totals, banded: (row?.banded ?? []).map(fromJson), firstPayments: (row?.first_payments ?? []).map(fromJson) };
  }

  /** Of `destinations`, those `accountId` paid in [from, before). */
  async previouslyPaid(tx: Tx, accountId: string, destinations: string[], from: Date, before: Date): Promise<Set<string>> {
    if (destinations.length === 0) return new Set();
    const rows = await tx.observedTransfer.findMany({
      where: { sourceAccountId: accountId, destinationAccountId: { in: destinations }, occurredAt: { gte: from, lt: before } },
      select: { destinationAccountId: true },
      distinct: ['destinationAccountId'],
    });
    return new Set(rows.map((r) => r.destinationAccountId));
  }
}
