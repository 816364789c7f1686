/**
 * `npm run auth -- <command>`: the local dev token issuer and API key admin.
 *
 *   init [--dir D]                                  create keys, jwks.json, api-keys.json, dev-credentials.json (idempotent)
 *   token --sub ID --role R[,R] [--customer ID] [--tenant T] [--scope "a b"] [--ttl 15m] [--aud A] [--iss I]
 *   rotate                                          new signing key; the previous public key stays in jwks.json
 *   apikey create --tenant T [--scopes events:write,insights:read]    prints the key ONCE
 *   apikey revoke KEY_ID
 *   apikey list
 *
 * D defaults to TESSERA_AUTH_DIR or <repo>/.tessera/auth. Issuer/audience default to TESSERA_AUTH_ISSUER /
 * TESSERA_AUTH_AUDIENCE or the dev values. Exit 0 on success, 64 on a usage error, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { API_KEY_SCOPES } from './api-key-store';
import { DEV_AUDIENCE, DEV_ISSUER, DevIssuer } from './dev-issuer';
import { defaultAuthDir } from './files';
import { isRole, isScope, ROLES, SCOPES, type Role, type Scope } from './roles';

const EX_USAGE = 64;

class UsageError extends Error {}

/** `15m`, `1h`, `90s`, `2d` or plain seconds. */
export function parseDuration(raw: string): number {
  const match = /^(-?\d+)([smhd]?)$/.exec(raw.trim());
  if (!match) throw new UsageError(`--ttl must look like 900, 90s, 15m, 1h or 2d (got ${raw})`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** An environment variable, empty counting as unset (as loadConfig does). */
function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function list(raw: string | undefined, separator: RegExp): string[] {
  return (raw ?? '')
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      sub: { type: 'string' },
      role: { type: 'string' },
      customer: { type: 'string' },
      tenant: { type: 'string' },
      scope: { type: 'string' },
      scopes: { type: 'string' },
      ttl: { type: 'string' },
      aud: { type: 'string' },
      iss: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const dir = values.dir ?? env('TESSERA_AUTH_DIR') ?? defaultAuthDir();
  const issuerName = values.iss ?? env('TESSERA_AUTH_ISSUER') ?? DEV_ISSUER;
  const audience = values.aud ?? env('TESSERA_AUTH_AUDIENCE') ?? DEV_AUDIENCE;
  const [command, sub, arg] = positionals;

  switch (command) {
    case 'init': {
      const { issuer, created } = await DevIssuer.init(dir, { issuer: issuerName, audience });
      out(created.length === 0 ? `dev issuer in ${dir} already initialised (kid ${issuer.currentKid})` : `created ${created.join(', ')}`);
      out(`signing key ${issuer.currentKid}; verifiers read ${issuer.jwksFile}`);
      return;
    }
    case 'token': {
      if (!values.sub) throw new UsageError('token needs --sub <subject>');
      const roles = list(values.role, /,/);
      if (roles.length === 0) throw new UsageError(`token needs --role (one or more of ${ROLES.join(', ')})`);
      const unknown = roles.filter((r) => !isRole(r));
      if (unknown.length > 0) throw new UsageError(`unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
      if (values.scope !== undefined) {
        const bad = list(values.scope, /\s+/).filter((s) => !isScope(s));
        if (bad.length > 0) throw new UsageError(`unknown scope ${bad.join(', ')}; scopes are ${SCOPES.join(' ')}`);
      }
      const issuer = await DevIssuer.open(dir);
      out(
        await issuer.mint({
          sub: values.sub,
          roles: roles as Role[],
          ttlSec: parseDuration(values.ttl ?? '15m'),
          issuer: issuerName,
          audience,
          ...(values.customer !== undefined ? { customerId: values.customer } : {}),
          ...(values.tenant !== undefined ? { tenant: values.tenant } : {}),
          ...(values.scope !== undefined ? { scope: list(values.scope, /\s+/).join(' ') } : {}),
        }),
      );
      return;
    }
    case 'rotate': {
      const issuer = await DevIssuer.open(dir);
      const { kid, retired } = await issuer.rotate();
      out(
        `new signing key ${kid}; published: ${issuer.publishedKids().join(', ')}${retired.length ? `; retired: ${retired.join(', ')}` : ''}`,
      );
      return;
    }
    case 'apikey': {
      const issuer = await DevIssuer.open(dir);
      if (sub === 'create') {
        if (!values.tenant) throw new UsageError('apikey create needs --tenant <tenant>');
        const scopes = values.scopes === undefined ? [...API_KEY_SCOPES] : list(values.scopes, /[,\s]+/);
        const bad = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
        if (bad.length > 0) throw new UsageError(`API keys may carry only ${API_KEY_SCOPES.join(', ')}; not ${bad.join(', ')}`);
        const { key, record } = issuer.createApiKey(values.tenant, scopes as Scope[]);
        if (values.json) out(JSON.stringify({ keyId: record.id, tenantId: record.tenantId, scopes: record.scopes, key }));
        else {
          out(key);
          process.stderr.write(
            `key ${record.id} for tenant ${record.tenantId} (${record.scopes.join(', ')}); it is shown only now, store it safely\n`,
          );
        }
        return;
      }
      if (sub === 'revoke') {
        if (!arg) throw new UsageError('apikey revoke needs a key id (see `apikey list`)');
        if (!issuer.revokeApiKey(arg)) throw new UsageError(`no API key with id ${arg}`);
        out(`revoked ${arg}`);
        return;
      }
      if (sub === 'list') {
        const keys = issuer.listApiKeys();
        if (values.json) out(JSON.stringify(keys.map(({ sha256: _digest, ...rest }) => rest)));
        else
          for (const k of keys)
            out(`${k.id}\t${k.tenantId}\t${k.scopes.join(',')}\t${k.createdAt}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`);
        return;
      }
      throw new UsageError('apikey needs create, revoke or list');
    }
    default:
      throw new UsageError(`unknown command ${command ?? '(none)'}; commands: init, token, rotate, apikey create|revoke|list`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`auth: ${(err as Error).message}\n`);
    process.exit(usage ? EX_USAGE : 1);
  });
}
