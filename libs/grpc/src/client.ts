import {
  Metadata,
  type CallOptions,
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  type Interceptor,
  type ServiceError,
  InterceptingCall,
} from '@grpc/grpc-js';
import type { Meter } from '@opentelemetry/api';
import { fromGrpcError } from '@tessera/errors';
import { authClientInterceptor } from './call-context';
import { channelCredentials, type ClientTlsOptions } from './credentials';
import { metricsClientInterceptor } from './grpc.metrics';
import type { GrpcTransport } from './transport';

/** What ts-proto emits for `outputServices=grpc-js`: a constructor with the service definition attached. */
export interface GeneratedClientConstructor<C extends Client> {
  new (
    address: string,
    credentials: ReturnType<typeof channelCredentials>,
    options?: Partial<ChannelOptions> & { interceptors?: Interceptor[] },
  ): C;
  service: Record<string, { path: string }>;
}

export interface RetryPolicyConfig {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  backoffMultiplier: number;
  /** Status names, e.g. ['UNAVAILABLE']. */
  retryableStatusCodes: string[];
}

export const DEFAULT_CLIENT_RETRY: RetryPolicyConfig = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 2_000,
  backoffMultiplier: 2,
  // Only "the request never reached the server" style failures; never DEADLINE_EXCEEDED or INTERNAL.
  retryableStatusCodes: ['UNAVAILABLE'],
};

export interface CreateGrpcClientOptions {
  /** The process's transport (`grpcTransportFromEnv`): its client certificate and CA. Wins over `tls`. */
  transport?: GrpcTransport;
  /** Explicit PEM material (tests). Neither `transport` nor `tls` means plaintext. */
  tls?: ClientTlsOptions;
  /** Applied to every call without its own deadline. Default 5 s. */
  defaultDeadlineMs?: number;
  /**
   * 'idempotent' retries only the methods listed in `idempotentMethods` (keys of the generated
   * client, e.g. 'getAccount', or proto names, e.g. 'GetAccount'); 'none' never retries.
   * Non-idempotent calls are not retried by the channel: a mutation would run twice.
   */
  retry: 'idempotent' | 'none';
  idempotentMethods?: string[];
  retryPolicy?: Partial<RetryPolicyConfig>;
  /** Forward the served call's identity (default true). */
  forwardAuth?: boolean;
  interceptors?: Interceptor[];
  /** Meter for `rpc.client.duration`; defaults to the global provider's `@tessera/grpc` meter. */
  meter?: Meter;
  channelOptions?: Partial<ChannelOptions>;
}

/** The grpc-js service config JSON (retry per idempotent method) for a generated client. */
export function buildServiceConfig(
  service: Record<string, { path: string }>,
  idempotentMethods: string[],
  policy: RetryPolicyConfig = DEFAULT_CLIENT_RETRY,
): { methodConfig: unknown[] } {
  const names = idempotentMethods.map((m) => {
    const path = service[m]?.path ?? Object.values(service).find((d) => d.path.endsWith(`/${m}`))?.path;
    if (!path) throw new Error(`unknown method "${m}" in retry list`);
    const [, svc, method] = path.split('/');
    return { service: svc, method };
  });
  if (names.length === 0) return { methodConfig: [] };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;
  return {
    methodConfig: [
      {
        name: names,
        retryPolicy: {
          maxAttempts: policy.maxAttempts,
          initialBackoff: seconds(policy.initialBackoffMs),
          maxBackoff: seconds(policy.maxBackoffMs),
          backoffMultiplier: policy.backoffMultiplier,
          retryableStatusCodes: policy.retryableStatusCodes,
        },
      },
    ],
  };
}

/** Gives every call a deadline unless it brought its own: a hung peer must never hang the caller. */
export function defaultDeadlineInterceptor(ms: number): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options.deadline === undefined ? { ...options, deadline: Date.now() + ms } : options));
}

/**
 * A generated client for `addr` ("host:port") with TLS or plaintext, a default deadline on every
 * call, channel-level retries for idempotent methods only, identity forwarding and the
 * `rpc.client.duration` histogram (see grpc.metrics.ts).
 */
export function createGrpcClient<C extends Client>(
  ClientCtor: GeneratedClientConstructor<C>,
  addr: string,
  options: CreateGrpcClientOptions,
): C {
  const policy = { ...DEFAULT_CLIENT_RETRY, ...options.retryPolicy };
  const serviceConfig =
    options.retry === 'idempotent' ? buildServiceConfig(ClientCtor.service, options.idempotentMethods ?? [], policy) : { methodConfig: [] };
  const interceptors = [
    // Outermost: measures what the caller waited, retries and the other interceptors included.
    metricsClientInterceptor(options.meter),
    defaultDeadlineInterceptor(options.defaultDeadlineMs ?? 5_000),
    ...(options.forwardAuth === false ? [] : [authClientInterceptor()]),
    ...(options.interceptors ?? []),
  ];
  return new ClientCtor(addr, options.transport?.client ?? channelCredentials(options.tls), {
    ...options.channelOptions,
    'grpc.enable_retries': options.retry === 'idempotent' ? 1 : 0,
    'grpc.service_config': JSON.stringify(serviceConfig),
    interceptors,
  });
}

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
/** The four-argument overload every generated unary method has. */
type UnaryFn<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => ClientUnaryCall;
type RequestOf<F> = F extends UnaryFn<infer Req, infer _Res> ? Req : never;
type ResponseOf<F> = F extends UnaryFn<infer _Req, infer Res> ? Res : never;
type UnaryKeys<C> = { [K in keyof C]: C[K] extends UnaryFn<infer _Req, infer _Res> ? K : never }[keyof C];

export interface UnaryCallOptions {
  /** Overrides the client's default deadline for this call. */
  deadlineMs?: number;
  metadata?: Metadata;
  /** Cancels the call (e.g. when the HTTP request that caused it is aborted). */
  signal?: AbortSignal;
}

/** Calls a unary method as a promise; failures reject with the server's AppError (`fromGrpcError`). */
export function unaryCall<C extends Client, K extends UnaryKeys<C>>(
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  options: UnaryCallOptions = {},
): Promise<ResponseOf<C[K]>> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as UnaryFn<RequestOf<C[K]>, ResponseOf<C[K]>>;
    const callOptions: Partial<CallOptions> = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    const call = fn.call(client, request, options.metadata ?? new Metadata(), callOptions, (error, response) =>
      error ? reject(fromGrpcError(error)) : resolve(response),
    );
    options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
  });
}
