import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import {
  authFromEnv,
  type CallerAuthenticator,
  DevIssuer,
  actorOf,
  authorizeCall,
  type CallFacts,
  callerOf,
  guardService,
  type MethodPolicy,
} from '@tessera/auth';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { ACCOUNT_POLICY, AUDIT_POLICY, TRANSFER_POLICY } from './transactions.policy';

let dir: string;
let issuer: DevIssuer;
let authenticator: CallerAuthenticator;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tessera-guard-'));
  issuer = await DevIssuer.open(dir);
  authenticator = authFromEnv({ TESSERA_AUTH_JWKS_FILE: issuer.jwksFile, TESSERA_API_KEYS_FILE: issuer.apiKeysFile }).callers;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bearer(
  sub: string,
  roles: Parameters<DevIssuer['mint']>[0]['roles'],
  extra: { customerId?: string } = {},
): Promise<Metadata> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${await issuer.mint({ sub, roles, ...extra })}`);
  return md;
}

const plaintext = (metadata: Metadata): CallFacts => ({ metadata, transport: 'plaintext' });
const mtls = (metadata: Metadata, peer?: string): CallFacts => ({ metadata, transport: 'mtls', ...(peer ? { peer } : {}) });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

describe('transactions policy tables', () => {
  it.each([
    ['AccountService', paymentsV1.AccountServiceService, ACCOUNT_POLICY],
    ['TransferService', paymentsV1.TransferServiceService, TRANSFER_POLICY],
    ['AuditService', paymentsV1.AuditServiceService, AUDIT_POLICY],
  ] as const)('has a policy for every RPC of %s', (_name, definition, policy) => {
    const table = policy as Readonly<Record<string, MethodPolicy>>;
    expect(Object.keys(definition).filter((rpc) => table[rpc] === undefined)).toEqual([]);
  });
});

describe('guardService', () => {
  it('refuses to build a service with an RPC that has no policy (fail closed at boot)', () => {
    const { getAccount: _dropped, ...partial } = ACCOUNT_POLICY;
    const handlers = Object.fromEntries(Object.keys(paymentsV1.AccountServiceService).map((k) => [k, () => undefined]));
    expect(() => guardService(paymentsV1.AccountServiceService, partial, handlers, authenticator)).toThrow(
      /GetAccount has no authorisation policy/,
    );
  });
});

describe('authorizeCall', () => {
  describe('user policies', () => {
    it('refuses a call without a credential (UNAUTHENTICATED)', async () => {
      const error = await refusal(authorizeCall(ACCOUNT_POLICY.getAccount, plaintext(new Metadata()), authenticator));
      expect([error.kind, error.code]).toEqual(['UNAUTHENTICATED', 'AUTH.CREDENTIALS_REQUIRED']);
    });

    it('refuses a forged token (signed by another issuer key)', async () => {
      const otherDir = mkdtempSync(path.join(tmpdir(), 'tessera-guard-other-'));
      try {
        const other = await DevIssuer.open(otherDir);
        const md = new Metadata();
        md.set('authorization', `Bearer ${await other.mint({ sub: 'mallory', roles: ['operator'] })}`);
        const error = await refusal(authorizeCall(ACCOUNT_POLICY.openAccount, plaintext(md), authenticator));
        expect(error.kind).toBe('UNAUTHENTICATED');
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }
    });

    it('refuses a principal without the scope (PERMISSION_DENIED AUTH.SCOPE_REQUIRED)', async () => {
      const error = await refusal(authorizeCall(ACCOUNT_POLICY.openAccount, plaintext(await bearer('c-1', ['customer'])), authenticator));
      expect([error.kind, error.code]).toEqual(['PERMISSION_DENIED', 'AUTH.SCOPE_REQUIRED']);
    });

    it('refuses a customer reversing a transfer: the scope alone is not enough (AUTH.ROLE_REQUIRED)', async () => {
      const error = await refusal(
        authorizeCall(TRANSFER_POLICY.reverseTransfer, plaintext(await bearer('c-1', ['customer'])), authenticator),
      );
      expect([error.kind, error.code]).toEqual(['PERMISSION_DENIED', 'AUTH.ROLE_REQUIRED']);
    });

    it('does not accept an API key where the policy does not allow one', async () => {
      const { key } = issuer.createApiKey('demo');
      const md = new Metadata();
      md.set('x-api-key', key);
      const error = await refusal(authorizeCall(ACCOUNT_POLICY.getAccount, plaintext(md), authenticator));
      expect(error.code).toBe('AUTH.CREDENTIALS_REQUIRED');
    });

    it('admits a customer with the scope and carries the customer id', async () => {
      const caller = await authorizeCall(
        ACCOUNT_POLICY.getAccount,
        mtls(await bearer('user-7', ['customer'], { customerId: 'cust-7' }), 'gateway'),
        authenticator,
      );
      expect(caller.principal).toMatchObject({ subject: 'user-7', customerId: 'cust-7' });
    });
  });

  describe('service-only policies', () => {
    it('admits the named service by its mTLS peer and keeps the forwarded officer as principal', async () => {
      const caller = await authorizeCall(
        TRANSFER_POLICY.releaseTransfer,
        mtls(await bearer('officer-1', ['compliance-officer']), 'compliance'),
        authenticator,
      );
      expect(caller.service).toBe('compliance');
      expect(caller.principal?.subject).toBe('officer-1');
    });

    it('admits the named service without any forwarded credential', async () => {
      const caller = await authorizeCall(TRANSFER_POLICY.declineHeldTransfer, mtls(new Metadata(), 'compliance'), authenticator);
      expect(caller).toEqual({ service: 'compliance' });
    });

    it('refuses another service, even one carrying an operator token (AUTH.SERVICE_ONLY)', async () => {
      const error = await refusal(
        authorizeCall(TRANSFER_POLICY.releaseTransfer, mtls(await bearer('op-1', ['operator']), 'gateway'), authenticator),
      );
      expect([error.kind, error.code]).toEqual(['PERMISSION_DENIED', 'AUTH.SERVICE_ONLY']);
    });

    it('refuses an mTLS call whose certificate names no peer', async () => {
      const error = await refusal(authorizeCall(TRANSFER_POLICY.releaseTransfer, mtls(new Metadata()), authenticator));
      expect(error.code).toBe('AUTH.SERVICE_ONLY');
    });

    it('lets a plaintext call through (explicit dev mode has no peer to check) but still verifies a forwarded credential', async () => {
      await expect(authorizeCall(TRANSFER_POLICY.releaseTransfer, plaintext(new Metadata()), authenticator)).resolves.toEqual({
        service: 'plaintext-peer',
      });
      const md = new Metadata();
      md.set('authorization', 'Bearer not-a-jwt');
      const error = await refusal(authorizeCall(TRANSFER_POLICY.releaseTransfer, plaintext(md), authenticator));
      expect(error.kind).toBe('UNAUTHENTICATED');
    });
  });
});

describe('actorOf', () => {
  it("is the principal's subject, else service:<cn>, else anonymous", async () => {
    const handlers = {
      getAccount: jest.fn(),
      listAccounts: jest.fn(),
      openAccount: jest.fn(),
      freezeAccount: jest.fn(),
      closeAccount: jest.fn(),
      getBalance: jest.fn(),
    };
    const guarded = guardService(paymentsV1.AccountServiceService, ACCOUNT_POLICY, handlers, authenticator);
    const metadata = await bearer('op-9', ['operator']);
    const call = { metadata, getPath: () => '/x', getAuthContext: () => ({}) };
    await new Promise<void>((resolve) => {
      handlers.getAccount.mockImplementation(() => resolve());
      (guarded['getAccount'] as (c: unknown, cb: unknown) => void)(call, () => undefined);
    });
    expect(callerOf({ metadata })?.principal?.subject).toBe('op-9');
    expect(actorOf({ metadata })).toBe('op-9');
    expect(actorOf({ metadata: new Metadata() })).toBe('anonymous');
    expect(actorOf(undefined)).toBe('anonymous');
  });
});
