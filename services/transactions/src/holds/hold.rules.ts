import { ledgerErrors } from '../ledger/ledger.errors';

/** A hold can still be captured or voided: AUTHORIZED and not past its expiry (else the typed refusal). */
export function assertLive(hold: { id: string; status: string; expiresAt: Date }): void {
  if (hold.status === 'EXPIRED' || (hold.status === 'AUTHORIZED' && hold.expiresAt.getTime() <= Date.now()))
    throw ledgerErrors.holdExpired(hold.id);
  if (hold.status !== 'AUTHORIZED') throw ledgerErrors.holdNotAuthorized(hold.id, hold.status);
}
