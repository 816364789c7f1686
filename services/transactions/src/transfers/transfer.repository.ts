import { Injectable } from '@nestjs/common';
import type { Prisma, Transfer as TransferRow } from '../generated/prisma/client';
import { ledgerErrors } from '../ledger/ledger.errors';
import { transferRowOf, writeSetOf } from '../ledger/write-set';
import { PrismaService } from '../platform/prisma.provider';
import { activeTraceId } from '../platform/trace-id';
import type { Transfer, TransferKind, TransferStatus } from './transfer';

type Tx = Prisma.TransactionClient;

export interface NewTransfer {
  id: string;
  kind: TransferKind;
  sourceAccountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  currency: string;
  status: TransferStatus;
  rejectionCode?: string;
  description: string;
  reference: string;
  labels: Record<string, string>;
  reversesTransferId?: string;
  holdId?: string;
  batchId?: string;
  screeningId?: string;
  sealedCounterparty?: { kekId: string; wrappedDek: Uint8Array; ciphertext: Uint8Array };
}

const TRANSFER_LINKS = { reversedBy: { select: { id: true } } } as const;

/** The Prisma side of transfers; writes run in the caller's transaction after it locked the accounts involved. */
@Injectable()
export class TransferRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Every path that creates a transfer (direct, batch, reversal, hold capture) ends here, so the trace id of
   * the active span (the creating request's) is recorded once, here, for the console's trace link.
   */
  async insertTransfer(tx: Tx, t: NewTransfer, postedAt?: Date): Promise<Transfer> {
    const [transfer] = await this.insertTransfers(tx, [{ transfer: t, ...(postedAt ? { postedAt } : {}) }]);
    if (!transfer) throw new Error('insertTransfers returned nothing');
    return transfer;
  }
  /** Several transfers in one INSERT (a batch costs one statement, not one per transfer), in the given order. */
  async insertTransfers(tx: Tx, items: { transfer: NewTransfer; postedAt?: Date }[]): Promise<Transfer[]> {
    // Millisecond precision set here (not now() in SQL) so the keyset cursor round-trips exactly.
    const createdAt = new Date();
    const traceId = activeTraceId() || null;
    // createMany: one INSERT without RETURNING or the relation read-back of create({ include }); the new rows are
    // exactly what was written, and nothing can reverse a transfer that did not exist a statement ago.
    const rows = items.map(({ transfer: t, postedAt }) => ({
      id: t.id,
      kind: t.kind,
      sourceAccountId: t.sourceAccountId,
      destinationAccountId: t.destinationAccountId,
      amountMinor: t.amountMinor,
      currency: t.currency,
      status: t.status,
      rejectionCode: t.rejectionCode ?? null,
      description: t.description,
      reference: t.reference === '' ? null : t.reference,
      labels: t.labels,
      reversesTransferId: t.reversesTransferId ?? null,
      holdId: t.holdId ?? null,
      batchId: t.batchId ?? null,
      screeningId: t.screeningId ?? null,
      counterpartyKekId: t.sealedCounterparty?.kekId ?? null,
      counterpartyWrappedDek: t.sealedCounterparty ? new Uint8Array(t.sealedCounterparty.wrappedDek) : null,
      counterpartyCiphertext: t.sealedCounterparty ? new Uint8Array(t.sealedCounterparty.ciphertext) : null,
      traceId,
      postedAt: postedAt ?? null,
      createdAt,
    }));
    const set = writeSetOf(tx);
    if (set) set.transfers.push(...rows.map(transferRowOf));
    else await tx.transfer.createMany({ data: rows });
    // The written transfer as the domain sees it: the instruction's own fields (the sealed counterparty stays sealed).
    return items.map(({ transfer: { sealedCounterparty: _sealed, ...fields }, postedAt }) => ({
      ...fields,
      // Optional on an instruction, always present (maybe undefined) on a Transfer.
      rejectionCode: fields.rejectionCode,
      reversesTransferId: fields.reversesTransferId,
      holdId: fields.holdId,
      batchId: fields.batchId,
      screeningId: fields.screeningId,
      reversedByTransferId: undefined,
      traceId: traceId ?? undefined,
      createdAt,
      postedAt,
    }));
  }
  async updateTransferStatus(
    tx: Tx,
    id: string,
    status: TransferStatus,
    extra: { rejectionCode?: string; postedAt?: Date } = {},
  ): Promise<Transfer> {
    const row = await tx.transfer.update({
      where: { id },
      data: {
        status,
        ...(extra.rejectionCode ? { rejectionCode: extra.rejectionCode } : {}),
        ...(extra.postedAt ? { postedAt: extra.postedAt } : {}),
      },
      include: TRANSFER_LINKS,
    });
    return toTransfer(row);
  }
  /** Locks one transfer row (its status is about to change); NOT_FOUND if absent. */
  async lockTransfer(tx: Tx, id: string): Promise<Transfer> {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM transfers WHERE id = ${id}::uuid FOR UPDATE`;
    if (locked.length === 0) throw ledgerErrors.transferNotFound(id);
    return this.transferIn(tx, id);
  }
  async transferIn(tx: Tx, id: string): Promise<Transfer> {
    const row = await tx.transfer.findUnique({ where: { id }, include: TRANSFER_LINKS });
    if (!row) throw ledgerErrors.transferNotFound(id);
    return toTransfer(row);
  }
  async findTransfer(id: string): Promise<Transfer | undefined> {
    const row = await this.prisma.client.transfer.findUnique({ where: { id }, include: TRANSFER_LINKS });
    return row ? toTransfer(row) : undefined;
  }
  /** Newest first, keyset on (created_at, id) descending. */
  async listTransfers(
    filter: { accountId?: string; ownerId?: string; status?: TransferStatus; batchId?: string },
    pageSize: number,
    before?: { createdAt: Date; id: string },
  ): Promise<Transfer[]> {
    const rows = await this.prisma.client.transfer.findMany({
      where: {
        AND: [
          filter.accountId ? { OR: [{ sourceAccountId: filter.accountId }, { destinationAccountId: filter.accountId }] } : {},
          filter.ownerId !== undefined
            ? { OR: [{ source: { ownerId: filter.ownerId } }, { destination: { ownerId: filter.ownerId } }] }
            : {},
          filter.status ? { status: filter.status } : {},
          filter.batchId ? { batchId: filter.batchId } : {},
          before ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] } : {},
        ],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize,
      include: TRANSFER_LINKS,
    });
    return rows.map(toTransfer);
  }
}

function toTransfer(row: TransferRow & { reversedBy: { id: string } | null }): Transfer {
  return {
    id: row.id,
    kind: row.kind,
    sourceAccountId: row.sourceAccountId,
    destinationAccountId: row.destinationAccountId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    status: row.status,
    rejectionCode: row.rejectionCode ?? undefined,
    description: row.description,
    reference: row.reference ?? '',
    labels: (row.labels ?? {}) as Record<string, string>,
    reversesTransferId: row.reversesTransferId ?? undefined,
    reversedByTransferId: row.reversedBy?.id,
    holdId: row.holdId ?? undefined,
    batchId: row.batchId ?? undefined,
    screeningId: row.screeningId ?? undefined,
    traceId: row.traceId ?? undefined,
    createdAt: row.createdAt,
    postedAt: row.postedAt ?? undefined,
  };
}
