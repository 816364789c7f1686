import * as path from 'node:path';
import { aggregateStage, processEnv, serviceLaunch, stageEnv, startOrder, summarizeHealth } from './services';
import { loadTopology } from './topology';

const topo = loadTopology();

describe('startOrder', () => {
  it('starts every peer before the services that call it', () => {
    const order = startOrder(topo.services).map((s) => s.name);
    expect(order).toHaveLength(topo.services.length);
    for (const s of topo.services) {
      for (const peer of s.peers) expect(order.indexOf(peer)).toBeLessThan(order.indexOf(s.name));
    }
    expect(order.indexOf('transactions')).toBeLessThan(order.indexOf('gateway'));
  });

  it('keeps topology order among services that do not depend on each other', () => {
    const names = startOrder(topo.services.filter((s) => s.peers.length === 0)).map((s) => s.name);
    expect(names).toEqual(topo.services.filter((s) => s.peers.length === 0).map((s) => s.name));
  });
});

describe('processEnv', () => {
  it('replaces inherited NODE_OPTIONS (e.g. tsx loaders) with the heap cap and adds the topology env', () => {
    const env = processEnv(topo, 'gateway', { PATH: '/usr/bin', NODE_OPTIONS: '--import tsx', TRANSACTIONS_ADDR: 'elsewhere:1' });
    expect(env['NODE_OPTIONS']).toBe('--max-old-space-size=160 --max-semi-space-size=8');
    expect(env['PATH']).toBe('/usr/bin');
    expect(env['TRANSACTIONS_ADDR']).toBe('127.0.0.1:50051');
    expect(env['GATEWAY_HTTP_PORT']).toBe('8080');
  });

  it('lists every broker of the layout Kafka runs in', () => {
    expect(processEnv(topo, 'transactions', {}, 'triple')['KAFKA_BROKERS']).toBe('127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096');
    expect(processEnv(topo, 'transactions', {})['KAFKA_BROKERS']).toBe('127.0.0.1:19092');
  });
});

describe('serviceLaunch', () => {
  const spec = (name: string) => topo.services.find((s) => s.name === name)!;

  it('runs a Go service as its built binary, capped by GOMEMLIMIT', () => {
    const launch = serviceLaunch(spec('stream-processor-go'), '/repo');
    expect(launch).toEqual({ main: '/repo/services/stream-processor-go/dist/stream-processor-go', command: launch.main, args: [] });
    expect(processEnv(topo, 'stream-processor-go', {})['GOMEMLIMIT']).toBe('128MiB');
  });

  it('runs a Node service with its instrumentation preloaded', () => {
    const launch = serviceLaunch(spec('gateway'), '/repo');
    expect(launch.command).toBe(process.execPath);
    expect(launch.args).toEqual([
      '-r',
      path.join('/repo/services/gateway/dist', 'instrumentation.js'),
      '/repo/services/gateway/dist/main.js',
    ]);
  });
});

describe('summarizeHealth', () => {
  it('names the checks that are down with their detail', () => {
    const body = JSON.stringify({
      status: 'down',
      checks: { transactions: { status: 'down', detail: 'connect ECONNREFUSED', latencyMs: 1 }, kafka: { status: 'up', latencyMs: 2 } },
    });
    expect(summarizeHealth(503, body)).toBe('HTTP 503: transactions (connect ECONNREFUSED)');
  });

  it('falls back to the status code for a body that is not a health report', () => {
    expect(summarizeHealth(502, '<html>bad gateway</html>')).toBe('HTTP 502');
  });
});

describe('aggregateStage (TESSERA_AGGREGATE_STAGE)', () => {
  it('is the TS stage unless go is chosen, and refuses anything else with the fix', () => {
    expect(aggregateStage({})).toBe('ts');
    expect(aggregateStage({ TESSERA_AGGREGATE_STAGE: 'Go ' })).toBe('go');
    expect(aggregateStage({ TESSERA_AGGREGATE_STAGE: 'ts' })).toBe('ts');
    expect(aggregateStage({ TESSERA_AGGREGATE_STAGE: 'both' })).toBe('both');
    expect(() => aggregateStage({ TESSERA_AGGREGATE_STAGE: 'rust' })).toThrow(/none of ts, go, both/);
  });

  it('puts the Go stage on its own group and outputs only side by side', () => {
    const go = topo.services.find((s) => s.name === 'stream-processor-go')!;
    expect(stageEnv(go, 'go')).toEqual({});
    expect(stageEnv(go, 'both')).toMatchObject({
      STREAM_PROCESSOR_GO_GROUP_ID: 'stream-processor-go.compare',
      STREAM_PROCESSOR_GO_AGGREGATES_TOPIC: 'analytics.aggregates.compare.v1',
    });
    expect(
      stageEnv(
        topo.services.find((s) => s.name === 'stream-processor')!,
        'both',
      ),
    ).toEqual({});
  });
});
