import { Injectable } from '@nestjs/common';
import type { NewAlert } from '../alerts/alert';
import { AlertRepository } from '../alerts/alert.repository';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import type { Decision, Reason, ScreeningInput, WindowStats } from './screening';

export interface RecordedScreening {
  id: string;
  decision: Decision;
  reasons: Reason[];
  ruleVersion: string;
  riskScore: number;
  actor: string;
  decidedAt: Date;
  latencyMicros: number;
  response: Uint8Array;
}

/** The Prisma side of screening: decision log, velocity history, and the review alert of a REVIEW. */
@Injectable()
export class ScreeningRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly alerts: AlertRepository,
  ) {}

  async findByKey(key: string): Promise<{ requestHash: string; response: Uint8Array } | undefined> {
    const row = await this.prisma.client.screening.findUnique({ where: { idempotencyKey: key }, select: { requestHash: true, response: true } });
    return row ? { requestHash: row.requestHash, response: new Uint8Array(row.response) } : undefined;
  }

  /**
   * Decides and records one screening atomically per owner and currency: a transaction-scoped advisory lock
   * on (owner, currency) makes concurrent screenings of one customer see each other's history, so two parallel
   * transfers cannot both slip under a daily limit. `decide` gets the window stats and returns the record.
   */
  async decideOnce(
    key: string,
    hash: string,
    input: ScreeningInput,
    windows: number[],
    now: Date,
    decide: (stats: Map<number, WindowStats>) => { record: RecordedScreening; alert?: NewAlert },
  ): Promise<{ response: Uint8Array; replayed: boolean; requestHash: string }> {
    return this.prisma.client.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${input.ownerId}|${input.currency}`}, 0))`;
        const existing = await tx.screening.findUnique({ where: { idempotencyKey: key }, select: { requestHash: true, response: true } });
        if (existing) return { response: new Uint8Array(existing.response), replayed: true, requestHash: existing.requestHash };
        const stats = await this.windowStats(tx, input.ownerId, input.currency, windows, now);
        const { record, alert } = decide(stats);
        await tx.screening.create({
          data: {
            id: record.id,
            idempotencyKey: key,
            requestHash: hash,
            referenceId: input.referenceId,
            movementKind: input.movementKind,
            ownerId: input.ownerId,
            sourceAccountId: input.sourceAccountId,
            destinationAccountId: input.destinationAccountId,
            amountMinor: input.amountMinor,
            currency: input.currency,
            counterpartyCountry: input.counterpartyCountry,
            decision: record.decision,
            reasons: record.reasons as unknown as Prisma.InputJsonValue,
            ruleVersion: record.ruleVersion,
            riskScore: record.riskScore,
            actor: record.actor,
            decidedAt: record.decidedAt,
            latencyMicros: record.latencyMicros,
            response: Buffer.from(record.response),
          },
        });
        if (alert) await this.alerts.raise(tx, alert, record.actor);
        return { response: record.response, replayed: false, requestHash: hash };
      },
      // READ COMMITTED: the session default every pool connection is pinned to (@tessera/db createPrismaClient).
    );
  }

  /** Approved and held movements of one owner/currency per rolling window, in one indexed scan. */
  private async windowStats(tx: Prisma.TransactionClient, ownerId: string, currency: string, windows: number[], now: Date): Promise<Map<number, WindowStats>> {
    const longest = Math.max(...windows);
    const since = new Date(now.getTime() - longest * 1000);
    const rows = await tx.$queryRaw<Array<{ decided_at: Date; amount_minor: bigint }>>`
      SELECT decided_at, amount_minor FROM screenings
      WHERE owner_id = ${ownerId} AND currency = ${currency} AND decision IN ('APPROVE', 'REVIEW') AND decided_at > ${since}`;
    const stats = new Map<number, WindowStats>();
    for (const w of windows) {
      const from = now.getTime() - w * 1000;
      let count = 0;
      let amountMinor = 0n;
      for (const r of rows) {
        if (r.decided_at.getTime() <= from) continue;
        count += 1;
        amountMinor += BigInt(r.amount_minor);
      }
      stats.set(w, { count, amountMinor });
    }
    return stats;
  }
}
