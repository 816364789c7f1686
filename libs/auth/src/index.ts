/**
 * @tessera/auth: who is calling and what they may do. JWT bearer verification against a JWKS (jose), hashed
 * per-tenant API keys, the role/scope model, the caller authenticator services use on forwarded gRPC metadata,
 * and a dev issuer (`npm run auth -- ...`) so demos and tests use real tokens.
 */
export { ROLES, SCOPES, ROLE_SCOPES, STAFF_ROLES, type Role, type Scope, isRole, isScope, scopesOfRoles, effectiveScopes } from './roles';
export { type Principal, hasScope, requireScope, requireTenant, requireRole, describePrincipal } from './principal';
export { AUTH_CODES, type AuthCode, authErrors } from './auth.errors';
export { JwtVerifier, type JwtVerifierOptions, ACCEPTED_ALGORITHMS } from './jwt-verifier';
export { type JwksSource, JwksUnavailableError } from './jwks-source';
export {
  ApiKeyStore,
  type ApiKeyStoreOptions,
  type ApiKeyRecord,
  type ApiKeyStoreFile,
  API_KEY_SCOPES,
  parseApiKey,
  generateApiKey,
  createApiKey,
  revokeApiKey,
  readApiKeyStore,
} from './api-key-store';
export {
  CallerAuthenticator,
  type AuthenticateOptions,
  type MetadataLike,
  bearerToken,
  AUTHORIZATION_METADATA_KEY,
  API_KEY_METADATA_KEY,
} from './caller';
export { DevIssuer, type MintOptions, type DevCredentials, DEV_ISSUER, DEV_AUDIENCE, DEMO_TENANTS } from './dev-issuer';
export {
  authEnvSchema,
  authSettingsFromEnv,
  authFromEnv,
  DEFAULT_MAX_TTL_SEC,
  callerAuthenticatorFromConfig,
  type AuthSettings,
  type AuthComponents,
} from './auth-env';
export { defaultAuthDir } from './files';
export {
  authorizeCall,
  guardService,
  factsOf,
  rememberCaller,
  callerOf,
  principalOf,
  actorOf,
  GUARD_CODES,
  type MethodPolicy,
  type PolicyTable,
  type Caller,
  type CallFacts,
} from './grpc-guard';
export { startTestAuth, type TestAuth } from './test-auth';
export { GuardedGrpcServer, type GuardedGrpcServerOptions, type GuardedService, type ServingHealth } from './guarded-grpc-server';
