import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, type ConfigIssue } from '@tessera/config';
import { z } from 'zod';
import { ApiKeyStore } from './api-key-store';
import { CallerAuthenticator } from './caller';
import { DEV_AUDIENCE, DEV_ISSUER } from './dev-issuer';
import { defaultAuthDir } from './files';
import type { JwksSource } from './jwks-source';
import { JwtVerifier } from './jwt-verifier';

const seconds = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,6}$/, 'must be a whole number of seconds')
    .transform(Number)
    .refine((n) => n <= max, `must be at most ${max}`);

/**
 * Environment of token and API key verification, the same for every service. Merge it into a service schema
 * (`z.object({ ...authEnvSchema.shape, ... })`) or let {@link authFromEnv} read it. Everything is optional here:
 * outside production the dev defaults apply; in production {@link authFromEnv} refuses to boot without them.
 */
export const authEnvSchema = z.object({
  /** Expected `iss` of bearer tokens. */
  TESSERA_AUTH_ISSUER: z
    .string()
    .trim()
    .min(1)
    .meta({ examples: [DEV_ISSUER] })
    .optional(),
  /** Expected `aud` of bearer tokens. */
  TESSERA_AUTH_AUDIENCE: z
    .string()
    .trim()
    .min(1)
    .meta({ examples: [DEV_AUDIENCE] })
    .optional(),
  /** JWKS on disk (re-read when it changes). Exclusive with TESSERA_AUTH_JWKS_URL. */
  TESSERA_AUTH_JWKS_FILE: z
    .string()
    .trim()
    .min(1)
    .meta({ examples: ['.tessera/auth/jwks.json'] })
    .optional(),
  /** JWKS over HTTP(S), e.g. an OIDC provider's jwks_uri. */
  TESSERA_AUTH_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .meta({ examples: ['https://login.example.com/.well-known/jwks.json'] })
    .optional(),
  /** Hashed API key store (`npm run auth -- apikey create`), re-read when it changes. */
  TESSERA_API_KEYS_FILE: z
    .string()
    .trim()
    .min(1)
    .meta({ examples: ['.tessera/auth/api-keys.json'] })
    .optional(),
  /** Clock skew accepted on exp/nbf/iat; default 30. */
  TESSERA_AUTH_CLOCK_TOLERANCE_SEC: seconds(300)
    .meta({ examples: ['30'] })
    .optional(),
  /** Refuse tokens living longer than this (exp - iat); default 86400 (a day), at most 7 days. */
  TESSERA_AUTH_MAX_TTL_SEC: seconds(86_400 * 7)
    .meta({ examples: ['3600'] })
    .optional(),
});

/** A token's longest accepted lifetime (exp - iat) unless TESSERA_AUTH_MAX_TTL_SEC says otherwise: a working day and then some. */
export const DEFAULT_MAX_TTL_SEC = 86_400;

/** Verification settings after defaults. */
export interface AuthSettings {
  issuer: string;
  audience: string;
  jwks: JwksSource;
  apiKeysFile: string;
  clockToleranceSec: number;
  maxTtlSec?: number;
}

/**
 * Resolves {@link authEnvSchema} with the dev defaults (issuer, audience, `<repo>/.tessera/auth/{jwks,api-keys}.json`)
 * outside production.
 * @throws ConfigError naming every missing or invalid variable; in production when any of issuer, audience, JWKS
 *   or API key file is unset; when the JWKS file does not exist (with the command that creates it).
 */
export function authSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, service?: string): AuthSettings {
  const cfg = loadConfig(authEnvSchema, env, service ? { service } : undefined);
  const production = env['NODE_ENV'] === 'production';
  const issues: ConfigIssue[] = [];
  const required = <T>(variable: string, value: T | undefined, fallback: T): T => {
    if (value !== undefined) return value;
    if (production) issues.push({ variable, reason: 'is required when NODE_ENV=production (dev defaults are off)' });
    return fallback;
  };
  const dir = defaultAuthDir();
  const issuer = required('TESSERA_AUTH_ISSUER', cfg.TESSERA_AUTH_ISSUER, DEV_ISSUER);
  const audience = required('TESSERA_AUTH_AUDIENCE', cfg.TESSERA_AUTH_AUDIENCE, DEV_AUDIENCE);
  const apiKeysFile = required('TESSERA_API_KEYS_FILE', cfg.TESSERA_API_KEYS_FILE, join(dir, 'api-keys.json'));
  let jwks: JwksSource;
  if (cfg.TESSERA_AUTH_JWKS_FILE !== undefined && cfg.TESSERA_AUTH_JWKS_URL !== undefined) {
    issues.push({ variable: 'TESSERA_AUTH_JWKS_URL', reason: 'set either TESSERA_AUTH_JWKS_FILE or TESSERA_AUTH_JWKS_URL, not both' });
    jwks = { file: cfg.TESSERA_AUTH_JWKS_FILE };
  } else if (cfg.TESSERA_AUTH_JWKS_URL !== undefined) {
    if (production && !cfg.TESSERA_AUTH_JWKS_URL.startsWith('https:')) {
      issues.push({ variable: 'TESSERA_AUTH_JWKS_URL', reason: 'must use https:// when NODE_ENV=production' });
    }
    jwks = { url: cfg.TESSERA_AUTH_JWKS_URL };
  } else {
    const file = required('TESSERA_AUTH_JWKS_FILE', cfg.TESSERA_AUTH_JWKS_FILE, join(dir, 'jwks.json'));
    if (!production || cfg.TESSERA_AUTH_JWKS_FILE !== undefined) {
      if (!existsSync(file)) {
        issues.push({
          variable: 'TESSERA_AUTH_JWKS_FILE',
          reason: `${file} does not exist: run \`npm run auth -- init\` (dev issuer) or point it at your issuer's JWKS`,
        });
      }
    }
    jwks = { file };
  }
  if (issues.length > 0) throw new ConfigError(issues, service);
  return {
    issuer,
    audience,
    jwks,
    apiKeysFile,
    clockToleranceSec: cfg.TESSERA_AUTH_CLOCK_TOLERANCE_SEC ?? 30,
    // Always a limit: a validly signed token with a 10-year lifetime used to be accepted (issue #13).
    maxTtlSec: cfg.TESSERA_AUTH_MAX_TTL_SEC ?? DEFAULT_MAX_TTL_SEC,
  };
}

/** Everything a service needs to authenticate callers. */
export interface AuthComponents {
  verifier: JwtVerifier;
  apiKeys: ApiKeyStore;
  /** Authenticates gRPC callers from forwarded `authorization` / `x-api-key` metadata. */
  callers: CallerAuthenticator;
  settings: AuthSettings;
}

/**
 * Builds the verifier, API key store and caller authenticator from the environment (see {@link authSettingsFromEnv}).
 * @throws ConfigError as authSettingsFromEnv does.
 */
export function authFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  opts: { service?: string; onApiKeysReloadError?: (err: Error) => void } = {},
): AuthComponents {
  const settings = authSettingsFromEnv(env, opts.service);
  const verifier = new JwtVerifier({
    issuer: settings.issuer,
    audience: settings.audience,
    jwks: settings.jwks,
    clockToleranceSec: settings.clockToleranceSec,
    ...(settings.maxTtlSec !== undefined ? { maxTtlSec: settings.maxTtlSec } : {}),
  });
  const apiKeys = new ApiKeyStore({
    file: settings.apiKeysFile,
    ...(opts.onApiKeysReloadError ? { onReloadError: opts.onApiKeysReloadError } : {}),
  });
  return { verifier, apiKeys, callers: new CallerAuthenticator(verifier, apiKeys), settings };
}

const AUTH_CONFIG_KEYS = [...Object.keys(authEnvSchema.shape), 'NODE_ENV'] as const;

/**
 * The callers' authenticator of a service whose validated config embeds {@link authEnvSchema} (and NODE_ENV):
 * the auth values go back to env form so {@link authFromEnv} applies the same dev defaults and production rules.
 */
export function callerAuthenticatorFromConfig(config: object, service: string): CallerAuthenticator {
  const values = config as Readonly<Record<string, unknown>>;
  const env: NodeJS.ProcessEnv = {};
  for (const key of AUTH_CONFIG_KEYS) if (values[key] !== undefined) env[key] = String(values[key]);
  return authFromEnv(env, { service }).callers;
}
