import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startPaymentsPlatform, type PaymentsPlatform } from './support/payments-platform';
import { stopServices, waitFor } from './support/platform';

/**
 * No personal data in telemetry: seeds accounts with holder names, addresses carrying an e-mail address and an
 * IBAN, national ids, and transfers with counterparty names (approved, held for review, refused at the edge),
 * every service logging at `debug`, then collects every span (name, attributes, events, links) and every log
 * line (stdout of each process and the records shipped over OTLP) and asserts none contains any of those values.
 * The values are unique per run, so a hit cannot come from another suite.
 */
jest.setTimeout(120_000);

let platform: PaymentsPlatform;
let OPERATOR: Record<string, string>;
const token = randomUUID().slice(0, 8);
/** Distinctive per run; each must never reach a span or a log line. */
const PII = {
  fullName: `Ottilie Brennecke-${token}`,
  address: `Kastanienallee 17, 10435 Berlin, ottilie.${token}@example.org, IBAN DE89370400440532${token.replace(/\D/g, '0').slice(0, 6)}`,
  email: `ottilie.${token}@example.org`,
  nationalId: `L01X00T${token}`,
  counterparty: `Hieronymus Wachtelhund ${token}`,
  heldCounterparty: `Philippa Zauberflöte ${token}`,
  refusedCounterparty: `Kunigunde Pfefferminz ${token}`,
};
const iban = PII.address.split('IBAN ')[1]!;

beforeAll(async () => {
  // Debug everywhere: the widest net for a leak (the children inherit this environment).
  process.env['LOG_LEVEL'] = 'debug';
  platform = await startPaymentsPlatform(18580);
  OPERATOR = await platform.creds.bearer({ sub: `operator-${platform.run}`, roles: ['operator'] });
}, 180_000);

afterAll(() => platform?.stop(), 60_000);

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${platform.gateway}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `pii-${randomUUID()}`, ...OPERATOR },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const transfer = (source: string, destination: string, amountMinor: string, name: string, country = 'DE') => ({
  sourceAccountId: source,
  destinationAccountId: destination,
  amount: { amountMinor, currency: 'EUR' },
  description: 'pii e2e',
  counterparty: { name, country },
});

describe('telemetry without personal data', () => {
  it('keeps holder and counterparty data out of every span and every log line of every service', async () => {
    const holder = { fullName: PII.fullName, address: PII.address, nationalId: PII.nationalId, country: 'DE' };
    const a = await post('/v1/accounts', {
      ownerId: `pii-a-${token}`,
      type: 'ASSET',
      currency: 'EUR',
      overdraftLimitMinor: '100000000',
      holder,
    });
    const b = await post('/v1/accounts', { ownerId: `pii-b-${token}`, type: 'ASSET', currency: 'EUR', holder });
    expect([a.status, b.status]).toEqual([201, 201]);
    const [src, dst] = [String(a.body['id']), String(b.body['id'])];
    expect((await fetch(`${platform.gateway}/v1/accounts/${src}`, { headers: OPERATOR })).status).toBe(200);

    const posted = await post('/v1/transfers', transfer(src, dst, '1234', PII.counterparty));
    expect(posted.body['status']).toBe('POSTED');
    const held = await post('/v1/transfers', transfer(src, dst, '2000000', PII.heldCounterparty));
    expect(held.body['status']).toBe('PENDING');
    // Refused at the edge with the name in the body: error paths log too.
    expect((await post('/v1/transfers', transfer(src, dst, '1', PII.refusedCounterparty, 'germany'))).status).toBe(400);
    expect(
      (await post('/v1/accounts', { ownerId: `pii-c-${token}`, type: 'ASSET', currency: 'EUR', holder: { ...holder, country: 'de' } }))
        .status,
    ).toBe(400);

    // Let the events reach the compliance monitor (its consumer spans and writes), then stop every process so
    // its last spans and log records are flushed.
    await waitFor(
      'transfer events consumed',
      async () =>
        platform.otlp.spans.some(
          (s) => s.service === 'compliance' && s.kind === 4 && s.attributes['messaging.consumer.group.name'] !== undefined,
        ),
      30_000,
    );
    await stopServices(platform.services);

    const spans = platform.otlp.spans.map((s) =>
      JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events, links: s.links, status: s.status }),
    );
    const otlpLogs = platform.otlp.logs.map((l) => JSON.stringify(l));
    const stdoutLogs = platform.services.flatMap((s) =>
      readFileSync(s.logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => `${s.name}: ${line}`),
    );
    // The net is real: the collection holds this run's ids and debug lines, so a leak would be in it too.
    expect(spans.some((s) => s.includes(String(posted.body['id'])))).toBe(true);
    expect(stdoutLogs.some((l) => l.includes('"level":"debug"'))).toBe(true);
    expect(stdoutLogs.length).toBeGreaterThan(10);
    expect(otlpLogs.length).toBeGreaterThan(0);

    const values = [...Object.values(PII), iban, PII.fullName.toLowerCase(), PII.fullName.toUpperCase(), PII.nationalId.toLowerCase()];
    const leaks = [
      ...spans.map((s) => `span ${s}`),
      ...otlpLogs.map((l) => `otlp log ${l}`),
      ...stdoutLogs.map((l) => `stdout ${l}`),
    ].flatMap((where) =>
      values
        .filter((v) => where.includes(v) || where.includes(JSON.stringify(v).slice(1, -1)))
        .map((v) => `${v} in ${where.slice(0, 300)}`),
    );
    expect(leaks).toEqual([]);
  });
});
