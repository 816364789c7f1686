/** The compliance outbox (@tessera/outbox) on a real Postgres: retention, and the upgrade of rows written before it. */
import { randomUUID } from 'node:crypto';
import { decodeEnvelope } from '@tessera/kafka';
import { waitFor } from '@tessera/testing';
import { reencodeLegacyRows } from '../src/outbox/legacy-rows';
import { OutboxRelay } from '../src/outbox/outbox.relay';
import { PrismaService } from '../src/platform/prisma.provider';
import { type Harness, startCompliance } from './support/harness';

jest.setTimeout(60_000);

let h: Harness;

beforeAll(async () => {
  // The relay's own schedule stays out of the way (after its first pass at start, the next after 10 min): the test calls
  // pruneIfDue itself.
  // No AML monitor: this spec is about the outbox, and a monitor joining the shared default group (a dead member's
  // session to wait out) would still be joining after the app closed, since the consumer starts in the background.
  h = await startCompliance({
    COMPLIANCE_OUTBOX_POLL_MS: '600000',
    COMPLIANCE_OUTBOX_RETENTION_MS: '86400000',
    COMPLIANCE_MONITOR_ENABLED: 'false',
  });
});

afterAll(async () => {
  await h?.close();
});

it('deletes published rows past the retention window, once a minute at most, never unsent or recent ones', async () => {
  const row = async (sentAt: string | null, createdAt = 'now()') => {
    const id = randomUUID();
    await h.db.query(
      `INSERT INTO outbox_events (id, topic, key, payload, created_at, sent_at)
       VALUES ($1, 'test.outbox-retention.v1', 'k', '\\x00', ${createdAt}, ${sentAt ?? 'NULL'})`,
      [id],
    );
    return id;
  };
  const old = [await row(`now() - interval '2 days'`), await row(`now() - interval '30 hours'`)];
  const recent = await row(`now() - interval '1 minute'`);
  const unsent = await row(null, `now() - interval '3 days'`);

  const relay = h.app.get(OutboxRelay);
  await waitFor('the relay leading (its session open)', () => relay.isLeader, { timeoutMs: 20_000 });
  // The relay pruned (nothing) when it started: the test's clock starts past that run's minute.
  const t0 = Date.now() + 61_000;
  expect(await relay.pruneIfDue(t0)).toBe(2);
  const again = await row(`now() - interval '2 days'`);
  expect(await relay.pruneIfDue(t0)).toBe(0); // not due yet: once a minute
  expect(await relay.pruneIfDue(t0 + 61_000)).toBe(1);

  const { rows } = await h.db.query<{ id: string }>('SELECT id::text FROM outbox_events WHERE id = ANY($1::uuid[]) ORDER BY seq', [
    [...old, recent, unsent, again],
  ]);
  expect(rows.map((r) => r.id)).toEqual([recent, unsent]);
});

it('re-encodes rows written before the shared outbox into the envelope the old relay would have published', async () => {
  const id = randomUUID();
  const data = Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63]);
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await h.db.query(
    `INSERT INTO outbox_events (id, topic, key, type, subject, payload, traceparent, created_at)
     VALUES ($1, 'test.outbox-legacy.v1', 'acc-1', 'tessera.compliance.v1.ComplianceAlert', 'alert-1', $2, $3, '2026-12-01T10:00:00Z')`,
    [id, data, traceparent],
  );
  const prisma = h.app.get(PrismaService);
  expect(await reencodeLegacyRows(prisma.client)).toBe(1);
  expect(await reencodeLegacyRows(prisma.client)).toBe(0); // once

  const { rows } = await h.db.query<{ payload: Buffer; type: string | null; subject: string | null; headers: { type: string } }>(
    'SELECT payload, type, subject, headers FROM outbox_events WHERE id = $1',
    [id],
  );
  expect(rows[0]).toMatchObject({ type: null, subject: null, headers: { type: 'tessera.compliance.v1.ComplianceAlert' } });
  const envelope = decodeEnvelope(rows[0]!.payload);
  expect(envelope).toMatchObject({
    id,
    type: 'tessera.compliance.v1.ComplianceAlert',
    subject: 'alert-1',
    source: 'compliance',
    traceparent,
    time: new Date('2026-12-01T10:00:00Z'),
  });
  expect(Buffer.from(envelope.data)).toEqual(data);
  await h.db.query('DELETE FROM outbox_events WHERE id = $1', [id]); // not for the relay to publish to a topic nobody made
});
