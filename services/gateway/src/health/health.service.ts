import { Inject, Injectable } from '@nestjs/common';
import { checkHealth, type GrpcTransport } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import type { Admin } from 'kafkajs';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { GRPC_TRANSPORT, KAFKA_ADMIN } from '../peers/peers.module';

const logger = createLogger('HealthService');

export type CheckStatus = 'up' | 'down';
export interface HealthReport {
  status: CheckStatus;
  checks: Record<string, { status: CheckStatus; detail?: string; latencyMs: number }>;
}

/**
 * Readiness of everything the gateway needs (transfers are refused while compliance is down: screening fails
 * closed, so compliance is a hard dependency). Postgres is reported through the transactions service's
 * health (its AccountService is SERVING only while its database answers), so the gateway holds no DB
 * credentials.
 */
@Injectable()
export class HealthService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(KAFKA_ADMIN) private readonly kafkaAdmin: Admin,
    /** Probes speak the gateway's own transport: an mTLS peer refuses a plaintext health check. */
    @Inject(GRPC_TRANSPORT) private readonly transport?: GrpcTransport,
  ) {}

  async report(): Promise<HealthReport> {
    const timeout = this.config.GATEWAY_HEALTH_TIMEOUT_MS;
    const probe = (addr: string, service: string) =>
      checkHealth(addr, service, this.transport ? { timeoutMs: timeout, credentials: this.transport.client } : { timeoutMs: timeout });
    const entries = await Promise.all([
      timed('transactions', () => probe(this.config.TRANSACTIONS_ADDR, '')),
      timed('postgres', () => probe(this.config.TRANSACTIONS_ADDR, 'tessera.payments.v1.AccountService')),
      timed('compliance', () => probe(this.config.COMPLIANCE_ADDR, '')),
      timed('kafka', async () => {
        const cluster = await withTimeout(this.kafkaAdmin.describeCluster(), timeout, 'kafka describeCluster');
        return cluster.brokers.length > 0 ? 'SERVING' : 'NO_BROKERS';
      }),
    ]);
    const checks = Object.fromEntries(entries);
    const status: CheckStatus = entries.every(([, c]) => c.status === 'up') ? 'up' : 'down';
    return { status, checks };
  }
}

async function timed(
  name: string,
  probe: () => Promise<string>,
): Promise<[string, { status: CheckStatus; detail?: string; latencyMs: number }]> {
  const started = performance.now();
  try {
    const result = await probe();
    const latencyMs = Math.round(performance.now() - started);
    return [name, result === 'SERVING' ? { status: 'up', latencyMs } : { status: 'down', detail: result, latencyMs }];
  } catch (err) {
    // /health is public: the raw error names internal addresses ("connect ECONNREFUSED 10.0.3.7:50051"), so it
    // goes to the log and the response says only what kind of failure it was.
    const message = err instanceof Error ? err.message : String(err);
    logger.warn({ check: name, err }, 'health check failed');
    const detail = /timed? ?out|deadline/i.test(message) ? 'timeout' : 'unreachable';
    return [name, { status: 'down', detail, latencyMs: Math.round(performance.now() - started) }];
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
