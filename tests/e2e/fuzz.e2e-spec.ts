import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPaymentsPlatform, type PaymentsPlatform } from './support/payments-platform';
import { ROOT } from './support/platform';

/**
 * Fuzzes the gateway's HTTP API from its own served OpenAPI document with schemathesis (PyPI, pinned in
 * tools/fuzz/requirements.txt; tools/fuzz/install.sh puts it in .cache/venv and runs here when missing), against
 * the payments platform as real processes (gateway, transactions, compliance; mTLS, real tokens, Postgres, Kafka).
 * Checks: no 5xx, every status, content type and body as documented; the stateful phase follows the document's
 * links (open an account, then read, freeze, close it). Bounded: a fixed number of examples per
 * operation and a fixed seed (TESSERA_FUZZ_SEED / TESSERA_FUZZ_EXAMPLES override), a few minutes on 2 cores.
 * Analytics routes are left out: ingest and insights are not part of this platform (pipeline.e2e-spec covers them).
 */
jest.setTimeout(600_000);

const PORT_BASE = 18380;
const OUT = join(ROOT, '.tessera', 'e2e', 'fuzz');
const SCHEMATHESIS = join(ROOT, '.cache', 'venv', 'bin', 'schemathesis');
const SEED = process.env['TESSERA_FUZZ_SEED'] ?? '20261125';
const EXAMPLES = process.env['TESSERA_FUZZ_EXAMPLES'] ?? '25';
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];

let platform: PaymentsPlatform;
let token: string;

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${platform.gateway}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `fuzz-seed-${randomUUID()}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`seeding ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A few real entities, so generated ids sometimes hit something and the fuzzer reaches past 404s. */
async function seed(): Promise<{ accounts: string[]; ids: string[] }> {
  const open = (ownerId: string) =>
    post<{ id: string }>('/v1/accounts', {
      ownerId, type: 'ASSET', currency: 'EUR', overdraftLimitMinor: '100000000',
      holder: { fullName: `Fuzz ${ownerId}`, address: '1 Test Street, Berlin', nationalId: `ID-${ownerId}`, country: 'DE' },
    });
  const [a, b] = [await open('fuzz-a'), await open('fuzz-b')];
  const amount = { amountMinor: '100', currency: 'EUR' };
  const transfer = await post<{ id: string }>('/v1/transfers', { sourceAccountId: a.id, destinationAccountId: b.id, amount, counterparty: { name: 'ACME GmbH', country: 'DE' } });
  const hold = await post<{ id: string }>('/v1/holds', { accountId: a.id, destinationAccountId: b.id, amount });
  return { accounts: [a.id, b.id], ids: [a.id, b.id, transfer.id, hold.id] };
}

/** schemathesis.toml: the seeded ids are offered for path ids and account references half of the time. */
function configFile(seeded: { accounts: string[]; ids: string[] }): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const text = [
    '[dictionaries.ids]', `values = ${list(seeded.ids)}`,
    '[dictionaries.accounts]', `values = ${list(seeded.accounts)}`,
    '[parameters]',
    '"path.id" = { dictionary = "ids", probability = 0.5 }',
    ...['sourceAccountId', 'destinationAccountId', 'accountId'].map((f) => `"body.${f}" = { dictionary = "accounts", probability = 0.5 }`),
    '',
  ].join('\n');
  const file = join(OUT, 'schemathesis.toml');
  writeFileSync(file, text);
  return file;
}

function runSchemathesis(config: string): Promise<{ code: number | null; output: string }> {
  const args = [
    '--config-file', config, 'run', `${platform.gateway}/openapi.json`,
    '--url', platform.gateway,
    '--header', `Authorization: Bearer ${token}`,
    '--checks', CHECKS.join(','),
    '--phases', 'examples,coverage,fuzzing,stateful',
    '--exclude-tag', 'analytics',
    '--max-examples', EXAMPLES,
    '--seed', SEED,
    '--workers', '2',
    '--request-timeout', '10',
    '--generation-database', 'none',
    '--report', 'junit', '--report-dir', OUT,
    '--no-color',
  ];
  const log = join(OUT, 'schemathesis.txt');
  return new Promise((resolve, reject) => {
    // cwd OUT: hypothesis keeps its scratch files there, not in the repository.
    const child = spawn(SCHEMATHESIS, args, { cwd: OUT, stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(log);
    child.stdout.pipe(file);
    child.stderr.pipe(file);
    child.on('error', reject);
    child.on('close', (code) => file.end(() => resolve({ code, output: readFileSync(log, 'utf8') })));
  });
}

beforeAll(async () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  execFileSync('bash', [join(ROOT, 'tools', 'fuzz', 'install.sh')], { stdio: 'inherit', timeout: 300_000 });
  // The default write limit (120/min) would answer most generated requests with 429 (documented, but it
  // starves the fuzzer); the spawned gateway inherits this env. Rate limiting has its own tests.
  process.env['GATEWAY_RATE_LIMITS'] = 'public=100000/1s,read=100000/1s,write=100000/1s,ingest=100000/1s,live=100000/1s,auth-failure=100000/1s';
  platform = await startPaymentsPlatform(PORT_BASE);
  // One principal with every payments role, so every operation is reachable past the scope checks.
  token = await platform.creds.mint({ sub: 'fuzz-operator', roles: ['operator', 'compliance-officer', 'auditor'], ttlSec: 3600 });
}, 400_000);

afterAll(async () => {
  delete process.env['GATEWAY_RATE_LIMITS'];
  await platform?.stop();
}, 60_000);

describe('the HTTP API under schemathesis', () => {
  it('answers generated requests without 5xx and as its OpenAPI document says', async () => {
    const { code, output } = await runSchemathesis(configFile(await seed()));
    const failures = output.includes('FAILURES') ? output.slice(output.indexOf('FAILURES') - 40, output.indexOf('SUMMARY')) : '';
    if (code !== 0) process.stderr.write(`schemathesis exited ${code}; full log ${join(OUT, 'schemathesis.txt')}\n${failures || output.slice(-4000)}\n`);
    expect({ code, failures }).toEqual({ code: 0, failures: '' });
    // It really ran: every selected operation was tested and cases were generated.
    const selected = /Selected: (\d+)\/\d+/.exec(output)?.[1];
    expect(Number(selected)).toBeGreaterThan(15);
    expect(output).toMatch(new RegExp(`Tested: ${selected}\\b`));
    expect(Number(/(\d+) generated/.exec(output)?.[1])).toBeGreaterThan(500);
  });
});
