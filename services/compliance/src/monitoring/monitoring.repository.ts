import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { ObservedTransfer } from './detectors';

type Tx = Prisma.TransactionClient;

/** The Prisma side of monitoring: processed event ids and the observed-transfer history. */
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
      orderBy: { occurredAt: 'asc' },
    });
    return rows.map(({ status: _status, ...t }) => t);
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
