import { Metadata } from '@grpc/grpc-js';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { type Principal, rememberCaller } from '@tessera/auth';
import type { CallContext } from '@tessera/grpc';
import { OwnershipChecks } from '../auth/ownership';
import { InMemoryAccountRepository } from '../../test/support/in-memory-account.repository';
import type { Account } from '../ledger/account';
import { AccountLifecycleHandler } from './account-lifecycle/account-lifecycle.handler';
import { GetBalanceHandler } from './get-balance/get-balance.handler';
import { accountTypeFromProto, AccountsGrpc, toProto } from './accounts.grpc';
import { GetAccountHandler } from './get-account/get-account.handler';
import { ListAccountsHandler } from './list-accounts/list-accounts.handler';
import { OpenAccountHandler } from './open-account/open-account.handler';
import { PiiVault } from '../pii/pii-vault';

const { AccountType, AccountStatus } = paymentsV1;
/** A call the CallGuard admitted for `principal` (default: an operator, who sees every account). */
function callAs(principal: Partial<Principal> = {}): CallContext {
  const ctx: CallContext = {
    authorization: undefined,
    apiKey: undefined,
    peer: 'gateway',
    transport: 'mtls',
    method: '/tessera.payments.v1.AccountService/Test',
    deadline: undefined,
    signal: new AbortController().signal,
    metadata: new Metadata(),
  };
  rememberCaller(ctx, {
    principal: { subject: 'op-1', kind: 'user', roles: ['operator'], scopes: new Set(['accounts:read', 'accounts:write']), ...principal },
  });
  return ctx;
}
const ctx = callAs();
const customer = (customerId: string) =>
  callAs({ subject: `user-${customerId}`, roles: ['customer'], scopes: new Set(['accounts:read']), customerId });

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

function setup() {
  const repo = new InMemoryAccountRepository();
  const r = repo.asRepository();
  // The ledger-backed handlers are covered against Postgres (test/ledger.int-spec.ts); here only their validation runs,
  // which rejects before any dependency is touched.
  const unused = undefined as never;
  const impl = new AccountsGrpc(
    new OpenAccountHandler(r, new PiiVault({ activeId: 'test', keys: new Map([['test', Buffer.alloc(32, 7)]]) })),
    new GetAccountHandler(r),
    new ListAccountsHandler(r),
    new AccountLifecycleHandler(unused, unused, unused, unused, unused),
    new GetBalanceHandler(unused, unused),
    new OwnershipChecks(r, unused),
  ).implementation();
  return { repo, impl };
}

describe('accountTypeFromProto', () => {
  it.each([
    [AccountType.ACCOUNT_TYPE_ASSET, 'ASSET'],
    [AccountType.ACCOUNT_TYPE_LIABILITY, 'LIABILITY'],
    [AccountType.ACCOUNT_TYPE_REVENUE, 'REVENUE'],
    [AccountType.ACCOUNT_TYPE_EXPENSE, 'EXPENSE'],
    [AccountType.ACCOUNT_TYPE_UNSPECIFIED, undefined],
    [AccountType.UNRECOGNIZED, undefined],
    [42 as paymentsV1.AccountType, undefined],
  ])('maps %p to %p', (proto, domain) => {
    expect(accountTypeFromProto(proto)).toBe(domain);
  });
});

describe('toProto', () => {
  it('maps every field, keeping int64 values exact', () => {
    const account: Account = {
      id: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11',
      ownerId: 'cust-1',
      name: 'Main',
      type: 'EXPENSE',
      currency: 'JPY',
      status: 'CLOSED',
      overdraftLimitMinor: 9_223_372_036_854_775_807n,
      balanceMinor: 500n,
      heldMinor: 20n,
      version: 12n,
      labels: { team: 'ops' },
      createdAt: new Date('2026-01-01T00:00:00.001Z'),
      updatedAt: new Date('2026-01-02T00:00:00.002Z'),
    };
    const proto = toProto(account);
    const { balanceMinor: _balance, heldMinor: _held, ...fields } = account; // balances: GetBalance, not the Account message
    expect(proto).toEqual(
      paymentsV1.Account.fromPartial({
        ...fields,
        type: AccountType.ACCOUNT_TYPE_EXPENSE,
        status: AccountStatus.ACCOUNT_STATUS_CLOSED,
      }),
    );
    // And it survives the wire.
    expect(paymentsV1.Account.decode(paymentsV1.Account.encode(proto).finish()).overdraftLimitMinor).toBe(9_223_372_036_854_775_807n);
  });
});

describe('AccountsGrpc', () => {
  describe('openAccount', () => {
    it('maps the proto request into a domain command and the account back', async () => {
      const { repo, impl } = setup();
      const req = paymentsV1.OpenAccountRequest.fromPartial({
        idempotencyKey: 'key-00000001',
        ownerId: 'cust-1',
        name: 'Main',
        type: AccountType.ACCOUNT_TYPE_LIABILITY,
        currency: 'EUR',
        overdraftLimitMinor: 2n ** 62n,
        labels: { team: 'ops' },
      });
      const { account } = await impl.openAccount(req, ctx);
      expect(repo.accounts).toHaveLength(1);
      expect(repo.accounts[0]).toMatchObject({
        ownerId: 'cust-1',
        name: 'Main',
        type: 'LIABILITY',
        currency: 'EUR',
        overdraftLimitMinor: 2n ** 62n,
        labels: { team: 'ops' },
      });
      expect(account).toMatchObject({
        id: repo.accounts[0]!.id,
        type: AccountType.ACCOUNT_TYPE_LIABILITY,
        status: AccountStatus.ACCOUNT_STATUS_ACTIVE,
        overdraftLimitMinor: 2n ** 62n,
        labels: { team: 'ops' },
      });
    });

    it('turns an unspecified type into a field violation', async () => {
      const { repo, impl } = setup();
      const req = paymentsV1.OpenAccountRequest.fromPartial({ idempotencyKey: 'key-00000001', ownerId: 'cust-1', currency: 'EUR' });
      const error = await rejection(impl.openAccount(req, ctx));
      expect(error).toMatchObject({ kind: 'INVALID_ARGUMENT', fieldViolations: [{ field: 'type' }] });
      expect(repo.accounts).toHaveLength(0);
    });
  });

  describe('getAccount', () => {
    it('returns the stored account and maps malformed / unknown ids to typed errors', async () => {
      const { repo, impl } = setup();
      const stored = repo.add({ ownerId: 'cust-7' });
      await expect(impl.getAccount({ accountId: stored.id }, ctx)).resolves.toEqual({ account: toProto(stored) });
      await expect(rejection(impl.getAccount({ accountId: 'nope' }, ctx))).resolves.toMatchObject({
        code: 'PAYMENTS.MALFORMED_ID',
        kind: 'INVALID_ARGUMENT',
      });
      await expect(rejection(impl.getAccount({ accountId: '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11' }, ctx))).resolves.toMatchObject({
        code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
        kind: 'NOT_FOUND',
      });
    });
  });

  describe('getAccount for a customer', () => {
    it("answers another customer's account exactly like a missing one (NOT_FOUND, no existence oracle)", async () => {
      const { repo, impl } = setup();
      const mine = repo.add({ ownerId: 'cust-a' });
      const theirs = repo.add({ ownerId: 'cust-b' });
      await expect(impl.getAccount({ accountId: mine.id }, customer('cust-a'))).resolves.toEqual({ account: toProto(mine) });
      await expect(rejection(impl.getAccount({ accountId: theirs.id }, customer('cust-a')))).resolves.toMatchObject({
        code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
        kind: 'NOT_FOUND',
      });
    });
  });

  describe('listAccounts for a customer', () => {
    it('lists only their own accounts, whatever owner the request names', async () => {
      const { repo, impl } = setup();
      repo.add({ ownerId: 'cust-a' });
      repo.add({ ownerId: 'cust-b' });
      const own = await impl.listAccounts(paymentsV1.ListAccountsRequest.fromPartial({}), customer('cust-a'));
      expect(repo.listCalls[0]?.filter).toEqual({ ownerId: 'cust-a' });
      expect(own.accounts.map((a) => a.ownerId)).toEqual(['cust-a']);
      const other = await impl.listAccounts(paymentsV1.ListAccountsRequest.fromPartial({ ownerId: 'cust-b' }), customer('cust-a'));
      expect(other.accounts).toEqual([]);
    });
  });

  describe('listAccounts', () => {
    it('maps page, owner, status and currency to the query and the page token back', async () => {
      const { repo, impl } = setup();
      for (let i = 0; i < 3; i++) repo.add({ ownerId: 'cust-1', currency: 'USD', status: 'FROZEN', createdAt: new Date(Date.now() + i) });
      const res = await impl.listAccounts(
        paymentsV1.ListAccountsRequest.fromPartial({
          page: { pageSize: 2 },
          ownerId: 'cust-1',
          status: AccountStatus.ACCOUNT_STATUS_FROZEN,
          currency: 'USD',
        }),
        ctx,
      );
      expect(repo.listCalls[0]).toEqual({ filter: { ownerId: 'cust-1', status: 'FROZEN', currency: 'USD' }, pageSize: 3 });
      expect(res.accounts).toHaveLength(2);
      expect(res.page?.nextPageToken).not.toBe('');
    });

    it('treats an UNSPECIFIED status and a missing page as "any" and the default size', async () => {
      const { repo, impl } = setup();
      const res = await impl.listAccounts(paymentsV1.ListAccountsRequest.fromPartial({}), ctx);
      expect(repo.listCalls[0]).toEqual({ filter: {}, pageSize: 51 });
      expect(res).toEqual({ accounts: [], page: { nextPageToken: '' } });
    });
  });

  describe('methods of the ledger work', () => {
    it.each(['freezeAccount', 'closeAccount', 'getBalance'] as const)(
      '%s rejects a malformed account id before touching storage',
      async (method) => {
        const { impl } = setup();
        const call = impl[method] as (req: unknown, ctx: CallContext) => Promise<unknown>;
        const req = { idempotencyKey: 'key-12345678', accountId: 'nope', reason: '', expectedVersion: 0n };
        await expect(rejection(call(req, ctx))).resolves.toMatchObject({ code: 'PAYMENTS.MALFORMED_ID', kind: 'INVALID_ARGUMENT' });
      },
    );
  });
});
