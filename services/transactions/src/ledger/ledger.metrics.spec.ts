import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';
import { paymentsV1 } from '@tessera/contracts';
import { LEDGER_AMOUNT_METRIC, LEDGER_TRANSFERS_METRIC, LedgerMetrics } from './ledger.metrics';

describe(LedgerMetrics, () => {
  describe('record', () => {
    it('counts transfers and minor units by status and currency, nothing else on the labels', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ readers: [reader] });
      const t = (status: paymentsV1.TransferStatus, amountMinor: bigint) =>
        paymentsV1.Transfer.fromPartial({ id: `t-${amountMinor}`, sourceAccountId: 'a', status, amount: { amountMinor, currency: 'EUR' } });

      new LedgerMetrics(provider.getMeter('test')).record([
        t(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED, 1250n),
        t(paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED, 50n),
        t(paymentsV1.TransferStatus.TRANSFER_STATUS_PENDING, 900n),
        undefined,
      ]);
      await reader.forceFlush();

      const rows = (name: string) =>
        (
          (exporter.getMetrics()[0]?.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as Array<
            DataPoint<number>
          >
        ).map((p) => ({ ...p.attributes, n: p.value }));
      expect(rows(LEDGER_TRANSFERS_METRIC)).toEqual([
        { 'tessera.transfer.status': 'POSTED', 'tessera.currency': 'EUR', n: 2 },
        { 'tessera.transfer.status': 'PENDING', 'tessera.currency': 'EUR', n: 1 },
      ]);
      expect(rows(LEDGER_AMOUNT_METRIC)).toEqual([
        { 'tessera.transfer.status': 'POSTED', 'tessera.currency': 'EUR', n: 1300 },
        { 'tessera.transfer.status': 'PENDING', 'tessera.currency': 'EUR', n: 900 },
      ]);
      await provider.shutdown();
    });
  });
});
