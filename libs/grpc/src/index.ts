export { createGrpcServer, serviceNameOf } from './server';
export type { CreateGrpcServerOptions, GrpcServerHandle, GrpcServiceRegistration } from './server';
export { wrapUnary, unaryService } from './handlers';
export type { UnaryHandler, UnaryImplementation, WrapOptions } from './handlers';
export {
  authClientInterceptor,
  callContextFromMetadata,
  callContextOf,
  currentCallContext,
  runWithCallContext,
  transportFactsOf,
  AUTHORIZATION_KEY,
  API_KEY_KEY,
} from './call-context';
export type { CallContext, Credentials, TransportFacts } from './call-context';
export { createGrpcClient, unaryCall, buildServiceConfig, defaultDeadlineInterceptor, DEFAULT_CLIENT_RETRY } from './client';
export type { CreateGrpcClientOptions, GeneratedClientConstructor, RetryPolicyConfig, UnaryCallOptions } from './client';
export { checkHealth } from './health';
export type { HealthStatus, CheckHealthOptions } from './health';
export { serverCredentials, channelCredentials } from './credentials';
export type { ServerTlsOptions, ClientTlsOptions } from './credentials';
export { grpcTransportFromEnv, tlsEnv, tlsFilesFromEnv, DEFAULT_TLS_DIR } from './transport';
export type { GrpcTransport, TransportMode } from './transport';
export { ensureDevPki, DevPkiError, DEV_TLS_IDENTITIES } from './dev-pki';
export type { DevPkiOptions, DevPkiResult } from './dev-pki';
export {
  metricsServerInterceptor,
  metricsClientInterceptor,
  rpcMetricAttributes,
  RPC_SERVER_DURATION,
  RPC_CLIENT_DURATION,
} from './grpc.metrics';
