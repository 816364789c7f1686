import type { Provider } from '@nestjs/common';
import { type CallerAuthenticator, callerAuthenticatorFromConfig } from '@tessera/auth';
import { type IngestConfig, INGEST_CONFIG } from '../config';

export const CALLER_AUTHENTICATOR = Symbol('CALLER_AUTHENTICATOR');

/**
 * Verifies the credential each call carries: JWKS (TESSERA_AUTH_*) for bearer tokens, the hashed API key store
 * (TESSERA_API_KEYS_FILE) for keys; outside production both default to `.tessera/auth/` (`npm run auth -- init`).
 */
export const callerAuthenticatorProvider: Provider<CallerAuthenticator> = {
  provide: CALLER_AUTHENTICATOR,
  useFactory: (config: IngestConfig) => callerAuthenticatorFromConfig(config, 'ingest'),
  inject: [INGEST_CONFIG],
};
