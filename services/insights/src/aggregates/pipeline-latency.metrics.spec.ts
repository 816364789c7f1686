import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { newestCoveredEventTime, PIPELINE_E2E_LATENCY_METRIC, PipelineLatencyMetrics } from './pipeline-latency.metrics';

const at = (iso: string) => new Date(iso);

describe('newestCoveredEventTime', () => {
  it('is the max event time the processor sent, even when the window end and computation time are later', () => {
    const maxEventTime = at('2026-01-01T00:00:12.345Z');
    expect(newestCoveredEventTime({ windowEnd: at('2026-01-01T00:01:00Z'), computedAt: at('2026-01-01T00:01:05Z'), maxEventTime })).toBe(
      maxEventTime.getTime(),
    );
  });

  it('without one, is the window end for a closed window and the computation time for an open one', () => {
    expect(newestCoveredEventTime({ windowEnd: at('2026-01-01T00:01:00Z'), computedAt: at('2026-01-01T00:01:05Z') })).toBe(
      at('2026-01-01T00:01:00Z').getTime(),
    );
    expect(newestCoveredEventTime({ windowEnd: at('2026-01-01T00:01:00Z'), computedAt: at('2026-01-01T00:00:30Z') })).toBe(
      at('2026-01-01T00:00:30Z').getTime(),
    );
  });
});

describe(PipelineLatencyMetrics, () => {
  describe('visible', () => {
    it('records seconds from the newest covered event time, split by final, in second-scale buckets', async () => {
      const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ readers: [reader] });
      const m = new PipelineLatencyMetrics(provider.getMeter('test'));
      const windowEnd = at('2026-01-01T00:01:00Z');

      m.visible({ windowEnd, computedAt: at('2026-01-01T00:01:04Z'), final: true }, at('2026-01-01T00:01:06.500Z').getTime());
      m.visible({ windowEnd, computedAt: at('2026-01-01T00:00:40Z'), final: false }, at('2026-01-01T00:00:40.200Z').getTime());
      // With max_event_time: measured from the newest aggregated event (00:00:55), not the window end.
      m.visible(
        { windowEnd, computedAt: at('2026-01-01T00:01:02Z'), maxEventTime: at('2026-01-01T00:00:55Z'), final: true },
        at('2026-01-01T00:01:03Z').getTime(),
      );
      await reader.forceFlush();

      const metric = exporter
        .getMetrics()[0]
        ?.scopeMetrics[0]?.metrics.find((x) => x.descriptor.name === PIPELINE_E2E_LATENCY_METRIC) as HistogramMetricData;
      expect(metric.descriptor.unit).toBe('s');
      const final = metric.dataPoints.find((p) => p.attributes['tessera.aggregate.final'] === true);
      const early = metric.dataPoints.find((p) => p.attributes['tessera.aggregate.final'] === false);
      expect(final?.value.sum).toBeCloseTo(6.5 + 8);
      expect(early?.value.sum).toBeCloseTo(0.2);
      expect(final?.value.count).toBe(2);
      expect(final?.value.buckets.boundaries).toEqual([0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]);
      await provider.shutdown();
    });
  });
});
