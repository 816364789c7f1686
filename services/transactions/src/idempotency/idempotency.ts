import { Injectable } from '@nestjs/common';
import { actorOf } from '@tessera/auth';
import { currentCallContext } from '@tessera/grpc';
import { withSerializableRetry } from '@tessera/db';
import { AppError, type ErrorKind, isAppError } from '@tessera/errors';
import { Prisma } from '../generated/prisma/client';
import { AuditTrail } from '../audit/audit-trail';
import { PrismaService } from '../platform/prisma.provider';
import { ledgerErrors } from '../ledger/ledger.errors';
import { flushWriteSet, openWriteSet } from '../ledger/write-set';

/** The encode/decode pair of a ts-proto response message: replays return the first response byte for byte. */
export interface ResponseCodec<R> {
  encode(message: R): { finish(): Uint8Array };
  decode(input: Uint8Array): R;
}

export interface IdempotentCall<R> {
  /**
   * The key space: RPC name and caller, `callerScope('payments.CreateTransfer')`. The same key may be used once per RPC
   * and caller; another caller's key of the same name is another key.
   */
  scope: string;
  key: string;
  /** sha256 of the request without its key (see `fingerprint`). */
  fingerprint: string;
  codec: ResponseCodec<R>;
  /** Replays keys committed before responses were stored (OpenAccount's first version kept only the account id). */
  legacy?: (resourceId: string) => Promise<R>;
  /**
   * Money-path calls keep their key when the work refuses for good (a definite refusal: invalid, not found,
   * failed precondition such as insufficient funds): the refusal is stored and replayed to every retry with the
   * same key and body, so a client never sees a different answer for one request (issue #10, defect 2).
   * `audit` writes the refusal's audit record in the same transaction as the stored refusal.
   */
  refusals?: { audit(tx: Prisma.TransactionClient, refusal: AppError): Promise<void> };
  /**
   * The work's writes are collected and sent in one statement at the end with the key's response and the audit
   * records (see WriteSet). Only for work that does not read back what it wrote: CreateTransfer,
   * CreateTransferBatch and OpenAccount.
   */
  oneWriteStatement?: boolean;
}

export interface IdempotentResult<R> {
  response: R;
  /** True when this call replayed an earlier, committed response and wrote nothing. */
  replayed: boolean;
}

const TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * The key space of one RPC for the caller making it: `payments.CreateTransfer@<principal>` (the verified principal's
 * subject, `apikey:<id>` for an API key, `service:<cn>` for a service acting alone). Keys used to be global per RPC:
 * another caller reusing a key learnt it existed (422) and could block a predictable one (issue #13), where payment
 * APIs scope keys per account. Call in the request's context (the handler), not in a coalesced batch.
 */
export function callerScope(rpc: string, actor: string = actorOf(currentCallContext())): string {
  return `${rpc}@${actor}`;
}

/** The scope a key had before keys were scoped per caller (`payments.CreateTransfer`), or undefined. */
function legacyScopeOf(scope: string): string | undefined {
  const at = scope.indexOf('@');
  return at > 0 ? scope.slice(0, at) : undefined;
}
/** Refusals that will not change on a retry of the same request; anything else (unavailable, internal) may. */
const DEFINITE: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'NOT_FOUND']);
/**
 * Interactive transactions wait behind row locks and the audit chain lock under load; 5 s (Prisma's default) is too
 * tight. READ COMMITTED is every pool connection's session default (@tessera/db createPrismaClient), so no
 * `isolationLevel` here: passing one costs a `SET TRANSACTION` round trip per transaction.
 */
const TX_OPTIONS = { maxWait: 10_000, timeout: 20_000 } as const;

/**
 * Exactly-once effects per idempotency key, for every mutating RPC.
 *
 * `transact` claims the key with INSERT .. ON CONFLICT DO NOTHING inside the business transaction, runs
 * the work, and stores the encoded response in the same transaction. A concurrent call with the same key
 * blocks on the claimed key row until the first commits, then (READ COMMITTED: the next statement sees
 * the commit) replays its response; if the first rolled back, the second claims the key and runs.
 * Deadlocks and serialization failures re-run the whole transaction.
 *
 * With `refusals`, a definite refusal thrown by the work rolls the work back and then claims the key for the
 * refusal in a second short transaction (nothing is paid on the happy path). If another attempt committed the
 * key in between, that attempt's outcome is replayed instead: every attempt ends with the one committed answer.
 */
@Injectable()
export class IdempotencyStore {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Until when keys stored before they were scoped per caller (scope without `@`) can still be replayed: their latest
   * expiry, read once (0: none, as on every database created since). Such a key was committed before the upgrade and is
   * never written again, so a retry across the upgrade replays it as before (global, as it was) instead of running twice.
   */
  private legacyUntil: Promise<number> | undefined;

  private async legacyOpen(): Promise<boolean> {
    this.legacyUntil ??= this.prisma.client.$queryRaw<Array<{ until: Date | null }>>`
      SELECT max(expires_at) AS until FROM idempotency_keys WHERE strpos(scope, '@') = 0`.then(
      (rows) => rows[0]?.until?.getTime() ?? 0,
      (err: unknown) => {
        this.legacyUntil = undefined; // ask again next time
        throw err;
      },
    );
    return (await this.legacyUntil) > Date.now();
  }

  /** The replay of a key committed before keys were scoped per caller, if there is one (see legacyUntil). */
  private async legacyReplay<R>(call: IdempotentCall<R>): Promise<IdempotentResult<R> | undefined> {
    const legacy = legacyScopeOf(call.scope);
    if (legacy === undefined || !(await this.legacyOpen())) return undefined;
    const row = await this.prisma.client.idempotencyKey.findUnique({ where: { scope_key: { scope: legacy, key: call.key } } });
    return row ? { response: await replayOf(row, call), replayed: true } : undefined;
  }

  /** A committed response for this key, without a transaction; lets callers skip screening on a retry. */
  async peek<R>(call: IdempotentCall<R>): Promise<R | undefined> {
    const row = await this.prisma.client.idempotencyKey.findUnique({ where: { scope_key: { scope: call.scope, key: call.key } } });
    if (row) return await replayOf(row, call);
    return (await this.legacyReplay(call))?.response;
  }

  /**
   * `peek` for several calls in one query: per call, a function giving what `peek` would (the committed response,
   * undefined, or the stored refusal / KEY_REUSED thrown).
   */
  async peekMany<R>(calls: readonly IdempotentCall<R>[]): Promise<Array<() => Promise<R | undefined>>> {
    // Keys stored before they were scoped per caller are looked up in the same statement while they can exist.
    const legacy = (await this.legacyOpen())
      ? calls.flatMap((c) => {
          const l = legacyScopeOf(c.scope);
          return l === undefined ? [] : [{ scope: l, key: c.key }];
        })
      : [];
    const wanted = [...calls, ...legacy];
    // Raw (the primary key per pair): Prisma's findMany with an OR per key compiled a new query plan for every count.
    const rows = await this.prisma.client.$queryRaw<
      Array<{
        scope: string;
        key: string;
        requestHash: string;
        response: Uint8Array | null;
        resourceId: string | null;
        refusal: Prisma.JsonValue | null;
      }>
    >`
      SELECT i.scope, i.key, i.request_hash AS "requestHash", i.response, i.resource_id::text AS "resourceId", i.refusal
      FROM idempotency_keys AS i JOIN unnest(${wanted.map((c) => c.scope)}::text[], ${wanted.map((c) => c.key)}::text[]) AS k(scope, key)
        ON i.scope = k.scope AND i.key = k.key`;
    const byKey = new Map(rows.map((r) => [`${r.scope}\u0000${r.key}`, r]));
    return calls.map((call) => {
      const row = byKey.get(`${call.scope}\u0000${call.key}`) ?? byKey.get(`${legacyScopeOf(call.scope)}\u0000${call.key}`);
      return async () => (row ? await replayOf(row, call) : undefined);
    });
  }

  async transact<R>(
    call: IdempotentCall<R>,
    work: (tx: Prisma.TransactionClient) => Promise<{ response: R; transferId?: string; resourceId?: string }>,
  ): Promise<IdempotentResult<R>> {
    const legacy = await this.legacyReplay(call);
    if (legacy) return legacy;
    try {
      return await this.run(call, work);
    } catch (error) {
      if (!call.refusals || !isDefiniteRefusal(error)) throw error;
      return this.refuse(call, error, call.refusals.audit);
    }
  }

  /** Stores a definite refusal under the key (or replays whatever another attempt committed first), then throws. */
  private async refuse<R>(
    call: IdempotentCall<R>,
    refusal: AppError,
    audit: (tx: Prisma.TransactionClient, refusal: AppError) => Promise<void>,
  ): Promise<IdempotentResult<R>> {
    const replay = await withSerializableRetry(() =>
      this.prisma.client.$transaction(async (tx) => {
        const replay = await claimOrReplay(tx, call, refusal);
        if (replay) return replay;
        await audit(tx, refusal);
        return undefined;
      }, TX_OPTIONS),
    );
    if (replay) return replay;
    throw refusal;
  }

  /**
   * Independent calls of one scope in ONE transaction (CreateTransfer's coalesced posting, issue #10): the keys are
   * claimed in one statement (in key order, so two such transactions never wait on each other's keys in a cycle),
   * `work` runs for the calls whose keys this transaction claimed (`owned`, indexes into `calls`, in order) and returns
   * for each either its outcome or the definite refusal it ended with, already audited by `work`. The responses and
   * refusals are stored under their keys with the work's other writes, in one statement (`oneWriteStatement`), and
   * everything commits together, exactly as if each call had run alone one after another.
   *
   * Per call: its result, its refusal (to throw to its caller), or undefined when another attempt holds or committed
   * its key: run that call alone (`transact`), which replays the committed outcome. A failure of the whole transaction
   * throws; deadlocks and serialization failures re-run it first.
   */
  transactMany<R>(
    calls: readonly IdempotentCall<R>[],
    work: (
      tx: Prisma.TransactionClient,
      owned: readonly number[],
    ) => Promise<Array<{ response: R; transferId?: string; resourceId?: string } | AppError>>,
  ): Promise<Array<IdempotentResult<R> | AppError | undefined>> {
    if (new Set(calls.map((c) => `${c.scope}\u0000${c.key}`)).size !== calls.length) throw new Error('transactMany: the same key twice');
    return this.legacyCollision(calls).then((collides) => (collides ? calls.map(() => undefined) : this.claimMany(calls, work)));
  }

  /** Whether any of `calls` has a key committed before keys were scoped per caller: then each runs alone and replays. */
  private async legacyCollision<R>(calls: readonly IdempotentCall<R>[]): Promise<boolean> {
    if (!(await this.legacyOpen())) return false;
    const legacy = calls.flatMap((c) => {
      const l = legacyScopeOf(c.scope);
      return l === undefined ? [] : [{ scope: l, key: c.key }];
    });
    if (legacy.length === 0) return false;
    const rows = await this.prisma.client.$queryRaw<Array<{ found: boolean }>>`
      SELECT EXISTS (SELECT 1 FROM idempotency_keys AS i JOIN unnest(${legacy.map((c) => c.scope)}::text[], ${legacy.map((c) => c.key)}::text[]) AS k(scope, key)
        ON i.scope = k.scope AND i.key = k.key) AS found`;
    return rows[0]?.found === true;
  }

  private claimMany<R>(
    calls: readonly IdempotentCall<R>[],
    work: (
      tx: Prisma.TransactionClient,
      owned: readonly number[],
    ) => Promise<Array<{ response: R; transferId?: string; resourceId?: string } | AppError>>,
  ): Promise<Array<IdempotentResult<R> | AppError | undefined>> {
    return withSerializableRetry(() =>
      this.prisma.client.$transaction(async (tx) => {
        const results: Array<IdempotentResult<R> | AppError | undefined> = calls.map(() => undefined);
        const order = calls.map((_, i) => i).sort((a, b) => compareKeys(calls[a] as IdempotentCall<R>, calls[b] as IdempotentCall<R>));
        // Raw, one statement whatever the count (Prisma's createManyAndReturn compiled a plan per row count).
        const ordered = order.map((i) => calls[i] as IdempotentCall<R>);
        const claimed = await tx.$queryRaw<Array<{ scope: string; key: string }>>`
          INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)
          SELECT k.scope, k.key, k.hash, ${new Date(Date.now() + TTL_MS)}::timestamptz
          FROM unnest(${ordered.map((c) => c.scope)}::text[], ${ordered.map((c) => c.key)}::text[], ${ordered.map((c) => c.fingerprint)}::text[])
            WITH ORDINALITY AS k(scope, key, hash, ord)
          ORDER BY k.ord
          ON CONFLICT DO NOTHING
          RETURNING scope, key`;
        const mine = new Set(claimed.map((c) => `${c.scope}\u0000${c.key}`));
        const owned = calls.map((_, i) => i).filter((i) => mine.has(`${calls[i]?.scope}\u0000${calls[i]?.key}`));
        if (owned.length === 0) return results;
        this.audit.defer(tx);
        const set = openWriteSet(tx);
        const outcomes = await work(tx, owned);
        if (outcomes.length !== owned.length)
          throw new Error(`transactMany: work returned ${outcomes.length} outcomes for ${owned.length} calls`);
        owned.forEach((i, n) => {
          const call = calls[i] as IdempotentCall<R>;
          const outcome = outcomes[n] as (typeof outcomes)[number];
          if (isAppError(outcome)) {
            set.idempotency.push({
              scope: call.scope,
              key: call.key,
              response: null,
              transferId: null,
              resourceId: null,
              refusal: refusalJson(outcome),
            });
            results[i] = outcome;
          } else {
            const response = call.codec.encode(outcome.response).finish();
            set.idempotency.push({
              scope: call.scope,
              key: call.key,
              response: Buffer.from(response).toString('base64'),
              transferId: outcome.transferId ?? null,
              resourceId: outcome.resourceId ?? null,
              refusal: null,
            });
            results[i] = { response: outcome.response, replayed: false };
          }
        });
        await this.audit.flush(tx);
        await flushWriteSet(tx);
        return results;
      }, TX_OPTIONS),
    );
  }

  private run<R>(
    call: IdempotentCall<R>,
    work: (tx: Prisma.TransactionClient) => Promise<{ response: R; transferId?: string; resourceId?: string }>,
  ): Promise<IdempotentResult<R>> {
    return withSerializableRetry(() =>
      this.prisma.client.$transaction(async (tx) => {
        const replay = await claimOrReplay(tx, call);
        if (replay) return replay;
        // The work's audit records are staged in one statement at the end and chained at COMMIT (see AuditTrail).
        this.audit.defer(tx);
        const set = call.oneWriteStatement ? openWriteSet(tx) : undefined;
        const out = await work(tx);
        const response = call.codec.encode(out.response).finish();
        if (set) {
          set.idempotency.push({
            scope: call.scope,
            key: call.key,
            response: Buffer.from(response).toString('base64'),
            transferId: out.transferId ?? null,
            resourceId: out.resourceId ?? null,
            refusal: null,
          });
        } else {
          await tx.idempotencyKey.update({
            where: { scope_key: { scope: call.scope, key: call.key } },
            data: { response: new Uint8Array(response), transferId: out.transferId ?? null, resourceId: out.resourceId ?? null },
          });
        }
        await this.audit.flush(tx);
        await flushWriteSet(tx);
        return { response: out.response, replayed: false };
      }, TX_OPTIONS),
    );
  }
}

const compareKeys = (a: { scope: string; key: string }, b: { scope: string; key: string }) =>
  a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/** A refusal a retry of the same request gets again (invalid, not found, failed precondition): stored under its key. */
export function isDefiniteRefusal(err: unknown): err is AppError {
  return isAppError(err) && DEFINITE.has(err.kind) && err.code !== 'PAYMENTS.IDEMPOTENCY_KEY_REUSED';
}

/**
 * Claims the key (with `refusal` stored when given). When another attempt holds it, INSERT .. ON CONFLICT waits for
 * that attempt to end, and its committed outcome is returned for replay; undefined means this attempt owns the key.
 */
async function claimOrReplay<R>(
  tx: Prisma.TransactionClient,
  call: IdempotentCall<R>,
  refusal?: AppError,
): Promise<IdempotentResult<R> | undefined> {
  const claimed = await tx.idempotencyKey.createMany({
    data: [
      {
        scope: call.scope,
        key: call.key,
        requestHash: call.fingerprint,
        expiresAt: new Date(Date.now() + TTL_MS),
        ...(refusal ? { refusal: refusalJson(refusal) } : {}),
      },
    ],
    skipDuplicates: true,
  });
  if (claimed.count > 0) return undefined;
  const row = await tx.idempotencyKey.findUniqueOrThrow({ where: { scope_key: { scope: call.scope, key: call.key } } });
  return { response: await replayOf(row, call), replayed: true };
}

async function replayOf<R>(
  row: { requestHash: string; response: Uint8Array | null; resourceId: string | null; refusal?: Prisma.JsonValue | null },
  call: IdempotentCall<R>,
): Promise<R> {
  if (row.requestHash !== call.fingerprint) throw ledgerErrors.idempotencyKeyReused();
  if (row.refusal) throw refusalFrom(row.refusal);
  if (!row.response && row.resourceId && call.legacy) return call.legacy(row.resourceId);
  // A committed key always has its response (stored in the claiming transaction); anything else is corruption.
  if (!row.response) throw new Error(`idempotency key in ${call.scope} has no stored response`);
  return call.codec.decode(row.response);
}

export { TX_OPTIONS as LEDGER_TX_OPTIONS };

interface StoredRefusal {
  code: string;
  kind: ErrorKind;
  message: string;
  metadata: Record<string, string>;
  fieldViolations?: { field: string; description: string }[];
}

function refusalJson(e: AppError): Prisma.InputJsonObject {
  const stored: StoredRefusal = {
    code: e.code,
    kind: e.kind,
    message: e.message,
    metadata: e.metadata,
    ...(e.fieldViolations ? { fieldViolations: e.fieldViolations } : {}),
  };
  return stored as unknown as Prisma.InputJsonObject;
}

/** The stored refusal as the AppError the first attempt threw (same code, kind, message, metadata). */
function refusalFrom(json: Prisma.JsonValue): AppError {
  const r = json as unknown as StoredRefusal;
  return new AppError({
    code: r.code,
    kind: r.kind,
    message: r.message,
    metadata: r.metadata,
    ...(r.fieldViolations ? { fieldViolations: r.fieldViolations } : {}),
  });
}
