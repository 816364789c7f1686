/**
 * A local development CA and one certificate per service, made with the `openssl` CLI (present on every dev
 * box and CI image, so no native crypto dependency). Used by `npm run infra -- certs`, by `infra up` when
 * certificates are missing, and by the e2e suite (which generates into a temp dir, plus a second unrelated CA
 * for the "certificate from another CA is refused" test).
 *
 * Node builtins only: infra/local imports this file by path before anything is built.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** Every process that speaks gRPC: the servers, their clients, and the load generator's direct ingest sink. */
export const DEV_TLS_IDENTITIES = ['gateway', 'transactions', 'compliance', 'ingest', 'insights', 'loadgen'] as const;

export interface DevPkiOptions {
  /** Target folder (created with mode 0700). */
  dir: string;
  /** Certificate names (CN and SAN DNS name); default {@link DEV_TLS_IDENTITIES}. */
  identities?: readonly string[];
  /** Regenerate the CA and every leaf even when they are still valid. */
  force?: boolean;
  /** CA subject CN; a second CA for negative tests only needs another name and dir. */
  caName?: string;
  caDays?: number;
  leafDays?: number;
  /** A leaf (or the CA) with less validity left than this is regenerated. */
  renewBeforeDays?: number;
  log?: (line: string) => void;
}

export interface DevPkiResult {
  dir: string;
  /** True when the CA was (re)created: every leaf was then reissued. */
  caCreated: boolean;
  issued: string[];
  kept: string[];
}

/** The openssl CLI failed or is missing; `detail` is its stderr (never key material: keys go to files). */
export class DevPkiError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(detail ? `${message}: ${detail}` : message);
    this.name = 'DevPkiError';
  }
}

function openssl(cwd: string, args: string[]): string {
  try {
    return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new DevPkiError('the openssl CLI is not installed (apt-get install openssl / brew install openssl)');
    throw new DevPkiError(`openssl ${args[0]} failed`, (e.stderr ?? e.message).trim());
  }
}

/** True when `cert` exists and stays valid for at least `seconds` more (`openssl x509 -checkend`). */
function validFor(dir: string, cert: string, seconds: number): boolean {
  if (!existsSync(path.join(dir, cert))) return false;
  try {
    openssl(dir, ['x509', '-in', cert, '-noout', '-checkend', String(seconds)]);
    return true;
  } catch {
    return false;
  }
}

/** True when `cert` chains to the dir's current ca.crt (a re-created CA invalidates every older leaf). */
function signedByCa(dir: string, cert: string): boolean {
  try {
    return openssl(dir, ['verify', '-CAfile', 'ca.crt', cert]).includes(': OK');
  } catch {
    return false;
  }
}

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Ensures `dir` holds `ca.crt`/`ca.key` and `<name>.crt`/`<name>.key` for every identity: CN=<name>, SAN
 * DNS:<name> (Compose service names), DNS:localhost and IP:127.0.0.1 (native runs), EKU serverAuth+clientAuth
 * (each service is both server and client). P-256 keys. Idempotent: valid files are kept; a leaf is reissued
 * when missing, near expiry or signed by another CA; everything when the CA is missing, near expiry or `force`.
 * Private keys are written mode 0600.
 */
export function ensureDevPki(options: DevPkiOptions): DevPkiResult {
  const dir = path.resolve(options.dir);
  const identities = options.identities ?? DEV_TLS_IDENTITIES;
  const log = options.log ?? (() => undefined);
  const renew = (options.renewBeforeDays ?? 7) * 86_400;
  for (const name of identities) {
    if (!NAME.test(name) || name === 'ca') throw new DevPkiError(`invalid certificate name "${name}" (lower-case kebab, not "ca")`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const caCreated = options.force === true || !existsSync(path.join(dir, 'ca.key')) || !validFor(dir, 'ca.crt', renew);
  if (caCreated) {
    log(`creating dev CA "${options.caName ?? 'Tessera Dev CA'}" in ${dir}`);
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      String(options.caDays ?? 365),
      '-subj',
      `/O=Tessera Dev/CN=${options.caName ?? 'Tessera Dev CA'}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    chmodSync(path.join(dir, 'ca.key'), 0o600);
  }

  const issued: string[] = [];
  const kept: string[] = [];
  for (const name of identities) {
    const crt = `${name}.crt`;
    if (!caCreated && existsSync(path.join(dir, `${name}.key`)) && validFor(dir, crt, renew) && signedByCa(dir, crt)) {
      kept.push(name);
      continue;
    }
    log(`issuing ${crt} (CN=${name}, DNS:${name}, DNS:localhost, IP:127.0.0.1)`);
    const ext = `${name}.ext`;
    const csr = `${name}.csr`;
    writeFileSync(
      path.join(dir, ext),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`,
        '',
      ].join('\n'),
    );
    try {
      openssl(dir, [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        csr,
        '-subj',
        `/O=Tessera Dev/CN=${name}`,
      ]);
      chmodSync(path.join(dir, `${name}.key`), 0o600);
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        String(options.leafDays ?? 30),
        '-sha256',
        '-extfile',
        ext,
        '-out',
        crt,
      ]);
    } finally {
      rmSync(path.join(dir, ext), { force: true });
      rmSync(path.join(dir, csr), { force: true });
    }
    issued.push(name);
  }
  return { dir, caCreated, issued, kept };
}
