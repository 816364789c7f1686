import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { barChartSvg, markdownTable, resourcesTable, writeReport } from './report';
import type { BenchResult } from './types';

const result: BenchResult = {
  id: 'edge',
  title: 'Edge <read>',
  method: 'closed loop',
  table: {
    columns: ['case', 'req/s'],
    rows: [
      ['gateway | default', 270],
      ['bare', 12500],
    ],
  },
  chart: {
    title: 'req/s',
    unit: 'req/s',
    bars: [
      { label: 'bare', value: 12500, baseline: true },
      { label: 'gateway', value: 270, baseline: false },
    ],
  },
  ratios: { 'gateway / bare': 0.0216 },
  notes: ['a note'],
  commands: ['autocannon -c 32'],
  raw: { any: 1 },
};

describe('markdownTable', () => {
  it('renders a header, a rule and one escaped row per entry', () => {
    expect(markdownTable(result.table).split('\n')).toEqual([
      '| case | req/s |',
      '| --- | --- |',
      '| gateway \\| default | 270 |',
      '| bare | 12500 |',
    ]);
  });
});

describe('barChartSvg', () => {
  it('draws one bar per system, scaled to the largest, baselines grey, text escaped', () => {
    const svg = barChartSvg(result.chart);
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('width="420" height="18" fill="#9aa5b1"'); // the largest bar is full width
    expect(svg).toContain('width="9" height="18" fill="#2f6fde"'); // 270 / 12500 of 420 px
    expect(barChartSvg({ ...result.chart, title: 'a<b' })).toContain('a&lt;b');
  });
});

describe('resourcesTable', () => {
  it('has one column per component seen in any case and a dash where a case lacks it', () => {
    const t = resourcesTable([
      {
        label: 'a',
        wallSeconds: 1,
        benchCpuSeconds: 0.5,
        cpuSeconds: { gateway: 1.2 },
        peakPssMb: { gateway: 150 },
        peakRssMb: { gateway: 200 },
      },
      {
        label: 'b',
        wallSeconds: 2,
        benchCpuSeconds: 0.1,
        cpuSeconds: { postgres: 3 },
        peakPssMb: { postgres: 80 },
        peakRssMb: { postgres: 90 },
      },
    ]);
    expect(t.columns).toEqual(['case', 'wall s', 'bench (load gen) CPU s', 'gateway CPU s / peak PSS MB', 'postgres CPU s / peak PSS MB']);
    expect(t.rows).toEqual([
      ['a', 1, 0.5, '1.2 / 150', '-'],
      ['b', 2, 0.1, '-', '3 / 80'],
    ]);
  });
});

describe('writeReport', () => {
  it('writes README.md, results.json, machine.json and one SVG per benchmark', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    const machine = {
      date: '2026-12-02T00:00:00Z',
      gitSha: 'abc1234',
      gitDirty: false,
      nproc: 2,
      cpuModel: 'cpu',
      memoryGiB: 24,
      kernel: '6',
      versions: { node: '24' },
    };
    writeReport(dir, {
      machine,
      smoke: false,
      command: 'npm run bench',
      results: [result],
      failures: [{ id: 'pipeline', error: 'broker down' }],
      seconds: 12,
    });
    const md = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(md).toContain('# Tessera bench 2026-12-02 (abc1234)');
    expect(md).toContain('**pipeline FAILED**: broker down');
    expect(md).toContain('**gateway / bare** = 0.0216');
    expect(md).toContain('![Edge <read>](edge.svg)');
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).results[0].id).toBe('edge');
    expect(readFileSync(join(dir, 'edge.svg'), 'utf8')).toMatch(/^<svg /);
    expect(JSON.parse(readFileSync(join(dir, 'machine.json'), 'utf8')).gitSha).toBe('abc1234');
  });
});
