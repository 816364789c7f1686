import { Injectable } from '@nestjs/common';
import type { NewAlert } from '../alerts/alert';
import { AlertRepository } from '../alerts/alert.repository';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../platform/prisma.provider';
import { type Decision, type GroupHistory, type Reason, type ScreeningInput, screeningGroup, type WindowStats } from './screening';

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

/** A screening to decide: its idempotency key, request hash and movement. */
export interface PendingScreening {
  key: string;
  hash: string;
  input: ScreeningInput;
}

/** A screening stored earlier under a key: replayed when the hash matches. */
export interface StoredScreening {
  requestHash: string;
  response: Uint8Array;
}

/** A pending screening decided: what to insert, and the review alert to raise with it. */
export interface DecidedScreening {
  screening: PendingScreening;
  record: RecordedScreening;
  alert?: NewAlert;
}

/** The Prisma side of screening: decision log, velocity history, and the review alert of a REVIEW. */
@Injectable()
export class ScreeningRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly alerts: AlertRepository,
  ) {}

  /**
   * Decides and records screenings in one transaction, serialised per owner and currency: transaction-scoped advisory
   * locks on every (owner, currency) group, taken in one statement in the order of their lock keys (so concurrent
   * calls never deadlock), make concurrent screenings of one customer see each other's history, so two parallel
   * transfers cannot both slip under a limit. Under the locks it reads the screenings already stored under the keys
   * (one query) and the window stats of the groups still to decide (one query), then `decide` returns a record for
   * every `fresh` (not yet stored) screening, or throws to refuse the call (nothing is written). The records are
   * inserted in one statement, and the review alert of each one that has one is raised. Returns each screening's
   * response in `pending` order: the stored one (`replayed`) or the new one.
   */
  async decideAll(
    pending: readonly PendingScreening[],
    windows: number[],
    now: Date,
    decide: (stored: ReadonlyMap<string, StoredScreening>, fresh: readonly PendingScreening[], history: GroupHistory) => DecidedScreening[],
  ): Promise<Array<{ response: Uint8Array; replayed: boolean }>> {
    return this.prisma.client.$transaction(
      async (tx) => {
        const groups = [...new Set(pending.map((p) => screeningGroup(p.input)))];
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(g, 0) AS k FROM unnest(${groups}::text[]) AS g) AS l ORDER BY k`;
        const rows = await tx.screening.findMany({ where: { idempotencyKey: { in: pending.map((p) => p.key) } }, select: { idempotencyKey: true, requestHash: true, response: true } });
        const stored = new Map(rows.map((r) => [r.idempotencyKey, { requestHash: r.requestHash, response: new Uint8Array(r.response) }]));
        const fresh = pending.filter((p) => !stored.has(p.key));
        const history = fresh.length > 0 ? await this.windowStats(tx, fresh.map((p) => p.input), windows, now) : new Map<string, Map<number, WindowStats>>();
        const decided = decide(stored, fresh, history);
        if (decided.length > 0) await tx.screening.createMany({ data: decided.map((d) => toRow(d.screening, d.record)) });
        for (const { record, alert } of decided) if (alert) await this.alerts.raise(tx, alert, record.actor);
        const created = new Map(decided.map((d) => [d.screening.key, d.record.response]));
        return pending.map((p) => {
          const response = stored.get(p.key)?.response ?? created.get(p.key);
          if (!response) throw new Error(`decideAll: screening ${p.key} was not decided`);
          return { response, replayed: stored.has(p.key) };
        });
      },
      // READ COMMITTED: the session default every pool connection is pinned to (@tessera/db createPrismaClient).
    );
  }

  /**
   * Approved and held movements per (owner, currency) group and rolling window (`decided_at > now - window`), counted
   * and summed in one aggregate query: an index-only range scan of screenings_history_idx per group, bounded by the
   * longest window. Every group of `inputs` gets every window, zero when it has no history.
   */
  private async windowStats(tx: Prisma.TransactionClient, inputs: readonly ScreeningInput[], windows: number[], now: Date): Promise<GroupHistory> {
    const groups = [...new Map(inputs.map((i) => [screeningGroup(i), i])).values()];
    const since = new Date(now.getTime() - Math.max(...windows) * 1000);
    const rows = await tx.$queryRaw<Array<{ g: number; secs: number; count: number; amount_minor: string }>>`
      SELECT g.i::int AS g, w.secs, count(s.amount_minor)::int AS count, coalesce(sum(s.amount_minor), 0)::text AS amount_minor
      FROM unnest(${groups.map((i) => i.ownerId)}::text[], ${groups.map((i) => i.currency)}::bpchar[]) WITH ORDINALITY AS g(owner_id, currency, i)
      CROSS JOIN unnest(${windows}::int[]) AS w(secs)
      LEFT JOIN screenings AS s ON s.owner_id = g.owner_id AND s.currency = g.currency AND s.decision IN ('APPROVE', 'REVIEW')
        AND s.decided_at > ${since}::timestamptz AND s.decided_at > ${now}::timestamptz - make_interval(secs => w.secs)
      GROUP BY g.i, w.secs`;
    const entries = groups.map((i) => ({ group: screeningGroup(i), windows: new Map<number, WindowStats>() }));
    for (const r of rows) entries[r.g - 1]?.windows.set(r.secs, { count: r.count, amountMinor: BigInt(r.amount_minor) });
    return new Map(entries.map((e) => [e.group, e.windows]));
  }
}

function toRow(p: PendingScreening, record: RecordedScreening): Prisma.ScreeningCreateManyInput {
  const { input } = p;
  return {
    id: record.id,
    idempotencyKey: p.key,
    requestHash: p.hash,
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
  };
}
