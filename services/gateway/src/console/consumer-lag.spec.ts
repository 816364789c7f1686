import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { gatewayConfigSchema } from '../config';
import { groupMatcher, partitionLags, sumLag } from './consumer-lag';

describe('partitionLags', () => {
  it('subtracts committed from end offsets per partition, beyond 2^53 too', () => {
    const lags = partitionLags(
      [
        { partition: 1, offset: '90' },
        { partition: 0, offset: '9007199254740993' },
      ],
      [
        { partition: 0, high: '9007199254741000' },
        { partition: 1, high: '100' },
      ],
    );
    expect(lags).toEqual([
      { partition: 0, committed: '9007199254740993', end: '9007199254741000', lag: 7 },
      { partition: 1, committed: '90', end: '100', lag: 10 },
    ]);
    expect(sumLag(lags)).toBe(17);
  });

  it('reports no lag for a partition without a commit (-1) and never a negative lag', () => {
    expect(
      partitionLags(
        [
          { partition: 0, offset: '-1' },
          { partition: 1, offset: '50' },
        ],
        [
          { partition: 0, high: '10' },
          { partition: 1, high: '20' },
          { partition: 2, high: '5' },
        ],
      ),
    ).toEqual([
      { partition: 0, committed: null, end: '10', lag: null },
      { partition: 1, committed: '50', end: '20', lag: 0 },
      { partition: 2, committed: null, end: '5', lag: null },
    ]);
  });
});

describe('groupMatcher', () => {
  it('matches exact ids and service prefixes', () => {
    const matches = groupMatcher(['compliance.aml-monitor', 'stream-processor.*']);
    expect(matches('compliance.aml-monitor')).toBe(true);
    expect(matches('compliance.aml-monitor-2')).toBe(false);
    expect(matches('stream-processor.aggregates')).toBe(true);
    expect(matches('stream-processor-go.aggregates')).toBe(false);
  });

  it('by default covers every consuming service of infra/topology.yaml', () => {
    const topology = parse(readFileSync(join(__dirname, '../../../../infra/topology.yaml'), 'utf8')) as {
      services: { name: string; consumes?: string[] }[];
    };
    const matches = groupMatcher(gatewayConfigSchema.parse({}).GATEWAY_LAG_GROUPS);
    const consumers = topology.services.filter((s) => (s.consumes ?? []).length > 0).map((s) => s.name);
    expect(consumers.length).toBeGreaterThan(0);
    for (const service of consumers) expect(matches(`${service}.some-purpose`)).toBe(true);
  });
});
