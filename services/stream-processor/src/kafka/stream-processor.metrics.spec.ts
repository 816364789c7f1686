import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';
import { DLQ_MESSAGES_METRIC } from '@tessera/kafka';
import { PIPELINE_EVENTS_METRIC, StreamProcessorMetrics } from './stream-processor.metrics';

describe(StreamProcessorMetrics, () => {
  describe('committed', () => {
    it('counts events per outcome and dead letters per source topic and reason code', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ readers: [reader] });
      const m = new StreamProcessorMetrics('stream-processor.aggregates', provider.getMeter('test'));
      const dl = (code: string) => ({ code, reason: 'r', offset: '1', key: null, value: null });

      m.committed('analytics.events.raw.v1', {
        stats: { events: 7, duplicates: 1, late: 2, poison: 0, ignored: 0 },
        deadLetters: [dl('LATE'), dl('LATE'), dl('ANALYTICS.INVALID_EVENT')],
      });
      await reader.forceFlush();

      const rows = (name: string) =>
        (
          (exporter.getMetrics()[0]?.scopeMetrics[0]?.metrics.find((x) => x.descriptor.name === name)?.dataPoints ?? []) as Array<
            DataPoint<number>
          >
        ).map((p) => ({ ...p.attributes, n: p.value }));
      expect(rows(PIPELINE_EVENTS_METRIC)).toEqual([
        { 'tessera.pipeline.stage': 'processor', 'tessera.pipeline.outcome': 'processed', n: 7 },
        { 'tessera.pipeline.stage': 'processor', 'tessera.pipeline.outcome': 'duplicate', n: 1 },
        { 'tessera.pipeline.stage': 'processor', 'tessera.pipeline.outcome': 'late', n: 2 },
      ]);
      const group = {
        'messaging.destination.name': 'analytics.events.raw.v1',
        'messaging.consumer.group.name': 'stream-processor.aggregates',
      };
      expect(rows(DLQ_MESSAGES_METRIC)).toEqual([
        { ...group, 'error.type': 'LATE', n: 2 },
        { ...group, 'error.type': 'ANALYTICS.INVALID_EVENT', n: 1 },
      ]);
      await provider.shutdown();
    });
  });
});
