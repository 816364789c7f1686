export { createGrpcServer, serviceNameOf } from './server';
export type { CreateGrpcServerOptions, GrpcServerHandle, GrpcServiceRegistration } from './server';
export { wrapUnary, unaryService } from './handlers';
export type { UnaryHandler, UnaryImplementation, WrapOptions } from './handlers';
export {
  authClientInterceptor, callContextFromMetadata, currentCallContext, runWithCallContext, AUTHORIZATION_KEY, PRINCIPAL_KEY,
} from './call-context';
export type { CallContext, Credentials } from './call-context';
export { createGrpcClient, unaryCall, buildServiceConfig, defaultDeadlineInterceptor, DEFAULT_CLIENT_RETRY } from './client';
export type { CreateGrpcClientOptions, GeneratedClientConstructor, RetryPolicyConfig, UnaryCallOptions } from './client';
export { checkHealth } from './health';
export type { HealthStatus, CheckHealthOptions } from './health';
export { serverCredentials, channelCredentials } from './credentials';
export type { ServerTlsOptions, ClientTlsOptions } from './credentials';
