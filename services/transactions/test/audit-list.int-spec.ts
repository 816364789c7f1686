/**
 * AuditService.ListAuditRecords over a real gRPC socket against a throwaway Postgres: keyset paging by
 * page token (complete, ordered, no overlap, no empty trailing page), entity filters, the page-size cap,
 * and malformed tokens refused as INVALID_ARGUMENT.
 */
import { randomUUID } from 'node:crypto';
import { descriptorSetPath, paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createGrpcClient, createGrpcServer, type GrpcServerHandle, unaryCall, unaryService } from '@tessera/grpc';
import { AuditTrail } from '../src/audit/audit-trail';
import { AuditCheckpoints } from '../src/audit/audit-checkpoints';
import { AuditGrpc } from '../src/audit/audit.grpc';
import { transactionsConfigSchema } from '../src/config';
import { PrismaService } from '../src/platform/prisma.provider';
import { freePort } from '@tessera/testing';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(60_000);

let db: ThrowawayDb;
let prisma: PrismaService;
let audit: AuditTrail;
let server: GrpcServerHandle;
let client: paymentsV1.AuditServiceClient;

const transferA = randomUUID();
const transferB = randomUUID();
const account = randomUUID();
/** entity per appended record, in seq order (seq 1..25) */
const written: { entityType: string; entityId: string; action: string }[] = [];

beforeAll(async () => {
  db = await throwawayDb('auditlist');
  prisma = new PrismaService(transactionsConfigSchema.parse({ TRANSACTIONS_DATABASE_URL: db.url, TRANSACTIONS_DB_POOL_MAX: '4' }));
  audit = new AuditTrail(prisma);
  server = await createGrpcServer({
    port: await freePort(),
    host: '127.0.0.1',
    descriptorSetPath,
    services: [
      {
        definition: paymentsV1.AuditServiceService,
        implementation: unaryService(
          paymentsV1.AuditServiceService,
          new AuditGrpc(
            audit,
            new AuditCheckpoints(transactionsConfigSchema.parse({ TRANSACTIONS_AUDIT_CHECKPOINT_MS: '0' }), prisma),
          ).implementation(),
        ),
      },
    ],
  });
  client = createGrpcClient(paymentsV1.AuditServiceClient, `127.0.0.1:${server.port}`, { retry: 'none', defaultDeadlineMs: 10_000 });
  // 25 records interleaving three entities: A gets every 3rd, B every 3rd+1, the account the rest.
  for (let i = 0; i < 25; i++) {
    const e =
      i % 3 === 0
        ? { entityType: 'transfer', entityId: transferA }
        : i % 3 === 1
          ? { entityType: 'transfer', entityId: transferB }
          : { entityType: 'account', entityId: account };
    const action = `${e.entityType}.step${i}`;
    await prisma.client.$transaction((tx) => audit.append(tx, { actor: `user-${i % 2}`, action, ...e, payload: { i, reasons: ['test'] } }));
    written.push({ ...e, action });
  }
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  await prisma?.onApplicationShutdown();
  await db?.drop();
});

async function listAll(filter: { entityType?: string; entityId?: string }, pageSize: number) {
  const pages: paymentsV1.AuditRecord[][] = [];
  let pageToken = '';
  do {
    const res = await unaryCall(client, 'listAuditRecords', {
      page: { pageSize, pageToken },
      entityType: filter.entityType ?? '',
      entityId: filter.entityId ?? '',
    });
    pages.push(res.records);
    pageToken = res.page?.nextPageToken ?? '';
    if (pages.length > 100) throw new Error('paging does not terminate');
  } while (pageToken !== '');
  return pages;
}

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

describe('AuditService.ListAuditRecords', () => {
  it('pages through the whole chain by token: complete, oldest first, no overlap, linked hashes', async () => {
    const pages = await listAll({}, 4);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    const records = pages.flat();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(i + 1)));
    expect(records.map((r) => ({ entityType: r.entityType, entityId: r.entityId, action: r.action }))).toEqual(written);
    for (let i = 1; i < records.length; i++) expect(records[i]!.prevHash).toBe(records[i - 1]!.hash);
    // What was listed is what is stored, and the payload is the canonical JSON of what was appended.
    const { rows } = await db.client.query<{ seq: string; hash: string; actor: string }>(
      'SELECT seq, hash, actor FROM audit_records ORDER BY seq',
    );
    expect(records.map((r) => [r.seq.toString(), r.hash, r.actor])).toEqual(rows.map((r) => [r.seq, r.hash, r.actor]));
    expect(JSON.parse(records[7]!.payloadJson)).toEqual({ i: 7, reasons: ['test'] });
    expect(records[0]!.occurredAt).toBeInstanceOf(Date);
  });

  it('ends with an empty token on an exactly full last page (no empty trailing page)', async () => {
    expect((await listAll({}, 5)).map((p) => p.length)).toEqual([5, 5, 5, 5, 5]);
    expect((await listAll({}, 25)).map((p) => p.length)).toEqual([25]);
  });

  it('filters by entity id, and by entity type, across pages', async () => {
    const b = (await listAll({ entityType: 'transfer', entityId: transferB }, 3)).flat();
    const expectedB = written.flatMap((w, i) => (w.entityId === transferB ? [BigInt(i + 1)] : []));
    expect(b.map((r) => r.seq)).toEqual(expectedB);
    expect(new Set(b.map((r) => r.entityId))).toEqual(new Set([transferB]));

    const byIdOnly = (await listAll({ entityId: transferA }, 2)).flat();
    expect(byIdOnly.map((r) => r.seq)).toEqual(written.flatMap((w, i) => (w.entityId === transferA ? [BigInt(i + 1)] : [])));

    const transfers = (await listAll({ entityType: 'transfer' }, 4)).flat();
    expect(transfers.map((r) => r.seq)).toEqual(written.flatMap((w, i) => (w.entityType === 'transfer' ? [BigInt(i + 1)] : [])));
    const accounts = (await listAll({ entityType: 'account' }, 100)).flat();
    expect(accounts).toHaveLength(written.filter((w) => w.entityType === 'account').length);

    expect((await listAll({ entityType: 'account', entityId: transferA }, 10)).flat()).toEqual([]);
    expect((await listAll({ entityId: randomUUID() }, 10)).flat()).toEqual([]);
  });

  it('defaults the page size to 50 and caps it at 500', async () => {
    await prisma.client.$transaction(
      async (tx) => {
        for (let i = 0; i < 480; i++)
          await audit.append(tx, {
            actor: 'bulk',
            action: 'transfer.bulk',
            entityType: 'transfer',
            entityId: randomUUID(),
            payload: { i },
          });
      },
      { timeout: 30_000 },
    );
    const byDefault = await unaryCall(client, 'listAuditRecords', paymentsV1.ListAuditRecordsRequest.fromPartial({}));
    expect(byDefault.records).toHaveLength(50);
    expect(byDefault.page?.nextPageToken).toBe('50');
    const capped = await unaryCall(
      client,
      'listAuditRecords',
      paymentsV1.ListAuditRecordsRequest.fromPartial({ page: { pageSize: 10_000 } }),
    );
    expect(capped.records).toHaveLength(500);
    expect(capped.page?.nextPageToken).not.toBe('');
    const rest = await unaryCall(
      client,
      'listAuditRecords',
      paymentsV1.ListAuditRecordsRequest.fromPartial({ page: { pageSize: 10_000, pageToken: capped.page!.nextPageToken } }),
    );
    expect(rest.records.map((r) => r.seq)).toEqual(Array.from({ length: 5 }, (_, i) => BigInt(501 + i)));
    expect(rest.page?.nextPageToken).toBe('');
  });

  it('refuses a malformed page token as INVALID_ARGUMENT naming the field; a token past the end is an empty page', async () => {
    for (const pageToken of ['abc', '-1', '1.5', '12345678901234567890']) {
      const err = await refusal(
        unaryCall(client, 'listAuditRecords', paymentsV1.ListAuditRecordsRequest.fromPartial({ page: { pageSize: 10, pageToken } })),
      );
      expect(err).toMatchObject({ code: 'PAYMENTS.INVALID_PAGE_TOKEN', kind: 'INVALID_ARGUMENT' });
      expect(err.fieldViolations).toEqual([{ field: 'page.page_token', description: 'malformed' }]);
    }
    const past = await unaryCall(
      client,
      'listAuditRecords',
      paymentsV1.ListAuditRecordsRequest.fromPartial({ page: { pageSize: 10, pageToken: '999999' } }),
    );
    expect(past).toMatchObject({ records: [], page: { nextPageToken: '' } });
  });

  it('refuses a token above int64 max as INVALID_ARGUMENT', async () => {
    const err = await refusal(
      unaryCall(
        client,
        'listAuditRecords',
        paymentsV1.ListAuditRecordsRequest.fromPartial({ page: { pageSize: 10, pageToken: '9999999999999999999' } }),
      ),
    );
    expect(err).toMatchObject({ code: 'PAYMENTS.INVALID_PAGE_TOKEN', kind: 'INVALID_ARGUMENT' });
  });
});
