/**
 * Demo data through the real gateway API (never behind its back in the database): opens a few accounts and
 * sends one ping. Safe to re-run: each account has a fixed Idempotency-Key, so a second run gets the same
 * accounts back instead of new ones. `npx tsx scripts/seed-demo.ts` (GATEWAY_URL overrides the address).
 *
 * It calls the API like its real clients would, with real dev tokens (`npm run auth -- init` made the issuer in
 * .tessera/auth, TESSERA_AUTH_DIR overrides): an operator opens the accounts and funds the wallets, each customer
 * pays from the wallet they own (ownerId = the customer id in their token), an auditor verifies the audit chain.
 */
import { DevIssuer, defaultAuthDir, type Role } from '@tessera/auth';
import { loadTopology } from '../infra/local/topology';

type AccountType = 'ASSET' | 'LIABILITY' | 'REVENUE' | 'EXPENSE';

interface DemoAccount {
  /** Stable per account and never reused for another body: the gateway would answer with the first result. */
  idempotencyKey: string;
  ownerId: string;
  name: string;
  type: AccountType;
  overdraftLimitMinor?: string;
}

interface AccountView {
  id: string;
  ownerId: string;
  name: string;
  type: string;
  currency: string;
  status: string;
  overdraftLimitMinor: string;
  createdAt: string | null;
}

const CURRENCY = 'EUR';
const REQUEST_TIMEOUT_MS = 10_000;
const AUDIT_VERIFY_TIMEOUT_MS = 35_000;

const ACCOUNTS: DemoAccount[] = [
  { idempotencyKey: 'seed-demo-v2-alice-wallet', ownerId: 'demo-alice', name: 'Alice wallet', type: 'ASSET', overdraftLimitMinor: '0' },
  { idempotencyKey: 'seed-demo-v2-bob-wallet', ownerId: 'demo-bob', name: 'Bob wallet', type: 'ASSET', overdraftLimitMinor: '5000' },
  { idempotencyKey: 'seed-demo-v2-coffee-sales', ownerId: 'demo-coffee-shop', name: 'Coffee shop sales', type: 'REVENUE' },
  // The platform's side of customer money: it may go 1,000,000.00 EUR "negative" so demo wallets can be funded.
  {
    idempotencyKey: 'seed-demo-v2-platform-funds',
    ownerId: 'tessera-platform',
    name: 'Customer funds held',
    type: 'LIABILITY',
    overdraftLimitMinor: '100000000',
  },
  { idempotencyKey: 'seed-demo-v2-platform-fees', ownerId: 'tessera-platform', name: 'Fee income', type: 'REVENUE' },
  { idempotencyKey: 'seed-demo-v2-platform-costs', ownerId: 'tessera-platform', name: 'Card processing costs', type: 'EXPENSE' },
];

/** Demo money movements (fixed keys: re-runs replay them). The last one exceeds the review limit of rules v1. */
const TRANSFERS: { key: string; from: string; to: string; amountMinor: string; description: string; counterparty: string; by: Actor }[] = [
  {
    key: 'seed-demo-v2-fund-alice',
    from: 'Customer funds held',
    to: 'Alice wallet',
    amountMinor: '25000',
    description: 'top-up',
    counterparty: 'Alice Example',
    by: 'operator',
  },
  {
    key: 'seed-demo-v2-fund-bob',
    from: 'Customer funds held',
    to: 'Bob wallet',
    amountMinor: '12000',
    description: 'top-up',
    counterparty: 'Bob Example',
    by: 'operator',
  },
  {
    key: 'seed-demo-v2-alice-coffee',
    from: 'Alice wallet',
    to: 'Coffee shop sales',
    amountMinor: '450',
    description: 'flat white',
    counterparty: 'Corner Coffee GmbH',
    by: 'demo-alice',
  },
  {
    key: 'seed-demo-v2-bob-coffee',
    from: 'Bob wallet',
    to: 'Coffee shop sales',
    amountMinor: '380',
    description: 'espresso',
    counterparty: 'Corner Coffee GmbH',
    by: 'demo-bob',
  },
  {
    key: 'seed-demo-v2-big-top-up',
    from: 'Customer funds held',
    to: 'Bob wallet',
    amountMinor: '2500000',
    description: 'large top-up (held for review)',
    counterparty: 'Bob Example',
    by: 'operator',
  },
];

/** Who calls: staff roles, or a customer id (a customer token whose customer_id owns that customer's accounts). */
type Actor = 'operator' | 'auditor' | 'demo-alice' | 'demo-bob';
const ACTORS: Record<Actor, { sub: string; roles: Role[]; customerId?: string }> = {
  operator: { sub: 'demo-operator', roles: ['operator'] },
  auditor: { sub: 'demo-auditor', roles: ['auditor'] },
  'demo-alice': { sub: 'demo-alice', roles: ['customer'], customerId: 'demo-alice' },
  'demo-bob': { sub: 'demo-bob', roles: ['customer'], customerId: 'demo-bob' },
};

/** Bearer tokens from the local dev issuer, minted once per run (15 min is plenty for a seed). */
async function tokens(): Promise<Record<Actor, Record<string, string>>> {
  const dir = process.env['TESSERA_AUTH_DIR'] || defaultAuthDir();
  let issuer: DevIssuer;
  try {
    issuer = await DevIssuer.open(dir);
  } catch (err) {
    throw new SeedError(`no dev token issuer in ${dir} (${(err as Error).message})`, 'npm run auth -- init   (npm run up does it)');
  }
  const out = {} as Record<Actor, Record<string, string>>;
  for (const [actor, claims] of Object.entries(ACTORS) as [Actor, (typeof ACTORS)[Actor]][]) {
    out[actor] = { authorization: `Bearer ${await issuer.mint(claims)}` };
  }
  return out;
}

/** A failure the operator can act on; printed as one line plus a fix, no stack trace. */
class SeedError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'SeedError';
  }
}

function gatewayUrl(): string {
  const fromEnv = process.env['GATEWAY_URL'];
  if (fromEnv) return fromEnv.replace(/\/+$/, '');
  const gateway = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined).services.find((s) => s.name === 'gateway');
  if (gateway?.port === undefined) throw new SeedError('infra/topology.yaml declares no gateway port', 'set GATEWAY_URL');
  return `http://127.0.0.1:${gateway.port}`;
}

async function request(
  base: string,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${base}${route}`, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // A timeout means the gateway took the request and did not answer in time: not the same as "not running".
    if ((err as Error).name === 'TimeoutError') {
      throw new SeedError(
        `no answer from the gateway within ${timeoutMs / 1000} s for ${method} ${route}`,
        'the platform is up but slow or stuck: check `npm run infra -- status` and the service logs under .tessera/services/',
      );
    }
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new SeedError(
      `gateway not reachable at ${base} (${cause})`,
      'start the platform: npm run up   (or: npm run infra -- services up)',
    );
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* keep the raw text for the error message */
  }
  return { status: res.status, json };
}

/** One line from an RFC 9457 problem+json body: code, detail and field errors. */
function describeProblem(status: number, json: unknown): string {
  if (typeof json !== 'object' || json === null) return `HTTP ${status}: ${String(json).slice(0, 200)}`;
  const p = json as { code?: string; title?: string; detail?: string; errors?: { field: string; description: string }[] };
  const fields = p.errors?.map((e) => `${e.field}: ${e.description}`).join('; ');
  return `HTTP ${status} ${p.code ?? ''} ${p.detail ?? p.title ?? ''}${fields ? ` (${fields})` : ''}`.replace(/\s+/g, ' ').trim();
}

async function assertHealthy(base: string): Promise<void> {
  const { status, json } = await request(base, 'GET', '/health');
  if (status === 200) return;
  const checks = (json as { checks?: Record<string, { status: string; detail?: string }> }).checks ?? {};
  const down = Object.entries(checks)
    .filter(([, c]) => c.status !== 'up')
    .map(([name, c]) => `${name}${c.detail ? ` (${c.detail})` : ''}`);
  throw new SeedError(
    `gateway at ${base} is not ready (HTTP ${status}${down.length ? `; down: ${down.join(', ')}` : ''})`,
    'npm run infra -- status   (then: npm run up)',
  );
}

async function openAccount(
  base: string,
  account: DemoAccount,
  auth: Record<string, string>,
): Promise<{ view: AccountView; replayed: boolean }> {
  const { idempotencyKey, ...fields } = account;
  const sentAt = Date.now();
  const { status, json } = await request(
    base,
    'POST',
    '/v1/accounts',
    { ...fields, currency: CURRENCY },
    { 'Idempotency-Key': idempotencyKey, ...auth },
  );
  if (status !== 200 && status !== 201) throw new SeedError(`opening account "${account.name}" failed: ${describeProblem(status, json)}`);
  const view = json as AccountView;
  // The same key returns the account created by an earlier request: created before this one was sent
  // (same machine clock; 100 ms of slack for timestamp rounding).
  const replayed = view.createdAt !== null && Date.parse(view.createdAt) < sentAt - 100;
  return { view, replayed };
}

async function main(): Promise<void> {
  const base = gatewayUrl();
  const runStartedAt = Date.now();
  await assertHealthy(base);
  const auth = await tokens();
  console.log(`==> demo data via ${base} (dev tokens: operator, auditor, customers demo-alice and demo-bob)`);

  const opened: AccountView[] = [];
  for (const account of ACCOUNTS) {
    const { view, replayed } = await openAccount(base, account, auth.operator);
    opened.push(view);
    const overdraft = view.overdraftLimitMinor !== '0' ? `, overdraft ${view.overdraftLimitMinor} minor` : '';
    console.log(
      `  ${replayed ? 'exists ' : 'opened '} ${view.id}  ${view.type.padEnd(9)} ${view.currency}  ${view.ownerId} / ${view.name}${overdraft}`,
    );
  }

  const ping = await request(
    base,
    'POST',
    '/v1/pings',
    { message: `hello from seed-demo at ${new Date(runStartedAt).toISOString()}` },
    auth.operator,
  );
  if (ping.status !== 202) throw new SeedError(`sending the demo ping failed: ${describeProblem(ping.status, ping.json)}`);
  const { id, topic } = ping.json as { id: string; topic: string };
  console.log(`  ping    ${id}  published to ${topic} (consumed by transactions, group transactions.pings)`);
  const byName = new Map(opened.map((v) => [v.name, v.id]));
  let transfers = 0;
  for (const t of TRANSFERS) {
    const source = byName.get(t.from);
    const destination = byName.get(t.to);
    if (!source || !destination) throw new SeedError(`demo transfer "${t.key}" names an unknown account`);
    const body = {
      sourceAccountId: source,
      destinationAccountId: destination,
      amount: { amountMinor: t.amountMinor, currency: CURRENCY },
      description: t.description,
      counterparty: { name: t.counterparty, country: 'DE' },
    };
    const res = await request(base, 'POST', '/v1/transfers', body, { 'Idempotency-Key': t.key, ...auth[t.by] });
    if (res.status !== 201 && res.status !== 200)
      throw new SeedError(`demo transfer "${t.description}" failed: ${describeProblem(res.status, res.json)}`);
    const view = res.json as { id: string; status: string };
    console.log(
      `  transfer ${view.id}  ${view.status.padEnd(8)} ${t.amountMinor.padStart(8)} minor  ${t.from} -> ${t.to} (${t.description}; as ${t.by})`,
    );
    transfers++;
  }
  // Verification reads the whole chain (GATEWAY_AUDIT_VERIFY_DEADLINE_MS, 30 s by default): after bench runs that is
  // millions of records, so this request waits longer than the others.
  const audit = await request(base, 'GET', '/v1/audit/verify', undefined, auth.auditor, AUDIT_VERIFY_TIMEOUT_MS);
  if (audit.status !== 200) throw new SeedError(`verifying the audit chain failed: ${describeProblem(audit.status, audit.json)}`);
  const verdict = audit.json as { valid?: boolean; recordsChecked?: string | number };
  console.log(`  audit    chain ${verdict.valid ? 'valid' : 'INVALID'} over ${String(verdict.recordsChecked ?? '?')} records`);
  console.log(
    `==> ${opened.length} accounts, ${transfers} transfers (one held for review: see /v1/compliance/alerts), 1 ping; re-runs reuse them by Idempotency-Key`,
  );
  console.log(
    '    release the held one with two distinct compliance officers: npm run auth -- token --sub officer-1 --role compliance-officer (and officer-2)',
  );
}

main().catch((err: unknown) => {
  if (err instanceof SeedError) {
    console.error(`✖ ${err.message}`);
    if (err.fix) console.error(`  fix: ${err.fix}`);
  } else {
    console.error('✖ seed-demo failed unexpectedly:', err);
  }
  process.exit(1);
});
