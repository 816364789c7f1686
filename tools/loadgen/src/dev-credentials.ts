import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiKeys } from './sink';

/** tools/loadgen/{src,dist} -> repository root. */
const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** `dev-credentials.json` of the local dev issuer (`npm run auth -- init`): TESSERA_AUTH_DIR or <repo>/.tessera/auth. */
export function devCredentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['TESSERA_AUTH_DIR'] || join(REPO_ROOT, '.tessera', 'auth'), 'dev-credentials.json');
}

/**
 * The demo tenants' plaintext API keys the dev issuer wrote for demo tools (mode 0600, never committed), so
 * `npm run up` and a bare `loadgen` run need no key on the command line. Keys are hashed on the server side.
 * @throws Error naming the file and the command that creates it, when it is missing or unreadable.
 */
export function devApiKeys(file = devCredentialsFile()): ApiKeys {
  let parsed: { apiKeys?: Record<string, { key?: unknown }> };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message;
    throw new Error(`no demo API keys: ${file} ${reason}; run \`npm run auth -- init\` or pass --api-key tenant:tsk_...`);
  }
  const pairs = Object.entries(parsed.apiKeys ?? {}).flatMap(([tenant, entry]) =>
    typeof entry.key === 'string' ? [[tenant, entry.key] as const] : [],
  );
  return new ApiKeys(new Map(pairs));
}
