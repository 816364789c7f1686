/**
 * The invariants every chaos scenario ends with, read from the transactions database (and the audit endpoint):
 * money neither lost nor created, no operation lost, duplicated or left unsettled, the outbox drained, the audit chain
 * intact. Each is a named pass/fail with the numbers behind it, for the test's assertions and the report alike.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import type { Operation } from './transfer-load';

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PaymentsCheck {
  tx: Client;
  operations: Operation[];
  source: string;
  destination: string;
  /** GET /v1/audit/verify's answer. */
  verifyAudit: () => Promise<{ valid: boolean; recordsChecked: string; failureReason: string | null }>;
}

const check = (name: string, ok: boolean, detail: string): Invariant => ({ name, ok, detail });

export async function paymentInvariants(c: PaymentsCheck): Promise<Invariant[]> {
  const acked = c.operations.filter((o) => o.outcome === 'acked');
  const unsettled = c.operations.filter((o) => o.outcome === 'unsettled');
  const out: Invariant[] = [];

  const { rows: sums } = await c.tx.query<{ currency: string; net: string }>(
    `SELECT currency, sum(CASE direction WHEN 'CREDIT' THEN amount_minor ELSE -amount_minor END)::text AS net FROM postings GROUP BY currency`,
  );
  out.push(
    check(
      'postings sum to zero',
      sums.every((r) => r.net === '0'),
      sums.map((r) => `${r.currency} ${r.net}`).join(', ') || 'no postings',
    ),
  );

  const { rows: drift } = await c.tx
    .query(`SELECT a.id FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id, a.balance_minor
      HAVING a.balance_minor <> COALESCE(sum(CASE p.direction WHEN 'CREDIT' THEN p.amount_minor ELSE -p.amount_minor END), 0)`);
  out.push(check('cached balances equal postings', drift.length === 0, `${drift.length} account(s) drifted`));

  const ids = acked.map((o) => o.transferId ?? '');
  const { rows: found } = await c.tx.query<{ id: string }>('SELECT id FROM transfers WHERE id = ANY($1::uuid[])', [
    ids.filter((id) => /^[0-9a-f-]{36}$/.test(id)),
  ]);
  const { rows: keyed } = await c.tx.query<{ key: string; transfer_id: string | null }>(
    'SELECT key, transfer_id FROM idempotency_keys WHERE key = ANY($1)',
    [acked.map((o) => o.key)],
  );
  const byKey = new Map(keyed.map((r) => [r.key, r.transfer_id]));
  const mismatched = acked.filter((o) => byKey.get(o.key) !== o.transferId);
  out.push(
    check(
      'every acknowledged transfer exists with the id the client got',
      found.length === new Set(ids).size && new Set(ids).size === acked.length && mismatched.length === 0,
      `${acked.length} acknowledged, ${found.length} found, ${mismatched.length} key(s) pointing elsewhere`,
    ),
  );

  const { rows: between } = await c.tx.query<{ n: string; total: string }>(
    'SELECT count(*)::text AS n, COALESCE(sum(amount_minor), 0)::text AS total FROM transfers WHERE source_account_id = $1 AND destination_account_id = $2',
    [c.source, c.destination],
  );
  const ackedTotal = acked.reduce((s, o) => s + o.amountMinor, 0n);
  out.push(
    check(
      'no transfer duplicated or created unacknowledged',
      between[0]?.n === String(acked.length),
      `${between[0]?.n} transfers in the database for ${acked.length} acknowledged operations`,
    ),
  );
  // Money: the destination received exactly the acknowledged amounts that posted (compliance may hold some for review:
  // PENDING, reserved on the source, not yet on the destination), and the database agrees with every client's answer.
  const { rows: dest } = await c.tx.query<{ b: string }>('SELECT balance_minor::text AS b FROM accounts WHERE id = $1', [c.destination]);
  const { rows: statuses } = await c.tx.query<{ id: string; status: string }>(
    'SELECT id, status FROM transfers WHERE source_account_id = $1 AND destination_account_id = $2',
    [c.source, c.destination],
  );
  const postedIds = new Set(statuses.filter((r) => r.status === 'POSTED').map((r) => r.id));
  const postedTotal = acked.filter((o) => postedIds.has(o.transferId ?? '')).reduce((s, o) => s + o.amountMinor, 0n);
  const answeredOtherwise = acked.filter(
    (o) => o.status !== undefined && statuses.find((r) => r.id === o.transferId)?.status !== o.status && o.status !== 'PENDING',
  );
  out.push(
    check(
      'the destination holds exactly the acknowledged amounts that posted',
      dest[0]?.b === postedTotal.toString() && between[0]?.total === ackedTotal.toString() && answeredOtherwise.length === 0,
      `balance ${dest[0]?.b}, posted ${postedTotal} of ${ackedTotal} acknowledged (${postedIds.size} posted, ${statuses.length - postedIds.size} held for review); ${answeredOtherwise.length} status(es) differ from the answer`,
    ),
  );

  out.push(
    check('every operation completed (acknowledged or definitely refused)', unsettled.length === 0, `${unsettled.length} never completed`),
  );

  let unsent = -1;
  for (let i = 0; i < 60; i++) {
    unsent = Number((await c.tx.query<{ n: string }>('SELECT count(*)::text AS n FROM outbox_events WHERE sent_at IS NULL')).rows[0]?.n);
    if (unsent === 0) break;
    await sleep(500);
  }
  out.push(check('outbox drained (every event published)', unsent === 0, `${unsent} unsent after 30 s`));
  const { rows: created } = await c.tx.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM outbox_events WHERE headers->>'type' LIKE '%TransferCreated' AND key IN ($1, $2)`,
    [c.source, c.destination],
  );
  out.push(
    check(
      'one TransferCreated event per committed transfer',
      created[0]?.n === between[0]?.n,
      `${created[0]?.n} events for ${between[0]?.n} transfers`,
    ),
  );

  const audit = await c.verifyAudit();
  out.push(
    check(
      'the audit chain verifies',
      audit.valid,
      `${audit.recordsChecked} records${audit.failureReason ? `, ${audit.failureReason}` : ''}`,
    ),
  );
  return out;
}
