import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { AppError } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';

/** libs/grpc/src or libs/grpc/dist -> repository root. */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** Where `npm run infra -- certs` writes; used only outside production. */
export const DEFAULT_TLS_DIR = path.join(REPO_ROOT, '.tessera', 'tls');

export type TransportMode = 'mtls' | 'plaintext';

/**
 * How a process speaks gRPC, decided once from its environment. In mTLS mode the server demands a client
 * certificate from the same CA and the client presents its own, so both ends authenticate each other.
 */
export interface GrpcTransport {
  mode: TransportMode;
  /** The service identity (certificate CN) this process presents. */
  service: string;
  server: ServerCredentials;
  client: ChannelCredentials;
  /** One line for boot logs, e.g. "mTLS as transactions (CA /x/ca.crt)"; never key material. */
  describe(): string;
}

const FIX = 'run `npm run infra -- certs` or set TESSERA_GRPC_PLAINTEXT=true for local dev';

function transportError(code: string, message: string, metadata: Record<string, string> = {}): AppError {
  return new AppError({ code, kind: 'FAILED_PRECONDITION', message, metadata });
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  throw transportError('GRPC.INVALID_TRANSPORT_CONFIG', `${name} must be true or false`, { variable: name });
}

/** `stream-processor` -> `STREAM_PROCESSOR`. */
const prefixOf = (service: string) => service.toUpperCase().replace(/-/g, '_');

/** The files a service's mTLS identity is read from, after applying the env overrides and defaults. */
export function tlsFilesFromEnv(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
): { ca: string; cert: string; key: string } | undefined {
  const production = env['NODE_ENV'] === 'production';
  const dir = env['TESSERA_TLS_DIR'] || (production ? undefined : DEFAULT_TLS_DIR);
  const prefix = prefixOf(service);
  const ca = env['TESSERA_TLS_CA_FILE'] || (dir && path.join(dir, 'ca.crt'));
  const cert = env[`${prefix}_TLS_CERT_FILE`] || (dir && path.join(dir, `${service}.crt`));
  const key = env[`${prefix}_TLS_KEY_FILE`] || (dir && path.join(dir, `${service}.key`));
  return ca && cert && key ? { ca, cert, key } : undefined;
}

function readPem(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw transportError('GRPC.TLS_FILES_MISSING', `gRPC mTLS: ${file} ${reason} (from ${variable}); ${FIX}`, { file, variable });
  }
}

const warned = new Set<string>();
const cache = new Map<string, GrpcTransport>();

/**
 * The gRPC transport for `service` (its certificate name, e.g. `transactions`), from:
 *  - `TESSERA_GRPC_PLAINTEXT=true`: plaintext, for explicit local dev only. Refused when NODE_ENV=production;
 *    logs a loud WARN once, because every peer can then impersonate any other.
 *  - otherwise mTLS from `TESSERA_TLS_DIR` (ca.crt, <service>.crt, <service>.key; defaults to
 *    `<repo>/.tessera/tls` outside production) or the explicit `TESSERA_TLS_CA_FILE`,
 *    `<SERVICE>_TLS_CERT_FILE`, `<SERVICE>_TLS_KEY_FILE`.
 * With neither, it throws (FAILED_PRECONDITION `GRPC.TLS_FILES_MISSING` / `GRPC.TLS_NOT_CONFIGURED`) with a
 * message saying how to fix it, so the service refuses to start rather than silently running in the clear.
 * Files are read once per distinct configuration (memoised); restart to pick up reissued certificates.
 */
export function grpcTransportFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): GrpcTransport {
  const production = env['NODE_ENV'] === 'production';
  const plaintext = flag(env, 'TESSERA_GRPC_PLAINTEXT');
  if (plaintext && production) {
    throw transportError(
      'GRPC.PLAINTEXT_IN_PRODUCTION',
      'TESSERA_GRPC_PLAINTEXT=true is refused when NODE_ENV=production: configure mTLS (TESSERA_TLS_DIR)',
      {
        variable: 'TESSERA_GRPC_PLAINTEXT',
      },
    );
  }
  if (plaintext) {
    if (!warned.has(service)) {
      warned.add(service);
      createLogger('GrpcTransport').warn(
        { identity: service, variable: 'TESSERA_GRPC_PLAINTEXT' },
        '!!! gRPC PLAINTEXT: no encryption and no service authentication between services (TESSERA_GRPC_PLAINTEXT=true). Local development only. !!!',
      );
    }
    return {
      mode: 'plaintext',
      service,
      server: ServerCredentials.createInsecure(),
      client: ChannelCredentials.createInsecure(),
      describe: () => `PLAINTEXT as ${service} (TESSERA_GRPC_PLAINTEXT=true)`,
    };
  }
  const files = tlsFilesFromEnv(service, env);
  if (!files) {
    throw transportError(
      'GRPC.TLS_NOT_CONFIGURED',
      `gRPC mTLS is not configured for ${service}: set TESSERA_TLS_DIR (or TESSERA_TLS_CA_FILE, ${prefixOf(service)}_TLS_CERT_FILE, ${prefixOf(service)}_TLS_KEY_FILE)${production ? '' : `, or ${FIX}`}`,
    );
  }
  const key = `${service}\0${files.ca}\0${files.cert}\0${files.key}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // Name the variable the path came from: the explicit override, else the directory.
  const from = (variable: string) => (env[variable] ? variable : 'TESSERA_TLS_DIR');
  const ca = readPem(files.ca, from('TESSERA_TLS_CA_FILE'));
  const cert = readPem(files.cert, from(`${prefixOf(service)}_TLS_CERT_FILE`));
  const pk = readPem(files.key, from(`${prefixOf(service)}_TLS_KEY_FILE`));
  let transport: GrpcTransport;
  try {
    transport = {
      mode: 'mtls',
      service,
      // true: a client without a certificate from this CA fails the handshake (no anonymous TLS).
      server: ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: pk }], true),
      client: ChannelCredentials.createSsl(ca, pk, cert),
      describe: () => `mTLS as ${service} (CA ${files.ca})`,
    };
  } catch (err) {
    throw transportError(
      'GRPC.TLS_FILES_INVALID',
      `gRPC mTLS: ${files.cert} / ${files.key} / ${files.ca} are not usable PEM (${(err as Error).message}); ${FIX}`,
    );
  }
  cache.set(key, transport);
  return transport;
}

/**
 * The environment that makes a Node service (or a client such as loadgen) use the certificates in `dir`
 * (as written by `ensureDevPki`), overriding any inherited plaintext flag. For e2e harnesses.
 */
export function tlsEnv(dir: string): Record<string, string> {
  return { TESSERA_TLS_DIR: path.resolve(dir), TESSERA_GRPC_PLAINTEXT: 'false' };
}
