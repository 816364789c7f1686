/**
 * `npm run infra -- faults <service> [list | off <fault> | <fault> [delayMs=<ms>] [errorRate=<0-1>] [match=<text>] [durationSec=<s>]]`:
 * runtime fault toggles of a running service (libs/telemetry faults.ts, issue #14) over its admin port (the topology's
 * metricsPort), authenticated with the admin token this file makes (`.tessera/auth/admin-token`, 0600; services get
 * its path as TESSERA_ADMIN_TOKEN_FILE). Faults: db (slow or refused connections), grpc-server (slow or UNAVAILABLE
 * handlers; match=Screen for compliance's screening), kafka-produce (sends fail as with a dropped broker connection),
 * kafka-consume (a consumer's handler fails as a bug would: retried, then dead-lettered with FAULTS.INJECTED).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InfraError } from './errors';

export function adminTokenFile(stateDir: string): string {
  return path.join(stateDir, 'auth', 'admin-token');
}

/** The admin token, created (random, 0600) on first use. */
export function ensureAdminToken(stateDir: string): string {
  const file = adminTokenFile(stateDir);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/** Parses `key=value` words into a fault spec (numbers where the key is numeric). */
export function parseFaultSpec(words: string[]): Record<string, string | number> {
  const spec: Record<string, string | number> = {};
  for (const w of words) {
    const [key, value] = [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)];
    if (!w.includes('=') || !['delayMs', 'errorRate', 'match', 'durationSec'].includes(key)) {
      throw new InfraError(
        `"${w}" is not delayMs=<ms>, errorRate=<0-1>, match=<text> or durationSec=<s>`,
        'e.g. npm run infra -- faults compliance grpc-server match=Screen errorRate=1 durationSec=60',
      );
    }
    spec[key] = key === 'match' ? value : Number(value);
  }
  return spec;
}

export async function faultsCommand(adminUrl: string, token: string, words: string[]): Promise<unknown> {
  const [first, ...rest] = words;
  const auth = { authorization: `Bearer ${token}` };
  let res: Response;
  try {
    if (first === undefined || first === 'list') res = await fetch(`${adminUrl}/faults`);
    else if (first === 'off')
      res = await fetch(`${adminUrl}/faults?name=${encodeURIComponent(rest[0] ?? '')}`, { method: 'DELETE', headers: auth });
    else
      res = await fetch(`${adminUrl}/faults`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: first, ...parseFaultSpec(rest) }),
      });
  } catch (err) {
    throw new InfraError(
      `cannot reach the service's admin port ${adminUrl}: ${(err as Error).message}`,
      'is it running? npm run infra -- services status',
    );
  }
  const body = (await res.json()) as { code?: string; message?: string };
  if (!res.ok) throw new InfraError(`${body.code ?? res.status}: ${body.message ?? 'refused'}`);
  return body;
}
