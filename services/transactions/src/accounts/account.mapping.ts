import { paymentsV1 } from '@tessera/contracts';
import type { ResponseCodec } from '../idempotency/idempotency';
import type { Account, AccountStatus, AccountType } from '../ledger/account';

/** Domain account -> payments.v1 Account. */
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

/**
 * payments.v1 Account -> domain: OpenAccount's stored response, replayed. The account as it was opened, before any
 * posting: its balances are zero (the protobuf Account carries none; GetBalance reads them).
 */
export function fromProto(p: paymentsV1.Account): Account {
  return {
    id: p.id,
    ownerId: p.ownerId,
    name: p.name,
    type: paymentsV1.accountTypeToJSON(p.type).replace('ACCOUNT_TYPE_', '') as AccountType,
    currency: p.currency,
    status: paymentsV1.accountStatusToJSON(p.status).replace('ACCOUNT_STATUS_', '') as AccountStatus,
    overdraftLimitMinor: p.overdraftLimitMinor,
    balanceMinor: 0n,
    heldMinor: 0n,
    version: p.version,
    labels: p.labels,
    createdAt: p.createdAt ?? new Date(0),
    updatedAt: p.updatedAt ?? new Date(0),
  };
}

/** Stores a domain account as its protobuf bytes in the idempotency record. */
export const accountCodec: ResponseCodec<Account> = {
  encode: (account) => paymentsV1.Account.encode(toProto(account)),
  decode: (bytes) => fromProto(paymentsV1.Account.decode(bytes)),
};
