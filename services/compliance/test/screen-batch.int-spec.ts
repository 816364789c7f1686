/**
 * ScreenBatch over a real gRPC socket against a throwaway Postgres: a batch decides exactly what the same Screens
 * sent one after another would, in one transaction, replays by key, and still enforces velocity across concurrent
 * calls. The window boundary is checked through ScreenHandler with a fake clock. Plaintext, like screen-review; the
 * service-only policy over mTLS is in screen-mtls.int-spec.ts and compliance.policy.spec.ts.
 */
import { randomUUID } from 'node:crypto';
import { complianceV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { ScreenHandler } from '../src/screening/screen/screen.handler';
import type { ScreeningInput } from '../src/screening/screening';
import { type Harness, startCompliance } from './support/harness';
import { rejection, screenRequest } from './support/screening';

jest.setTimeout(60_000);
process.env['LOG_LEVEL'] ??= 'warn';

const { DECISION_APPROVE: APPROVE, DECISION_REVIEW: REVIEW, DECISION_DECLINE: DECLINE } = complianceV1.Decision;

let h: Harness;
let auth: TestAuth;
let client: complianceV1.ComplianceServiceClient;

const requests = (n: number, overrides: Partial<complianceV1.ScreeningSubject>) =>
  Array.from({ length: n }, () => screenRequest(overrides));
const screenBatch = (items: complianceV1.ScreenRequest[]) => unaryCall(client, 'screenBatch', { items });
const freshOwner = () => `owner-${randomUUID()}`;
const count = async (sql: string, params: unknown[]) => (await h.db.query(sql, params)).rows[0].n as number;
const screeningsOf = (ownerId: string) => count('SELECT count(*)::int AS n FROM screenings WHERE owner_id = $1', [ownerId]);
const alertsOf = (transferIds: string[]) =>
  count('SELECT count(*)::int AS n FROM alerts WHERE held_transfer_id = ANY($1::text[])', [transferIds]);

beforeAll(async () => {
  auth = await startTestAuth();
  h = await startCompliance({
    ...auth.env,
    COMPLIANCE_MONITOR_ENABLED: 'false',
    KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092',
  });
  client = createGrpcClient(complianceV1.ComplianceServiceClient, h.addr, { retry: 'none', defaultDeadlineMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  await h?.close();
  auth?.close();
});

describe('ComplianceService.ScreenBatch', () => {
  it('decides like the same Screens sent one after another (velocity.burst_count) and raises the review alerts', async () => {
    const batchOwner = freshOwner();
    const batch = await screenBatch(requests(12, { ownerId: batchOwner }));
    const sequential: complianceV1.ScreenResponse[] = [];
    for (const req of requests(12, { ownerId: freshOwner() })) sequential.push(await unaryCall(client, 'screen', req));

    const summary = (rs: complianceV1.ScreenResponse[]) =>
      rs.map((r) => ({ decision: r.decision, codes: r.reasons.map((x) => x.ruleId), riskScore: r.riskScore }));
    expect(summary(batch.items)).toEqual(summary(sequential));
    expect(batch.items.map((r) => r.decision)).toEqual([...Array<number>(10).fill(APPROVE), REVIEW, REVIEW]);
    expect(batch.items[10]!.reasons.map((r) => r.ruleId)).toEqual(['velocity.burst_count']);

    const { rows } = await h.db.query(
      `SELECT a.rule_id, a.severity, a.held_transfer_id, s.reference_id, (SELECT count(*)::int FROM alert_actions x WHERE x.alert_id = a.id AND x.action = 'raised') AS raised
       FROM screenings s JOIN alerts a ON a.dedupe_key = 'screening:' || s.id::text WHERE s.owner_id = $1 ORDER BY s.reference_id`,
      [batchOwner],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows)
      expect(row).toEqual({
        rule_id: 'velocity.burst_count',
        severity: 'MEDIUM',
        held_transfer_id: row.reference_id,
        reference_id: row.reference_id,
        raised: 1,
      });
  });

  it('replays a retried batch: the same responses, nothing new written', async () => {
    const ownerId = freshOwner();
    const items = requests(11, { ownerId });
    const first = await screenBatch(items);
    const again = await screenBatch(items);
    expect(again).toEqual(first);
    expect(new Set(first.items.map((r) => r.screeningId)).size).toBe(11);
    expect(await screeningsOf(ownerId)).toBe(11);
    expect(await alertsOf(items.map((r) => r.subject!.referenceId))).toBe(1);
  });

  it('replays an already screened key among new ones and decides the new ones after the stored history', async () => {
    const ownerId = freshOwner();
    const earlier = requests(10, { ownerId });
    const decidedEarlier = await screenBatch(earlier);
    const fresh = requests(2, { ownerId });
    const res = await screenBatch([fresh[0]!, earlier[3]!, fresh[1]!]);
    expect(res.items[1]).toEqual(decidedEarlier.items[3]);
    // The replayed one is history, not a new movement: both new ones are the 11th and 12th.
    expect([res.items[0]!.decision, res.items[2]!.decision]).toEqual([REVIEW, REVIEW]);
    expect(await screeningsOf(ownerId)).toBe(12);
  });

  it('refuses a key reused for a different screening (COMPLIANCE.IDEMPOTENCY_KEY_REUSED) and writes nothing', async () => {
    const ownerId = freshOwner();
    const stored = screenRequest({ ownerId });
    await unaryCall(client, 'screen', stored);
    const fresh = screenRequest({ ownerId, counterpartyCountry: 'AF' });
    const reused = screenRequest({ ...stored.subject, amount: { amountMinor: 11n, currency: 'EUR' } }, stored.idempotencyKey);
    const error = await rejection(screenBatch([fresh, reused]));
    expect(error).toMatchObject({ code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED', kind: 'FAILED_PRECONDITION' });
    expect(await screeningsOf(ownerId)).toBe(1);
    expect(await alertsOf([fresh.subject!.referenceId])).toBe(0);
  });

  it('rejects an invalid item with field violations under items[i], and writes nothing', async () => {
    const ownerId = freshOwner();
    const items = [screenRequest({ ownerId }), screenRequest({ ownerId, amount: { amountMinor: 5n, currency: 'eur' } }, 'short')];
    const error = await rejection(screenBatch(items));
    expect(error).toMatchObject({ code: 'COMPLIANCE.INVALID_REQUEST', kind: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations?.map((v) => v.field).sort()).toEqual(['items[1].idempotency_key', 'items[1].subject.amount.currency']);
    expect(await screeningsOf(ownerId)).toBe(0);
  });

  it('rejects an empty batch, more than 100 items and a key used twice', async () => {
    expect(await rejection(screenBatch([]))).toMatchObject({
      kind: 'INVALID_ARGUMENT',
      fieldViolations: [{ field: 'items', description: '1..100 screenings' }],
    });
    const ownerId = freshOwner();
    expect((await rejection(screenBatch(requests(101, { ownerId })))).fieldViolations).toEqual([
      { field: 'items', description: '1..100 screenings' },
    ]);
    const twice = screenRequest({ ownerId });
    const dup = await rejection(screenBatch([twice, screenRequest({ ownerId }), twice]));
    expect(dup).toMatchObject({
      kind: 'INVALID_ARGUMENT',
      fieldViolations: [{ field: 'items[2].idempotency_key', description: 'same key as items[0]' }],
    });
    expect(await screeningsOf(ownerId)).toBe(0);
  });

  it('screens 100 items of many owners in one call', async () => {
    const owners = Array.from({ length: 7 }, freshOwner);
    const items = Array.from({ length: 100 }, (_, i) => screenRequest({ ownerId: owners[i % owners.length]! }));
    const res = await screenBatch(items);
    expect(res.items.map((r) => r.decision)).toEqual(
      Array<number>(100)
        .fill(APPROVE)
        .map((d, i) => (Math.floor(i / owners.length) >= 10 ? REVIEW : d)),
    );
    expect(await count('SELECT count(*)::int AS n FROM screenings WHERE owner_id = ANY($1::text[])', [owners])).toBe(100);
  });

  it('enforces velocity across concurrent batches of one owner: never more than 10 approved in the burst window', async () => {
    for (let round = 0; round < 3; round++) {
      const ownerId = freshOwner();
      const batches = await Promise.all([0, 1, 2, 3].map(() => screenBatch(requests(8, { ownerId }))));
      const decisions = batches.flatMap((b) => b.items.map((r) => r.decision));
      expect(decisions.filter((d) => d === APPROVE)).toHaveLength(10);
      expect(decisions.filter((d) => d === REVIEW)).toHaveLength(22);
      // Each batch is decided as a whole after the ones before it: the first is all approved.
      expect(batches.filter((b) => b.items.every((r) => r.decision === APPROVE))).toHaveLength(1);
    }
  });

  it('does not deadlock when concurrent batches and Screens take the same owners in different orders', async () => {
    const owners = Array.from({ length: 4 }, freshOwner);
    const calls = Array.from({ length: 8 }, (_, c) => {
      const order = c % 2 === 0 ? owners : [...owners].reverse();
      return screenBatch(order.map((ownerId) => screenRequest({ ownerId })));
    });
    const singles = owners.map((ownerId) => unaryCall(client, 'screen', screenRequest({ ownerId })));
    const results = await Promise.all([...calls, ...singles]);
    expect(results).toHaveLength(12);
    expect(await count('SELECT count(*)::int AS n FROM screenings WHERE owner_id = ANY($1::text[])', [owners])).toBe(36);
  });
});

describe('ScreenHandler velocity windows (fake clock)', () => {
  const at = (ms: number) => () => new Date(Date.UTC(2031, 0, 1) + ms);
  const input = (ownerId: string, amountMinor = 10_000n): ScreeningInput => ({
    referenceId: randomUUID(),
    movementKind: 'transfer',
    ownerId,
    sourceAccountId: 'src',
    destinationAccountId: 'dst',
    amountMinor,
    currency: 'EUR',
    counterpartyName: '',
    counterpartyCountry: 'DE',
  });
  const items = (ownerId: string, n: number, amountMinor?: bigint) =>
    Array.from({ length: n }, () => ({ idempotencyKey: `clk-${randomUUID()}`, input: input(ownerId, amountMinor) }));

  it('counts a screening while it is inside the window, not once it is exactly the window old', async () => {
    const handler = h.app.get(ScreenHandler);
    const inside = freshOwner();
    const boundary = freshOwner();
    for (const ownerId of [inside, boundary]) {
      expect((await handler.executeBatch(items(ownerId, 10), 'test', at(0))).map((r) => r.decision)).toEqual(
        Array<number>(10).fill(APPROVE),
      );
    }
    expect((await handler.execute(`clk-${randomUUID()}`, input(inside), 'test', at(59_999))).decision).toBe(REVIEW);
    expect((await handler.execute(`clk-${randomUUID()}`, input(boundary), 'test', at(60_000))).decision).toBe(APPROVE);
  });

  it('sums amounts per rolling 24 hours in SQL (daily limit), declined movements not counted', async () => {
    const handler = h.app.get(ScreenHandler);
    const ownerId = freshOwner();
    // dailyMax EUR 10,000,000: 3 x 3,000,000 (REVIEW each: over the per-transfer review threshold) and a declined 6,000,000.
    await handler.executeBatch([...items(ownerId, 3, 3_000_000n), ...items(ownerId, 1, 6_000_000n)], 'test', at(0));
    const later = await handler.execute(`clk-${randomUUID()}`, input(ownerId, 1_000_001n), 'test', at(86_399_999));
    expect(later.reasons.map((r) => r.code)).toContain('COMPLIANCE.DAILY_LIMIT_EXCEEDED');
    expect(later.decision).toBe(DECLINE);
    const nextDay = await handler.execute(`clk-${randomUUID()}`, input(ownerId, 1_000_001n), 'test', at(86_400_000));
    expect(nextDay.reasons.map((r) => r.code)).not.toContain('COMPLIANCE.DAILY_LIMIT_EXCEEDED');
  });
});
