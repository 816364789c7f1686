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
        const { stored, history } = await this.lockAndRead(tx, pending, windows, now);
        const fresh = pending.filter((p) => !stored.has(p.key));
        const decided = decide(stored, fresh, history);
        if (decided.length > 0)
          await insertScreenings(
            tx,
            decided.map((d) => toRow(d.screening, d.record)),
          );
        await this.alerts.raiseMany(
          tx,
          decided.flatMap(({ record, alert }) => (alert ? [{ alert, actor: record.actor }] : [])),
        );
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
   * One round trip under the locks (`screening_lock_and_read`, migration 20261203091000): the transaction-scoped
   * advisory locks of every (owner, currency) group in lock-key order, then, each with a fresh snapshot, the screenings
   * already stored under the keys and the approved and held movements per group and rolling window
   * (`decided_at > now - window`: an index-only range scan of screenings_history_idx per group, bounded by the longest
   * window). Every group gets every window, zero when it has no history.
   */
  private async lockAndRead(
    tx: Prisma.TransactionClient,
    pending: readonly PendingScreening[],
    windows: number[],
    now: Date,
  ): Promise<{ stored: Map<string, StoredScreening>; history: GroupHistory }> {
    const groups = [...new Map(pending.map((p) => [screeningGroup(p.input), p.input])).entries()];
    const since = new Date(now.getTime() - Math.max(...windows) * 1000);
    const [row] = await tx.$queryRaw<
      Array<{
        r: {
          stored: Array<{ key: string; requestHash: string; response: string }>;
          stats: Array<{ g: number; secs: number; count: number; amountMinor: string }>;
        };
      }>
    >`
      SELECT screening_lock_and_read(${groups.map(([g]) => g)}::text[], ${pending.map((p) => p.key)}::text[], ${groups.map(([, i]) => i.ownerId)}::text[],
        ${groups.map(([, i]) => i.currency)}::bpchar[], ${windows}::int[], ${now}::timestamptz, ${since}::timestamptz) AS r`;
    const stored = new Map(
      (row?.r.stored ?? []).map((s) => [
        s.key,
        { requestHash: s.requestHash, response: new Uint8Array(Buffer.from(s.response, 'base64')) },
      ]),
    );
    const history: GroupHistory = new Map(groups.map(([g]) => [g, new Map<number, WindowStats>()]));
    for (const st of row?.r.stats ?? [])
      history.get(groups[st.g - 1]?.[0] ?? '')?.set(st.secs, { count: st.count, amountMinor: BigInt(st.amountMinor) });
    return { stored, history };
  }
}

/**
 * The decided screenings in one INSERT over a jsonb recordset (issue #10): Prisma's createMany compiled a query plan
 * in its wasm query compiler for every batch size, ~12% of this service's CPU under the transfers bench.
 */
async function insertScreenings(tx: Prisma.TransactionClient, rows: Prisma.ScreeningCreateManyInput[]): Promise<void> {
  // Buffer's toJSON runs before a replacer would see it: the response is turned into base64 here.
  const json = JSON.stringify(
    rows.map((r) => ({ ...r, response: Buffer.from(r.response as Uint8Array).toString('base64') })),
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
  const inserted = await tx.$executeRaw`
    INSERT INTO screenings (id, idempotency_key, request_hash, reference_id, movement_kind, owner_id, source_account_id, destination_account_id,
                            amount_minor, currency, counterparty_country, decision, reasons, rule_version, risk_score, actor, decided_at, latency_micros, response)
    SELECT r.id, r."idempotencyKey", r."requestHash", r."referenceId", r."movementKind", r."ownerId", r."sourceAccountId", r."destinationAccountId",
           r."amountMinor", r.currency, r."counterpartyCountry", r.decision::screening_decision, r.reasons, r."ruleVersion", r."riskScore", r.actor,
           r."decidedAt", r."latencyMicros", decode(r.response, 'base64')
    FROM jsonb_to_recordset(${json}::jsonb) AS r(id uuid, "idempotencyKey" text, "requestHash" text, "referenceId" text, "movementKind" text,
           "ownerId" text, "sourceAccountId" text, "destinationAccountId" text, "amountMinor" bigint, currency text, "counterpartyCountry" text,
           decision text, reasons jsonb, "ruleVersion" text, "riskScore" int, actor text, "decidedAt" timestamptz, "latencyMicros" int, response text)`;
  if (inserted !== rows.length) throw new Error(`insertScreenings: ${inserted} rows written, expected ${rows.length}`);
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
