import { paymentsV1 } from '@tessera/contracts';
import type { Account } from './account';

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
