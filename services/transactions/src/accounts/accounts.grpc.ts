import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { CallContext, UnaryImplementation } from '@tessera/grpc';
import { principalOf } from '@tessera/auth';
import { OwnershipChecks } from '../auth/ownership';
import { ACCOUNT_STATUSES, type AccountStatus } from '../ledger/account';
import { type AccountType } from '../ledger/account';
import { AccountLifecycleHandler } from './account-lifecycle/account-lifecycle.handler';
import { toProto } from './account.mapping';
import { GetBalanceHandler } from './get-balance/get-balance.handler';
import { GetAccountHandler } from './get-account/get-account.handler';
import { ListAccountsHandler } from './list-accounts/list-accounts.handler';
import { OpenAccountHandler } from './open-account/open-account.handler';

type AccountServiceImpl = UnaryImplementation<typeof paymentsV1.AccountServiceService>;

/**
 * gRPC face of accounts: maps protobuf to domain commands and back; rules live in the handlers. Calls arrive
 * already authorised by the CallGuard (transactions.policy.ts); customers are narrowed to their own accounts here.
 */
@Injectable()
export class AccountsGrpc {
  constructor(
    private readonly openAccount: OpenAccountHandler,
    private readonly getAccount: GetAccountHandler,
    private readonly listAccounts: ListAccountsHandler,
    private readonly lifecycle: AccountLifecycleHandler,
    private readonly balance: GetBalanceHandler,
    private readonly ownership: OwnershipChecks,
  ) {}

  implementation(): AccountServiceImpl {
    return {
      openAccount: async (req: paymentsV1.OpenAccountRequest) => {
        const { account } = await this.openAccount.execute({
          idempotencyKey: req.idempotencyKey,
          ownerId: req.ownerId,
          name: req.name,
          type: accountTypeFromProto(req.type),
          currency: req.currency,
          overdraftLimitMinor: req.overdraftLimitMinor,
          labels: req.labels,
          ...(req.holder
            ? {
                holder: {
                  fullName: req.holder.fullName,
                  address: req.holder.address,
                  nationalId: req.holder.nationalId,
                  country: req.holder.country,
                },
              }
            : {}),
        });
        return { account: toProto(account) };
      },
      getAccount: async (req: paymentsV1.GetAccountRequest, ctx: CallContext) => {
        await this.ownership.assertReadableAccount(principalOf(ctx), req.accountId);
        return { account: toProto(await this.getAccount.execute(req.accountId)) };
      },
      listAccounts: async (req: paymentsV1.ListAccountsRequest, ctx: CallContext) => {
        const status = accountStatusFromProto(req.status);
        const { customerId } = principalOf(ctx);
        // A customer lists only their own accounts; asking for another owner's is an empty page, not an error.
        if (customerId !== undefined && req.ownerId && req.ownerId !== customerId) return { accounts: [], page: { nextPageToken: '' } };
        const ownerId = customerId ?? req.ownerId;
        const page = await this.listAccounts.execute({
          pageSize: req.page?.pageSize ?? 0,
          pageToken: req.page?.pageToken ?? '',
          ...(ownerId ? { ownerId } : {}),
          ...(status ? { status } : {}),
          ...(req.currency ? { currency: req.currency } : {}),
        });
        return { accounts: page.accounts.map(toProto), page: { nextPageToken: page.nextPageToken } };
      },
      freezeAccount: async (req: paymentsV1.FreezeAccountRequest) =>
        (
          await this.lifecycle.freeze({
            idempotencyKey: req.idempotencyKey,
            accountId: req.accountId,
            reason: req.reason,
            expectedVersion: req.expectedVersion,
          })
        ).response,
      closeAccount: async (req: paymentsV1.CloseAccountRequest) =>
        (
          await this.lifecycle.close({
            idempotencyKey: req.idempotencyKey,
            accountId: req.accountId,
            reason: req.reason,
            expectedVersion: req.expectedVersion,
          })
        ).response,
      getBalance: async (req: paymentsV1.GetBalanceRequest, ctx: CallContext) => {
        await this.ownership.assertReadableAccount(principalOf(ctx), req.accountId);
        const b = await this.balance.execute(req.accountId);
        const money = (amountMinor: bigint) => ({ amountMinor, currency: b.currency });
        return {
          balance: {
            accountId: b.accountId,
            ledger: money(b.ledgerMinor),
            available: money(b.availableMinor),
            held: money(b.heldMinor),
            version: b.version,
            asOf: b.asOf,
          },
        };
      },
    };
  }
}

export function accountTypeFromProto(type: paymentsV1.AccountType): AccountType | undefined {
  const name = paymentsV1.accountTypeToJSON(type).replace('ACCOUNT_TYPE_', '');
  return name === 'UNSPECIFIED' || name === 'UNRECOGNIZED' ? undefined : (name as AccountType);
}

function accountStatusFromProto(status: paymentsV1.AccountStatus): AccountStatus | undefined {
  const name = paymentsV1.accountStatusToJSON(status).replace('ACCOUNT_STATUS_', '');
  return (ACCOUNT_STATUSES as readonly string[]).includes(name) ? (name as AccountStatus) : undefined;
}

export { toProto } from './account.mapping';
