import { Metadata } from '@grpc/grpc-js';
import { complianceV1 } from '@tessera/contracts';
import { authFromEnv, authorizeCall, type CallerAuthenticator, type MethodPolicy, startTestAuth, type TestAuth } from '@tessera/auth';
import { AppError } from '@tessera/errors';
import { COMPLIANCE_POLICY } from './compliance.policy';

let auth: TestAuth;
let authenticator: CallerAuthenticator;

beforeAll(async () => {
  auth = await startTestAuth();
  authenticator = authFromEnv(auth.env).callers;
});

afterAll(() => auth.close());

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

describe('COMPLIANCE_POLICY', () => {
  it('has a policy for every RPC of ComplianceService', () => {
    const table: Readonly<Record<string, MethodPolicy>> = COMPLIANCE_POLICY;
    expect(Object.keys(complianceV1.ComplianceServiceService).filter((rpc) => table[rpc] === undefined)).toEqual([]);
  });

  it('lets only transactions call Screen and ScreenBatch, and only compliance officers decide alerts', () => {
    expect(COMPLIANCE_POLICY.screen).toEqual({ services: ['transactions'] });
    expect(COMPLIANCE_POLICY.screenBatch).toEqual(COMPLIANCE_POLICY.screen);
    expect(COMPLIANCE_POLICY.resolveAlert).toEqual({ scope: 'alerts:decide', role: 'compliance-officer' });
    expect(COMPLIANCE_POLICY.assignAlert).toEqual({ scope: 'alerts:decide', role: 'compliance-officer' });
  });

  it.each(['screen', 'screenBatch'] as const)(
    '%s over mTLS admits the transactions certificate and refuses any other, even with an officer token',
    async (rpc) => {
      const policy = COMPLIANCE_POLICY[rpc];
      await expect(
        authorizeCall(policy, { metadata: new Metadata(), transport: 'mtls', peer: 'transactions' }, authenticator),
      ).resolves.toEqual({ service: 'transactions' });
      const { metadata: officer } = await auth.bearer('officer-1', ['compliance-officer']);
      for (const peer of ['gateway', undefined]) {
        const error = await refusal(
          authorizeCall(policy, { metadata: officer, transport: 'mtls', ...(peer ? { peer } : {}) }, authenticator),
        );
        expect(error).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SERVICE_ONLY' });
      }
    },
  );
});
