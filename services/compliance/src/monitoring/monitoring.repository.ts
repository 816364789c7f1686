import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { ObservedTransfer, RapidInOutTotals, StructuringBand } from './detectors';

type Tx = Prisma.TransactionClient;

interface ObservedRow {
  transfer_id: string;
  source_account_id: string;
  destination_account_id: string;
  amount_minor: string;
  currency: string;
  occurred_at: Date;
}

const toObserved = (r: ObservedRow): ObservedTransfer => ({
  transferId: r.transfer_id,
  sourceAccountId: r.source_account_id,
  destinationAccountId: r.destination_account_id,
  amountMinor: BigInt(r.amount_minor),
  currency: r.currency,
  occurredAt: r.occurred_at,
});

/**
 * The Prisma side of monitoring: processed event ids and the observed-transfer history. Every read is a range
 * scan of observed_transfers (source_account_id, occurred_at) or (destination_account_id, occurred_at).
 */
@Injectable()
export class MonitoringRepository {
  constructor(readonly prisma: PrismaService) {}

  /** False when this envelope id was handled before (at-least-once delivery). */
  async claimEvent(tx: Tx, eventId: string, type: string): Promise<boolean> {
    const { count } = await tx.processedEvent.createMany({ data: [{ eventId, type }], skipDuplicates: true });
    return count === 1;
  }

  async record(tx: Tx, t: ObservedTransfer, status: string): Promise<void> {
    await tx.observedTransfer.createMany({ data: [{ ...t, status }], skipDuplicates: true });
  }

  /** Every transfer in or out of `accountId` within [from, to]. */
  async history(tx: Tx, accountId: string, from: Date, to: Date): Promise<ObservedTransfer[]> {
    const rows = await tx.observedTransfer.findMany({
      where: { OR: [{ sourceAccountId: accountId }, { destinationAccountId: accountId }], occurredAt: { gte: from, lte: to } },
      orderBy: [{ occurredAt: 'asc' }, { transferId: 'asc' }],
    });
    return rows.map(({ status: _status, ...t }) => t);
  }

  /** Transfers out of `accountId` within [from, to] whose amount lies in its currency's band, oldest first. */
  async outgoingInBands(tx: Tx, accountId: string, bands: readonly StructuringBand[], from: Date, to: Date): Promise<ObservedTransfer[]> {
    if (bands.length === 0) return [];
    const rows = await tx.$queryRaw<ObservedRow[]>`
      SELECT o.transfer_id, o.source_account_id, o.destination_account_id, o.amount_minor::text AS amount_minor, o.currency, o.occurred_at
      FROM observed_transfers AS o
      JOIN unnest(${bands.map((b) => b.currency)}::bpchar[], ${bands.map((b) => b.floor.toString())}::bigint[], ${bands.map((b) => b.threshold.toString())}::bigint[])
        AS b(currency, floor, threshold) ON o.currency = b.currency
      WHERE o.source_account_id = ${accountId} AND o.occurred_at >= ${from}::timestamptz AND o.occurred_at <= ${to}::timestamptz
        AND o.amount_minor >= b.floor AND o.amount_minor < b.threshold
      ORDER BY o.occurred_at, o.transfer_id`;
    return rows.map(toObserved);
  }

  /**
   * Per account of `accountIds` and currency, within [from, to]: the sum of incoming amounts and the count and sum
   * of outgoing ones (a transfer to itself counts both ways). One aggregate query; accounts without movement are absent.
   */
  async rapidInOutTotals(tx: Tx, accountIds: readonly string[], from: Date, to: Date): Promise<Map<string, RapidInOutTotals[]>> {
    const ids = [...accountIds];
    const rows = await tx.$queryRaw<Array<{ account_id: string; currency: string; in_sum: string; out_count: number; out_sum: string }>>`
      SELECT m.account_id, m.currency, coalesce(sum(m.in_amount), 0)::text AS in_sum, count(m.out_amount)::int AS out_count, coalesce(sum(m.out_amount), 0)::text AS out_sum
      FROM (
        SELECT destination_account_id AS account_id, currency, amount_minor AS in_amount, NULL::bigint AS out_amount FROM observed_transfers
        WHERE destination_account_id = ANY(${ids}::text[]) AND occurred_at >= ${from}::timestamptz AND occurred_at <= ${to}::timestamptz
        UNION ALL
        SELECT source_account_id, currency, NULL, amount_minor FROM observed_transfers
        WHERE source_account_id = ANY(${ids}::text[]) AND occurred_at >= ${from}::timestamptz AND occurred_at <= ${to}::timestamptz
      ) AS m
      GROUP BY m.account_id, m.currency`;
    const totals = new Map<string, RapidInOutTotals[]>();
    for (const r of rows) totals.set(r.account_id, [...(totals.get(r.account_id) ?? []), { currency: r.currency, inSum: BigInt(r.in_sum), outCount: r.out_count, outSum: BigInt(r.out_sum) }]);
    return totals;
  }

  /** The first transfer out of `accountId` to each destination within [from, to], oldest first. */
  async firstPaymentPerDestination(tx: Tx, accountId: string, from: Date, to: Date): Promise<ObservedTransfer[]> {
    const rows = await tx.$queryRaw<ObservedRow[]>`
      SELECT * FROM (
        SELECT DISTINCT ON (destination_account_id) transfer_id, source_account_id, destination_account_id, amount_minor::text AS amount_minor, currency, occurred_at
        FROM observed_transfers
        WHERE source_account_id = ${accountId} AND occurred_at >= ${from}::timestamptz AND occurred_at <= ${to}::timestamptz
        ORDER BY destination_account_id, occurred_at, transfer_id
      ) AS f
      ORDER BY occurred_at, transfer_id`;
    return rows.map(toObserved);
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
