import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';
import { IngestMetrics, PIPELINE_EVENTS_METRIC } from './ingest.metrics';

describe(IngestMetrics, () => {
  describe('record', () => {
    it('counts accepted events and rejections per code under stage ingest', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ readers: [reader] });
      const m = new IngestMetrics(provider.getMeter('test'));

      m.record(3, [
        { index: 1, eventId: 'e1', code: 'INGEST.EVENT_TOO_OLD', reason: 'old' },
        { index: 2, eventId: 'e2', code: 'INGEST.EVENT_TOO_OLD', reason: 'old' },
        { index: 4, eventId: 'e4', code: 'INGEST.INVALID_EVENT', reason: 'bad' },
      ]);
      m.record(0, []);
      await reader.forceFlush();

      const metric = exporter.getMetrics()[0]?.scopeMetrics[0]?.metrics.find((x) => x.descriptor.name === PIPELINE_EVENTS_METRIC);
      const rows = ((metric?.dataPoints ?? []) as Array<DataPoint<number>>).map((p) => ({ ...p.attributes, n: p.value }));
      expect(rows).toEqual(
        expect.arrayContaining([
          { 'tessera.pipeline.stage': 'ingest', 'tessera.pipeline.outcome': 'accepted', n: 3 },
          { 'tessera.pipeline.stage': 'ingest', 'tessera.pipeline.outcome': 'rejected', 'error.type': 'INGEST.EVENT_TOO_OLD', n: 2 },
          { 'tessera.pipeline.stage': 'ingest', 'tessera.pipeline.outcome': 'rejected', 'error.type': 'INGEST.INVALID_EVENT', n: 1 },
        ]),
      );
      expect(rows).toHaveLength(3);
      await provider.shutdown();
    });
  });
});
