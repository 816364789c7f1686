import { AppError } from '@tessera/errors';
import { checkHealth, type HealthStatus } from '@tessera/grpc';
import type { Admin } from 'kafkajs';
import { gatewayConfigSchema } from '../config';
import { HealthService } from './health.service';

jest.mock('@tessera/grpc', () => ({ checkHealth: jest.fn() }));
const checkHealthMock = jest.mocked(checkHealth);

const config = gatewayConfigSchema.parse({
  TRANSACTIONS_ADDR: '10.0.0.7:50051',
  COMPLIANCE_ADDR: '10.0.0.8:50052',
  GATEWAY_HEALTH_TIMEOUT_MS: '50',
});
const ACCOUNT_SERVICE = 'tessera.payments.v1.AccountService';

function kafkaAdmin(describeCluster: () => Promise<{ brokers: unknown[] }>): Admin {
  return { describeCluster } as unknown as Admin;
}
const oneBroker = kafkaAdmin(async () => ({ brokers: [{ nodeId: 1, host: '127.0.0.1', port: 19092 }] }));

/** Answers per gRPC health service name: a status, or an error to reject with. */
function grpcHealth(answers: { overall: HealthStatus | Error; accounts: HealthStatus | Error; compliance?: HealthStatus | Error }): void {
  checkHealthMock.mockImplementation(async (addr, service) => {
    const answer =
      addr === config.COMPLIANCE_ADDR
        ? (answers.compliance ?? 'SERVING')
        : service === ACCOUNT_SERVICE
          ? answers.accounts
          : answers.overall;
    if (answer instanceof Error) throw answer;
    return answer;
  });
}

beforeEach(() => checkHealthMock.mockReset());

describe('HealthService', () => {
  describe('report', () => {
    it('is up when transactions, its database, compliance and Kafka all answer', async () => {
      grpcHealth({ overall: 'SERVING', accounts: 'SERVING' });
      const report = await new HealthService(config, oneBroker).report();
      expect(report.status).toBe('up');
      expect(Object.keys(report.checks).sort()).toEqual(['compliance', 'kafka', 'postgres', 'transactions']);
      for (const check of Object.values(report.checks)) {
        expect(check).toEqual({ status: 'up', latencyMs: expect.any(Number) });
      }
      expect(checkHealthMock).toHaveBeenCalledWith('10.0.0.7:50051', '', { timeoutMs: 50 });
      expect(checkHealthMock).toHaveBeenCalledWith('10.0.0.7:50051', ACCOUNT_SERVICE, { timeoutMs: 50 });
      expect(checkHealthMock).toHaveBeenCalledWith('10.0.0.8:50052', '', { timeoutMs: 50 });
    });

    it('reports postgres down when AccountService is NOT_SERVING, and only postgres', async () => {
      grpcHealth({ overall: 'SERVING', accounts: 'NOT_SERVING' });
      const report = await new HealthService(config, oneBroker).report();
      expect(report.status).toBe('down');
      expect(report.checks['postgres']).toMatchObject({ status: 'down', detail: 'NOT_SERVING' });
      expect(report.checks['transactions']?.status).toBe('up');
      expect(report.checks['kafka']?.status).toBe('up');
    });

    it('is down when compliance is unreachable: screening fails closed, so transfers would be refused', async () => {
      grpcHealth({ overall: 'SERVING', accounts: 'SERVING', compliance: new Error('No connection established') });
      const report = await new HealthService(config, oneBroker).report();
      expect(report.status).toBe('down');
      expect(report.checks['compliance']).toMatchObject({ status: 'down', detail: 'unreachable' });
      expect(report.checks['transactions']?.status).toBe('up');
    });

    it('names an unreachable transactions service without echoing the internal error text', async () => {
      const unreachable = new AppError({ code: 'GRPC.UNAVAILABLE', kind: 'UNAVAILABLE', message: 'No connection established' });
      grpcHealth({ overall: unreachable, accounts: unreachable });
      const report = await new HealthService(config, oneBroker).report();
      expect(report.status).toBe('down');
      expect(report.checks['transactions']).toMatchObject({ status: 'down', detail: 'unreachable' });
      expect(report.checks['postgres']).toMatchObject({ status: 'down', detail: 'unreachable' });
    });

    it('times a hanging Kafka probe out instead of hanging /health', async () => {
      grpcHealth({ overall: 'SERVING', accounts: 'SERVING' });
      const hanging = kafkaAdmin(() => new Promise(() => undefined));
      const report = await new HealthService(config, hanging).report();
      expect(report.status).toBe('down');
      expect(report.checks['kafka']).toMatchObject({ status: 'down', detail: 'timeout' });
    });

    it('reports Kafka down when the cluster has no brokers or the admin call fails', async () => {
      grpcHealth({ overall: 'SERVING', accounts: 'SERVING' });
      const empty = await new HealthService(
        config,
        kafkaAdmin(async () => ({ brokers: [] })),
      ).report();
      expect(empty.checks['kafka']).toMatchObject({ status: 'down', detail: 'NO_BROKERS' });
      const failing = await new HealthService(
        config,
        kafkaAdmin(() => Promise.reject(new Error('Connection timeout'))),
      ).report();
      expect(failing.checks['kafka']).toMatchObject({ status: 'down', detail: 'timeout' });
    });
  });
});
