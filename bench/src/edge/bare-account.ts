/** What the bare edge baselines share: the account read, its JSON shape (the gateway's), the bare gRPC method. */
export const ACCOUNT_SQL =
  'SELECT id, owner_id, name, type, currency, status, overdraft_limit_minor, version, created_at FROM accounts WHERE id = $1';

/** The minimum a hand-written account opening needs: one INSERT of the row (no idempotency key, audit or outbox). */
export const OPEN_ACCOUNT_SQL =
  'INSERT INTO accounts (owner_id, name, currency, type) VALUES ($1, $2, $3, $4::account_type) RETURNING id, owner_id, name, type, currency, status, overdraft_limit_minor, version, created_at';

export const BARE_GET_ACCOUNT = '/bench.Bare/GetAccount';

export function accountJson(r: Record<string, unknown>): Record<string, unknown> {
  return {
    id: r['id'],
    ownerId: r['owner_id'],
    name: r['name'],
    type: r['type'],
    currency: r['currency'],
    status: r['status'],
    overdraftLimitMinor: String(r['overdraft_limit_minor']),
    version: String(r['version']),
    createdAt: (r['created_at'] as Date).toISOString(),
  };
}
