/**
 * Screen's (and ScreenBatch's) service-only policy over real mTLS: a throwaway dev CA (ensureDevPki) issues the certificates, compliance
 * serves with them, and the caller's verified CN decides. Only transactions may screen; the gateway's certificate
 * (even carrying a compliance officer's token) is refused, while the same officer may list alerts through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { complianceV1 } from '@tessera/contracts';
import { createGrpcClient, ensureDevPki, grpcTransportFromEnv, unaryCall } from '@tessera/grpc';
import { rejection, screenRequest } from './support/screening';
import { type Harness, startCompliance } from './support/harness';
import { startTestAuth, type TestAuth } from '@tessera/auth';

jest.setTimeout(60_000);
process.env['LOG_LEVEL'] ??= 'warn';

let tlsDir: string;
let auth: TestAuth;
let h: Harness;
const clients: { close(): void }[] = [];

const client = (identity: string) => {
  const c = createGrpcClient(complianceV1.ComplianceServiceClient, h.addr.replace('127.0.0.1', 'localhost'), {
    transport: grpcTransportFromEnv(identity, { TESSERA_TLS_DIR: tlsDir }),
    retry: 'none',
    defaultDeadlineMs: 5_000,
  });
  clients.push(c);
  return c;
};

/** The requests of this file: a fixed owner and EUR 1.00 (the policy is under test, not the rules). */
const request = () => screenRequest({ amount: { amountMinor: 100n, currency: 'EUR' }, ownerId: 'owner-1' });

beforeAll(async () => {
  tlsDir = mkdtempSync(path.join(tmpdir(), 'tessera-tls-'));
  ensureDevPki({ dir: tlsDir, identities: ['compliance', 'transactions', 'gateway'] });
  process.env['TESSERA_TLS_DIR'] = tlsDir;
  process.env['TESSERA_GRPC_PLAINTEXT'] = 'false';
  auth = await startTestAuth();
  h = await startCompliance({ ...auth.env, COMPLIANCE_GRPC_HOST: '127.0.0.1', COMPLIANCE_MONITOR_ENABLED: 'false' });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await h?.close();
  auth?.close();
  rmSync(tlsDir, { recursive: true, force: true });
});

describe('ComplianceService.Screen over mTLS', () => {
  it('screens for transactions (verified CN), recording the forwarded user as actor', async () => {
    const res = await unaryCall(client('transactions'), 'screen', request(), await auth.bearer('user-9', ['customer']));
    expect(res.decision).toBe(complianceV1.Decision.DECISION_APPROVE);
    const { rows } = await h.db.query('SELECT actor FROM screenings WHERE id = $1', [res.screeningId]);
    expect(rows).toEqual([{ actor: 'user-9' }]);
  });

  it('refuses the gateway, even with a compliance officer token (AUTH.SERVICE_ONLY)', async () => {
    const error = await rejection(
      unaryCall(client('gateway'), 'screen', request(), await auth.bearer('officer-1', ['compliance-officer'])),
    );
    expect(error).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SERVICE_ONLY' });
  });

  it('applies the same policy to ScreenBatch: transactions may, the gateway with an officer token may not', async () => {
    const res = await unaryCall(client('transactions'), 'screenBatch', { items: [request(), request()] });
    expect(res.items.map((r) => r.decision)).toEqual([complianceV1.Decision.DECISION_APPROVE, complianceV1.Decision.DECISION_APPROVE]);
    const error = await rejection(
      unaryCall(client('gateway'), 'screenBatch', { items: [request()] }, await auth.bearer('officer-1', ['compliance-officer'])),
    );
    expect(error).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SERVICE_ONLY' });
  });

  it('lets the officer list alerts through the gateway: user methods authorise on the token, not the peer', async () => {
    const res = await unaryCall(
      client('gateway'),
      'listAlerts',
      { page: { pageSize: 1, pageToken: '' }, status: 0, accountId: '', assignee: '' },
      await auth.bearer('officer-1', ['compliance-officer']),
    );
    expect(res.alerts).toEqual([]);
  });
});
