import { type ChannelCredentials, makeGenericClientConstructor, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@tessera/errors';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { channelCredentials, type ClientTlsOptions } from './credentials';

export type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

const check = healthServiceDefinition['Check'];
if (!check) throw new Error('grpc-health-check lacks the Check method');
const serializeCheck = check.requestSerialize as (v: { service: string }) => Buffer;
const deserializeCheck = check.responseDeserialize as (b: Buffer) => { status: HealthStatus };

const HealthClient = makeGenericClientConstructor(healthServiceDefinition as unknown as ServiceDefinition, 'grpc.health.v1.Health');

export interface CheckHealthOptions {
  /** Channel credentials, e.g. `grpcTransportFromEnv(name).client`; win over `tls`. Default plaintext. */
  credentials?: ChannelCredentials;
  tls?: ClientTlsOptions;
  timeoutMs?: number;
}

/**
 * grpc.health.v1 Check against `addr`, for the gateway's /health. `service` "" (default) is the
 * whole server. Unreachable peers reject with an UNAVAILABLE/DEADLINE_EXCEEDED AppError; an
 * unregistered service name yields SERVICE_UNKNOWN rather than an error.
 */
export async function checkHealth(addr: string, service = '', options: CheckHealthOptions = {}): Promise<HealthStatus> {
  const client = new HealthClient(addr, options.credentials ?? channelCredentials(options.tls));
  try {
    return await new Promise<HealthStatus>((resolve, reject) => {
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        serializeCheck,
        deserializeCheck,
        { service },
        new Metadata(),
        { deadline: Date.now() + (options.timeoutMs ?? 2_000) },
        (error: ServiceError | null, response?: { status: HealthStatus }) => {
          if (error?.code === 5 /* NOT_FOUND */) resolve('SERVICE_UNKNOWN');
          else if (error) reject(fromGrpcError(error));
          else resolve(response?.status ?? 'UNKNOWN');
        },
      );
    });
  } finally {
    client.close();
  }
}
