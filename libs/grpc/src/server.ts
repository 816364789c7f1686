import { readFileSync } from 'node:fs';
import { Server, type ServerInterceptor, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { Meter } from '@opentelemetry/api';
import { createLogger, type Logger, onComponentFailure } from '@tessera/telemetry';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';
import { serverCredentials, type ServerTlsOptions } from './credentials';
import { metricsServerInterceptor } from './grpc.metrics';
import type { GrpcTransport } from './transport';

export interface GrpcServiceRegistration {
  /** A ts-proto grpc-js service definition, e.g. `paymentsV1.AccountServiceService`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- grpc-js's own definition type is untyped by design
  definition: ServiceDefinition<any>;
  implementation: UntypedServiceImplementation;
}

export interface CreateGrpcServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Defaults to 0.0.0.0. */
  host?: string;
  /** The process's transport (`grpcTransportFromEnv`); wins over `tls`. Services always pass this. */
  transport?: GrpcTransport;
  /** Explicit PEM material (tests). Neither `transport` nor `tls` means plaintext. */
  tls?: ServerTlsOptions;
  services: GrpcServiceRegistration[];
  logger?: Logger;
  /** FileDescriptorSet for reflection (`descriptorSetPath` from @tessera/contracts). */
  descriptorSetPath?: string;
  /** Alternative to the descriptor set: .proto files (with `protoIncludeDirs`). */
  protoFiles?: string[];
  protoIncludeDirs?: string[];
  /** Run inside the metrics interceptor, so their refusals are measured too. */
  interceptors?: ServerInterceptor[];
  /** Meter for `rpc.server.duration`; defaults to the global provider's `@tessera/grpc` meter. */
  meter?: Meter;
  /** How long shutdown() lets in-flight calls finish before cancelling them. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface GrpcServerHandle {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  health: HealthImplementation;
  /** Fully qualified names of the registered services. */
  serviceNames: string[];
  /** NOT_SERVING first (so balancers drain), then waits for in-flight calls, then forces. */
  shutdown(): Promise<void>;
}

/** `tessera.payments.v1.AccountService` from a definition's method paths. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  const name = first?.path.split('/')[1];
  if (!name) throw new Error('service definition has no methods');
  return name;
}

/**
 * Starts a gRPC server with the standard health service (overall "" and per service status:
 * SERVING once bound, NOT_SERVING during shutdown) and server reflection (so grpcurl and
 * debuggers work without local protos), limited to the registered services. Every call (health and
 * reflection included) is measured as `rpc.server.duration` (see grpc.metrics.ts).
 */
export async function createGrpcServer(options: CreateGrpcServerOptions): Promise<GrpcServerHandle> {
  const logger = options.logger ?? createLogger('GrpcServer');
  const server = new Server({
    interceptors: [metricsServerInterceptor(options.meter), ...(options.interceptors ?? [])],
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  const serviceNames = options.services.map((s) => serviceNameOf(s.definition));
  const initial: ServingStatusMap = { '': 'NOT_SERVING' };
  for (const name of serviceNames) initial[name] = 'NOT_SERVING';
  const health = new HealthImplementation(initial);
  health.addToServer(server);

  for (const { definition, implementation } of options.services) server.addService(definition, implementation);

  const reflectionPackage = loadReflectionPackage(options);
  if (reflectionPackage) {
    new ReflectionService(reflectionPackage, { services: [...serviceNames, 'grpc.health.v1.Health'] }).addToServer(server);
  }

  const address = `${options.host ?? '0.0.0.0'}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, options.transport?.server ?? serverCredentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const setAll = (status: 'SERVING' | 'NOT_SERVING') => {
    health.setStatus('', status);
    for (const name of serviceNames) health.setStatus(name, status);
  };
  setAll('SERVING');
  // A component of this process that stopped for good (e.g. a Kafka consumer kafkajs will not restart) makes the
  // whole server NOT_SERVING: the service must not look healthy while it does nothing (libs/telemetry liveness.ts).
  const stopWatching = onComponentFailure((failure) => {
    logger.error(
      { component: failure.component, err: failure.error },
      'a component stopped for good: health is NOT_SERVING until the service restarts',
    );
    setAll('NOT_SERVING');
  });
  const transport = options.transport?.mode ?? (options.tls ? (options.tls.requireClientCert ? 'mtls' : 'tls') : 'plaintext');
  logger.info({ port, services: serviceNames, transport, reflection: Boolean(reflectionPackage) }, 'grpc server listening');

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= new Promise<void>((resolve) => {
      stopWatching();
      setAll('NOT_SERVING');
      const force = setTimeout(() => {
        logger.warn({ port }, 'grpc shutdown grace elapsed; cancelling in-flight calls');
        server.forceShutdown();
        resolve();
      }, options.shutdownGraceMs ?? 10_000);
      server.tryShutdown(() => {
        clearTimeout(force);
        logger.info({ port }, 'grpc server stopped');
        resolve();
      });
    }));

  return { server, port, health, serviceNames, shutdown };
}

function loadReflectionPackage(options: CreateGrpcServerOptions): PackageDefinition | undefined {
  const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
  if (options.descriptorSetPath) {
    return loadFileDescriptorSetFromBuffer(readFileSync(options.descriptorSetPath), loaderOptions);
  }
  if (options.protoFiles?.length) {
    return loadSync(options.protoFiles, { ...loaderOptions, includeDirs: options.protoIncludeDirs ?? [] });
  }
  return undefined;
}
