import { END, renderSection, replaceSection, START } from './ts-or-go';

const run = (ts: number[], go: number[]) => ({
  machine: { date: '2026-12-04T10:00:00.000Z', gitSha: 'abc1234', nproc: 2, memoryGiB: 24, versions: {} },
  smoke: false,
  results: [
    {
      id: 'pipeline',
      table: {
        columns: [
          'system',
          'events/s',
          'drain s',
          'events/s excl. start-up',
          'CPU s',
          'CPU s per 100k events',
          'peak RSS MB',
          'peak PSS MB',
        ],
        rows: [
          ['ConsumerPerformance', 60000, 2.5, 140000, 4, 2.7, 2, 0],
          ['TS stream-processor', ts[0] as number, 12, ts[1] as number, 13, ts[2] as number, ts[3] as number, 0],
          ['Go stream-processor-go', go[0] as number, 10, go[1] as number, 15, go[2] as number, go[3] as number, 0],
        ],
      },
    },
  ],
});

describe('README section "TypeScript or Go for the aggregate stage"', () => {
  it('quotes the measured ratios and says whether the case study claim holds', () => {
    const md = renderSection('/x/bench/results/2026-12-04-abc1234', run([12000, 13000, 9, 280], [14000, 15000, 10, 140]));
    expect(md).toContain('| events/s (start-up included) | 12,000 | 14,000 | 1.17x |');
    expect(md).toContain('| peak RSS, MB | 280 | 140 | 0.5x |');
    expect(md).toContain('"3x faster on half the resources", is **not reproduced**');
    expect(renderSection('/x/r', run([5000, 5000, 30, 300], [15000, 16000, 10, 140]))).toContain('is **reproduced**');
  });

  it("quotes each stage's freshness per offered rate, and says which stage is not measured yet", () => {
    const fresh = (stage: 'ts' | 'go', rows: number[][]) => ({
      dir: `/x/bench/results/2026-12-05-${stage}`,
      run: {
        ...run([1, 1, 1, 1], [1, 1, 1, 1]),
        results: [
          {
            id: 'freshness',
            raw: { stage },
            table: { columns: ['offered (ev/s)', 'achieved offered (ev/s)', 'accepted (ev/s)', 'e2e p99 (s)'], rows },
          },
        ],
      },
    });
    const md = renderSection('/x/r', run([12000, 13000, 9, 280], [14000, 15000, 10, 140]), {
      ts: fresh('ts', [
        [1000, 1000, 1000, 0.5],
        [5000, 4990, 4990, 0.8],
      ]),
      go: fresh('go', [
        [1000, 1000, 1000, 0.4],
        [5000, 4990, 3000, 9],
      ]),
    });
    expect(md).toContain('| 1,000 | 0.5 | 0.4 | 0.8x |');
    expect(md).toContain('| 5,000 | 0.8 | n/a | n/a |');
    expect(renderSection('/x/r', run([1, 1, 1, 1], [1, 1, 1, 1]), { ts: fresh('ts', [[1000, 1000, 1000, 0.5]]) })).toContain(
      'not measured for the Go stage yet: `TESSERA_AGGREGATE_STAGE=go npm run bench -- freshness`',
    );
  });

  it('replaces only the block between its markers', () => {
    const readme = `# T\n\n## Performance\n\ntext\n${START}\nold\n${END}\n\n## Observability\n`;
    const out = replaceSection(readme, `${START}\nnew\n${END}`);
    expect(out).toBe(`# T\n\n## Performance\n\ntext\n${START}\nnew\n${END}\n\n## Observability\n`);
    expect(replaceSection('# T\n\n## Observability\n', `${START}\nnew\n${END}`)).toBe(`# T\n\n${START}\nnew\n${END}\n\n## Observability\n`);
  });

  it('refuses a run without both processors', () => {
    const r = run([1, 1, 1, 1], [1, 1, 1, 1]);
    r.results[0]!.table.rows.pop();
    expect(() => renderSection('/x/r', r)).toThrow(/lacks the TS or the Go processor/);
  });
});
