import { status } from '@grpc/grpc-js';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import pino from 'pino';
import { createGrpcClient, unaryCall } from './client';
import { rpcMetricAttributes, RPC_CLIENT_DURATION, RPC_SERVER_DURATION } from './grpc.metrics';
import { unaryService, type UnaryImplementation } from './handlers';
import { createGrpcServer, type GrpcServerHandle } from './server';

const logger = pino({ level: 'silent' });
const Svc = paymentsV1.AccountServiceService;

const unimplemented = async (): Promise<never> => {
  throw new AppError({ code: 'TEST.UNIMPLEMENTED', kind: 'INTERNAL', message: 'not in this test' });
};
const implementation = {
  ...(Object.fromEntries(Object.keys(Svc).map((k) => [k, unimplemented])) as unknown as UnaryImplementation<typeof Svc>),
  async getAccount(req: paymentsV1.GetAccountRequest): Promise<paymentsV1.GetAccountResponse> {
    if (req.accountId === 'missing')
      throw new AppError({ code: 'PAYMENTS.ACCOUNT_NOT_FOUND', kind: 'NOT_FOUND', message: 'account not found' });
    if (req.accountId === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
    return { account: paymentsV1.Account.fromPartial({ id: req.accountId, currency: 'EUR' }) };
  },
};

/** One meter provider per test file, read on demand through the in-memory exporter. */
function inMemoryMetrics() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('test'),
    async histogram(name: string): Promise<HistogramMetricData | undefined> {
      exporter.reset();
      await reader.forceFlush();
      const found = exporter
        .getMetrics()
        .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
        .find((m) => m.descriptor.name === name);
      if (found && found.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
      return found;
    },
    shutdown: () => provider.shutdown(),
  };
}

function countFor(data: HistogramMetricData | undefined, method: string, code: number): number {
  return (data?.dataPoints ?? [])
    .filter((p) => p.attributes['rpc.method'] === method && p.attributes['rpc.grpc.status_code'] === code)
    .reduce((n, p) => n + p.value.count, 0);
}

describe('rpcMetricAttributes', () => {
  it('takes service and method from the path and keeps nothing call-specific', () => {
    expect(rpcMetricAttributes('/tessera.payments.v1.AccountService/GetAccount', 5)).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'tessera.payments.v1.AccountService',
      'rpc.method': 'GetAccount',
      'rpc.grpc.status_code': 5,
    });
  });
});

describe('gRPC metrics interceptors', () => {
  const telemetry = inMemoryMetrics();
  let server: GrpcServerHandle;
  let client: paymentsV1.AccountServiceClient;

  beforeAll(async () => {
    server = await createGrpcServer({
      port: 0,
      host: '127.0.0.1',
      logger,
      meter: telemetry.meter,
      services: [{ definition: Svc, implementation: unaryService(Svc, implementation, { logger }) }],
    });
    client = createGrpcClient(paymentsV1.AccountServiceClient, `127.0.0.1:${server.port}`, { retry: 'none', meter: telemetry.meter });
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown();
    await telemetry.shutdown();
  });

  describe('metricsServerInterceptor', () => {
    it('records rpc.server.duration per method and status code, OK and errors alike', async () => {
      await unaryCall(client, 'getAccount', { accountId: 'a-1' });
      await unaryCall(client, 'getAccount', { accountId: 'a-2' });
      await expect(unaryCall(client, 'getAccount', { accountId: 'missing' })).rejects.toMatchObject({ code: 'PAYMENTS.ACCOUNT_NOT_FOUND' });

      const served = await telemetry.histogram(RPC_SERVER_DURATION);
      expect(served?.descriptor.unit).toBe('ms');
      expect(countFor(served, 'GetAccount', status.OK)).toBe(2);
      expect(countFor(served, 'GetAccount', status.NOT_FOUND)).toBe(1);
      for (const point of served?.dataPoints ?? []) {
        expect(Object.keys(point.attributes).sort()).toEqual(['rpc.grpc.status_code', 'rpc.method', 'rpc.service', 'rpc.system']);
      }
    });

    it('counts a call the client abandons at its deadline as CANCELLED, with the time the server spent', async () => {
      await expect(unaryCall(client, 'getAccount', { accountId: 'slow' }, { deadlineMs: 50 })).rejects.toBeDefined();
      // The handler keeps running after the cancel; its late response must not add a second sample.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const served = await telemetry.histogram(RPC_SERVER_DURATION);
      expect(countFor(served, 'GetAccount', status.CANCELLED)).toBe(1);
      expect(countFor(served, 'GetAccount', status.OK)).toBe(2);
    });
  });

  describe('metricsClientInterceptor', () => {
    it('records rpc.client.duration with the status the caller saw, including its own deadline', async () => {
      const seen = await telemetry.histogram(RPC_CLIENT_DURATION);
      expect(countFor(seen, 'GetAccount', status.OK)).toBe(2);
      expect(countFor(seen, 'GetAccount', status.NOT_FOUND)).toBe(1);
      expect(countFor(seen, 'GetAccount', status.DEADLINE_EXCEEDED)).toBe(1);
      const deadline = seen?.dataPoints.find((p) => p.attributes['rpc.grpc.status_code'] === status.DEADLINE_EXCEEDED);
      expect(deadline?.value.sum).toBeGreaterThanOrEqual(45);
    });

    it('records UNAVAILABLE for a peer that does not answer', async () => {
      const dead = createGrpcClient(paymentsV1.AccountServiceClient, '127.0.0.1:1', {
        retry: 'none',
        meter: telemetry.meter,
        defaultDeadlineMs: 2_000,
      });
      await expect(unaryCall(dead, 'getAccount', { accountId: 'a-1' })).rejects.toBeDefined();
      dead.close();
      expect(countFor(await telemetry.histogram(RPC_CLIENT_DURATION), 'GetAccount', status.UNAVAILABLE)).toBe(1);
    });
  });
});
