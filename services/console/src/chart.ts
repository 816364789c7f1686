import uPlot from 'uplot';
import type { Series } from './aggregate-store';
import { rollingRange } from './format';

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

/**
 * A uPlot time-series chart that is rebuilt when the set of lines changes and only fed new data otherwise
 * (uPlot's setData is cheap; re-creating the chart on every SSE message would not be).
 */
export class LineChart {
  private plot: uPlot | undefined;
  private metrics = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly yLabel: string,
    private readonly spanSeconds = 600,
  ) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
  }

  update(series: Series): void {
    const data: uPlot.AlignedData = [series.x, ...series.lines.map((l) => l.values)];
    const metrics = series.lines.map((l) => l.metric).join('\n');
    if (this.plot && metrics === this.metrics) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.metrics = metrics;
    this.plot = new uPlot(
      {
        ...this.size(),
        series: [
          {},
          ...series.lines.map((l, i) => ({
            label: l.metric,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            points: { show: true, size: 4 },
            spanGaps: false,
          })),
        ],
        axes: [{}, { label: this.yLabel, size: 60 }],
        // A rolling window ending now: uPlot's auto-range spans years around a single point.
        scales: { x: { time: true, range: (_u, min, max) => rollingRange(min, max, this.spanSeconds) } },
        legend: { live: true },
      },
      data,
      this.container,
    );
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(320, this.container.clientWidth), height: 220 };
  }
}
