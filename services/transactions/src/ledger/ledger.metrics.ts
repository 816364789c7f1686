import { metrics, type Counter, type Meter } from '@opentelemetry/api';
import { paymentsV1 } from '@tessera/contracts';

export const LEDGER_TRANSFERS_METRIC = 'tessera.ledger.transfers';
export const LEDGER_AMOUNT_METRIC = 'tessera.ledger.amount';

/**
 * `tessera.ledger.transfers` and `tessera.ledger.amount` (minor units) by resulting status and currency.
 * Handlers call it after their database transaction committed and never for idempotent replays, so a
 * rolled-back or repeated request counts nothing. Amounts are not PII; account and transfer ids stay off labels.
 */
export class LedgerMetrics {
  private readonly transfers: Counter;
  private readonly amount: Counter;

  constructor(meter: Meter = metrics.getMeter('tessera.transactions.ledger')) {
    this.transfers = meter.createCounter(LEDGER_TRANSFERS_METRIC, {
      description: 'Transfers written, by resulting status and currency',
      unit: '{transfer}',
    });
    this.amount = meter.createCounter(LEDGER_AMOUNT_METRIC, {
      description: 'Amount of the transfers written, in minor units',
      unit: '{minor_unit}',
    });
  }

  /** Undefined entries (an absent optional message field) are skipped. */
  record(transfers: ReadonlyArray<paymentsV1.Transfer | undefined>): void {
    for (const t of transfers) {
      if (!t) continue;
      const attributes = {
        'tessera.transfer.status': paymentsV1.transferStatusToJSON(t.status).replace(/^TRANSFER_STATUS_/, ''),
        'tessera.currency': t.amount?.currency || 'unknown',
      };
      this.transfers.add(1, attributes);
      if (t.amount) this.amount.add(Number(t.amount.amountMinor), attributes);
    }
  }
}
