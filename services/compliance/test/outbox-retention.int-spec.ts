/** The compliance outbox's retention (@tessera/db pruneSentOutbox through Prisma) on a real Postgres. */
import { randomUUID } from 'node:crypto';
import { OutboxRelay } from '../src/outbox/outbox.relay';
import { type Harness, startCompliance } from './support/harness';

jest.setTimeout(60_000);

let h: Harness;

beforeAll(async () => {
  // The relay's own schedule stays out of the way (first pass after 10 min): the test calls pruneIfDue itself.
  // No AML monitor: this spec is about the outbox, and a monitor joining the shared default group (a dead member's
  // session to wait out) would still be joining after the app closed, since the consumer starts in the background.
  h = await startCompliance({ COMPLIANCE_OUTBOX_POLL_MS: '600000', COMPLIANCE_OUTBOX_RETENTION_MS: '86400000', COMPLIANCE_MONITOR_ENABLED: 'false' });
});

afterAll(async () => {
  await h?.close();
});

it('deletes published rows past the retention window, once a minute at most, never unsent or recent ones', async () => {
  const row = async (sentAt: string | null, createdAt = 'now()') => {
    const id = randomUUID();
    await h.db.query(
      `INSERT INTO outbox_events (id, topic, key, type, subject, payload, created_at, sent_at)
       VALUES ($1, 'test.outbox-retention.v1', 'k', 'test.Type', 's', '\\x00', ${createdAt}, ${sentAt ?? 'NULL'})`,
      [id],
    );
    return id;
  };
  const old = [await row(`now() - interval '2 days'`), await row(`now() - interval '30 hours'`)];
  const recent = await row(`now() - interval '1 minute'`);
  const unsent = await row(null, `now() - interval '3 days'`);

  const relay = h.app.get(OutboxRelay);
  expect(await relay.pruneIfDue()).toBe(2);
  const again = await row(`now() - interval '2 days'`);
  expect(await relay.pruneIfDue()).toBe(0); // not due yet: once a minute
  expect(await relay.pruneIfDue(Date.now() + 61_000)).toBe(1);

  const { rows } = await h.db.query<{ id: string }>('SELECT id::text FROM outbox_events WHERE id = ANY($1::uuid[]) ORDER BY seq', [[...old, recent, unsent, again]]);
  expect(rows.map((r) => r.id)).toEqual([recent, unsent]);
});
