import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import type { UnaryImplementation } from '@tessera/grpc';
import { ACCOUNT_STATUSES, type Account, type AccountStatus, type AccountType } from './account';
import { GetAccountHandler } from './get-account/get-account.handler';
import { ListAccountsHandler } from './list-accounts/list-accounts.handler';
import { OpenAccountHandler } from './open-account/open-account.handler';

type AccountServiceImpl = UnaryImplementation<typeof paymentsV1.AccountServiceService>;

/** gRPC face of accounts: maps protobuf to domain commands and back; rules live in the handlers. */
@Injectable()
export class AccountsGrpc {
  constructor(
    private readonly openAccount: OpenAccountHandler,
    private readonly getAccount: GetAccountHandler,
    private readonly listAccounts: ListAccountsHandler,
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
        });
        return { account: toProto(account) };
      },
      getAccount: async (req: paymentsV1.GetAccountRequest) => ({ account: toProto(await this.getAccount.execute(req.accountId)) }),
      listAccounts: async (req: paymentsV1.ListAccountsRequest) => {
        const status = accountStatusFromProto(req.status);
        const page = await this.listAccounts.execute({
          pageSize: req.page?.pageSize ?? 0,
          pageToken: req.page?.pageToken ?? '',
          ...(req.ownerId ? { ownerId: req.ownerId } : {}),
          ...(status ? { status } : {}),
          ...(req.currency ? { currency: req.currency } : {}),
        });
        return { accounts: page.accounts.map(toProto), page: { nextPageToken: page.nextPageToken } };
      },
      // The rest of AccountService belongs to the ledger work (issue #3); until then they answer with a
      // typed, documented status rather than a guess.
      freezeAccount: async () => notYet('FreezeAccount'),
      closeAccount: async () => notYet('CloseAccount'),
      getBalance: async () => notYet('GetBalance'),
    };
  }
}

function notYet(method: string): never {
  throw new AppError({ code: 'PAYMENTS.NOT_IMPLEMENTED', kind: 'FAILED_PRECONDITION', message: `${method} is not available yet`, metadata: { method } });
}

export function accountTypeFromProto(type: paymentsV1.AccountType): AccountType | undefined {
  const name = paymentsV1.accountTypeToJSON(type).replace('ACCOUNT_TYPE_', '');
  return name === 'UNSPECIFIED' || name === 'UNRECOGNIZED' ? undefined : (name as AccountType);
}

function accountStatusFromProto(status: paymentsV1.AccountStatus): AccountStatus | undefined {
  const name = paymentsV1.accountStatusToJSON(status).replace('ACCOUNT_STATUS_', '');
  return (ACCOUNT_STATUSES as readonly string[]).includes(name) ? (name as AccountStatus) : undefined;
}

export function toProto(account: Account): paymentsV1.Account {
  return paymentsV1.Account.fromPartial({
    id: account.id,
    ownerId: account.ownerId,
    name: account.name,
    type: paymentsV1.accountTypeFromJSON(`ACCOUNT_TYPE_${account.type}`),
    currency: account.currency,
    status: paymentsV1.accountStatusFromJSON(`ACCOUNT_STATUS_${account.status}`),
    overdraftLimitMinor: account.overdraftLimitMinor,
    version: account.version,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
    labels: account.labels,
  });
}
