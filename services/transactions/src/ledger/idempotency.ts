import { Injectable } from '@nestjs/common';
import { withSerializableRetry } from '@tessera/db';
import { AppError, type ErrorKind, isAppError } from '@tessera/errors';
import { Prisma } from '../generated/prisma/client';
import { AuditTrail } from '../audit/audit-trail';
import { PrismaService } from '../platform/prisma.provider';
import { ledgerErrors } from './ledger.errors';
import { flushWriteSet, openWriteSet } from './write-set';

/** The encode/decode pair of a ts-proto response message: replays return the first response byte for byte. */
export interface ResponseCodec<R> {
  encode(message: R): { finish(): Uint8Array };
  decode(input: Uint8Array): R;
}

export interface IdempotentCall<R> {
  /** RPC name, e.g. `payments.CreateTransfer`: the same key may be used once per RPC. */
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
   * records (see WriteSet). Only for work that does not read back what it wrote: CreateTransfer and
   * CreateTransferBatch.
   */
  oneWriteStatement?: boolean;
}

export interface IdempotentResult<R> {
  response: R;
  /** True when this call replayed an earlier, committed response and wrote nothing. */
  replayed: boolean;
}

const TTL_MS = 7 * 24 * 3600 * 1000;
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

  /** A committed response for this key, without a transaction; lets callers skip screening on a retry. */
  async peek<R>(call: IdempotentCall<R>): Promise<R | undefined> {
    const row = await this.prisma.client.idempotencyKey.findUnique({ where: { scope_key: { scope: call.scope, key: call.key } } });
    return row ? await replayOf(row, call) : undefined;
  }

  async transact<R>(
    call: IdempotentCall<R>,
    work: (tx: Prisma.TransactionClient) => Promise<{ response: R; transferId?: string; resourceId?: string }>,
  ): Promise<IdempotentResult<R>> {
    try {
      return await this.run(call, work);
    } catch (error) {
      if (!call.refusals || !isAppError(error) || !DEFINITE.has(error.kind) || error.code === 'PAYMENTS.IDEMPOTENCY_KEY_REUSED') throw error;
      return this.refuse(call, error, call.refusals.audit);
    }
  }

  /** Stores a definite refusal under the key (or replays whatever another attempt committed first), then throws. */
  private async refuse<R>(call: IdempotentCall<R>, refusal: AppError, audit: (tx: Prisma.TransactionClient, refusal: AppError) => Promise<void>): Promise<IdempotentResult<R>> {
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
          set.idempotency = { scope: call.scope, key: call.key, response: Buffer.from(response).toString('base64'), transferId: out.transferId ?? null, resourceId: out.resourceId ?? null };
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

/**
 * Claims the key (with `refusal` stored when given). When another attempt holds it, INSERT .. ON CONFLICT waits for
 * that attempt to end, and its committed outcome is returned for replay; undefined means this attempt owns the key.
 */
async function claimOrReplay<R>(tx: Prisma.TransactionClient, call: IdempotentCall<R>, refusal?: AppError): Promise<IdempotentResult<R> | undefined> {
  const claimed = await tx.idempotencyKey.createMany({
    data: [{ scope: call.scope, key: call.key, requestHash: call.fingerprint, expiresAt: new Date(Date.now() + TTL_MS), ...(refusal ? { refusal: refusalJson(refusal) } : {}) }],
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
  const stored: StoredRefusal = { code: e.code, kind: e.kind, message: e.message, metadata: e.metadata, ...(e.fieldViolations ? { fieldViolations: e.fieldViolations } : {}) };
  return stored as unknown as Prisma.InputJsonObject;
}

/** The stored refusal as the AppError the first attempt threw (same code, kind, message, metadata). */
function refusalFrom(json: Prisma.JsonValue): AppError {
  const r = json as unknown as StoredRefusal;
  return new AppError({ code: r.code, kind: r.kind, message: r.message, metadata: r.metadata, ...(r.fieldViolations ? { fieldViolations: r.fieldViolations } : {}) });
}
