import { createHash } from 'node:crypto';
import { trace } from '@opentelemetry/api';

/**
 * Stable, non-reversible tag for an account in telemetry: sha256 of the id, first 16 hex characters. Account ids
 * are not PII, but a trace backend is read by more people than the ledger, so traces carry a join key (the same
 * account always hashes the same; tail samplers can keep "every trace of this account") rather than the id.
 */
export function accountHash(accountId: string): string {
  return createHash('sha256').update(accountId).digest('hex').slice(0, 16);
}

/**
 * Tail-friendly attributes on the active span (the CreateTransfer server span): the transfer id, the source
 * account's hash and the currency, so a backend can find or keep one transfer's traces. No names, no amounts.
 */
export function tagTransferSpan(transferId: string, sourceAccountId: string, currency: string): void {
  trace.getActiveSpan()?.setAttributes({
    'tessera.transfer.id': transferId,
    'tessera.account.hash': accountHash(sourceAccountId),
    'tessera.transfer.currency': currency,
  });
}
