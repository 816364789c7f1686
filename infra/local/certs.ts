/**
 * `npm run infra -- certs [--force]`: the local dev CA and per-service mTLS certificates in `.tessera/tls/`
 * (git-ignored, never committed). `up` and `services up` call it too, so a fresh clone gets certificates
 * without a separate step, and leaves nearing expiry are reissued on the next `up`.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
// By path, not '@tessera/grpc': the CLI must work on a fresh clone, before libs/grpc/dist exists.
import { DEV_TLS_IDENTITIES, DevPkiError, ensureDevPki, type DevPkiResult } from '../../libs/grpc/src/dev-pki';
import { InfraError } from './errors';
import { REPO_ROOT, type Topology } from './topology';

/** Where the services of this topology read their certificates (TESSERA_TLS_DIR, set by serviceEnv). */
export function tlsDir(topo: Topology): string {
  return path.join(REPO_ROOT, topo.stateDir, 'tls');
}

export function ensureCerts(topo: Topology, log: (line: string) => void, force = false): DevPkiResult {
  const dir = tlsDir(topo);
  try {
    // kafka-broker: the brokers' TLS certificate (their SASL_SSL listener and mTLS controller listener, kafka-auth.ts).
    const result = ensureDevPki({ dir, identities: [...DEV_TLS_IDENTITIES, 'kafka-broker'], force, log });
    // Kafka's PEM keystore wants the key and its certificate in one file: kafka-broker.pem, rewritten each time.
    const pem = path.join(dir, 'kafka-broker.pem');
    writeFileSync(
      pem,
      `${readFileSync(path.join(dir, 'kafka-broker.key'), 'utf8').trim()}\n${readFileSync(path.join(dir, 'kafka-broker.crt'), 'utf8').trim()}\n`,
      { mode: 0o600 },
    );
    chmodSync(pem, 0o600);
    const where = path.relative(REPO_ROOT, dir);
    if (result.issued.length === 0) log(`mTLS certificates in ${where} are valid (${result.kept.join(', ')})`);
    else log(`mTLS certificates in ${where}: ${result.caCreated ? 'new CA, ' : ''}issued ${result.issued.join(', ')}`);
    return result;
  } catch (err) {
    if (err instanceof DevPkiError)
      throw new InfraError(`cannot create the dev certificates: ${err.message}`, 'install the openssl CLI, then `npm run infra -- certs`');
    throw err;
  }
}
