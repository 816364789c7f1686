import type { Provider } from '@nestjs/common';
import { authEnvSchema, authFromEnv, type CallerAuthenticator } from '@tessera/auth';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../config';

export const CALLER_AUTHENTICATOR = Symbol('CALLER_AUTHENTICATOR');

const AUTH_ENV_KEYS = [...Object.keys(authEnvSchema.shape), 'NODE_ENV'] as const;

/** The auth variables of the validated config, back in env form for authFromEnv (which applies the dev defaults). */
export function authEnvOf(config: InsightsConfig): NodeJS.ProcessEnv {
  const values = config as Readonly<Record<string, unknown>>;
  const env: NodeJS.ProcessEnv = {};
  for (const key of AUTH_ENV_KEYS) if (values[key] !== undefined) env[key] = String(values[key]);
  return env;
}

/**
 * Verifies the credential each call carries: JWKS (TESSERA_AUTH_*) for bearer tokens, the hashed API key store
 * (TESSERA_API_KEYS_FILE) for keys; outside production both default to `.tessera/auth/` (`npm run auth -- init`).
 */
export const callerAuthenticatorProvider: Provider<CallerAuthenticator> = {
  provide: CALLER_AUTHENTICATOR,
  useFactory: (config: InsightsConfig) => authFromEnv(authEnvOf(config), { service: 'insights' }).callers,
  inject: [INSIGHTS_CONFIG],
};
