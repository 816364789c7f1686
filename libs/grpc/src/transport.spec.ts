import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppError, type AppError } from '@tessera/errors';
import { DEFAULT_TLS_DIR, grpcTransportFromEnv, tlsEnv, tlsFilesFromEnv } from './transport';

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (isAppError(err)) return err;
    throw err;
  }
  throw new Error('expected a throw');
}

describe('grpcTransportFromEnv', () => {
  const empty = mkdtempSync(join(tmpdir(), 'tessera-tls-empty-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('is plaintext only when TESSERA_GRPC_PLAINTEXT=true is set explicitly', () => {
    const t = grpcTransportFromEnv('transactions', { TESSERA_GRPC_PLAINTEXT: 'true' });
    expect(t.mode).toBe('plaintext');
    expect(t.describe()).toMatch(/PLAINTEXT/);
  });

  it('refuses plaintext when NODE_ENV=production', () => {
    const err = thrown(() => grpcTransportFromEnv('transactions', { TESSERA_GRPC_PLAINTEXT: 'true', NODE_ENV: 'production' }));
    expect(err).toMatchObject({ code: 'GRPC.PLAINTEXT_IN_PRODUCTION', kind: 'FAILED_PRECONDITION' });
  });

  it('refuses to start without certificates, naming the missing file and both ways out', () => {
    const err = thrown(() => grpcTransportFromEnv('transactions', { TESSERA_TLS_DIR: empty }));
    expect(err.code).toBe('GRPC.TLS_FILES_MISSING');
    expect(err.message).toContain(`${join(empty, 'ca.crt')} does not exist (from TESSERA_TLS_DIR)`);
    expect(err.message).toContain('run `npm run infra -- certs` or set TESSERA_GRPC_PLAINTEXT=true for local dev');
  });

  it('has no default directory in production: TESSERA_TLS_DIR or explicit files are required', () => {
    const err = thrown(() => grpcTransportFromEnv('ingest', { NODE_ENV: 'production' }));
    expect(err.code).toBe('GRPC.TLS_NOT_CONFIGURED');
    expect(err.message).toMatch(/TESSERA_TLS_DIR.*INGEST_TLS_CERT_FILE/);
  });

  it('reports unusable PEM without echoing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-bad-'));
    for (const f of ['ca.crt', 'gateway.crt']) writeFileSync(join(dir, f), 'not a certificate');
    writeFileSync(join(dir, 'gateway.key'), 'SECRET-KEY-MATERIAL');
    const err = thrown(() => grpcTransportFromEnv('gateway', { TESSERA_TLS_DIR: dir }));
    expect(err.code).toBe('GRPC.TLS_FILES_INVALID');
    expect(err.message).not.toContain('SECRET-KEY-MATERIAL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a plaintext flag that is neither true nor false', () => {
    expect(thrown(() => grpcTransportFromEnv('gateway', { TESSERA_GRPC_PLAINTEXT: 'maybe' })).code).toBe('GRPC.INVALID_TRANSPORT_CONFIG');
  });
});

describe('tlsFilesFromEnv', () => {
  it('reads <dir>/ca.crt, <service>.crt, <service>.key; explicit files win; repo .tessera/tls outside production', () => {
    expect(tlsFilesFromEnv('stream-processor', { TESSERA_TLS_DIR: '/t' })).toEqual({
      ca: '/t/ca.crt',
      cert: '/t/stream-processor.crt',
      key: '/t/stream-processor.key',
    });
    expect(
      tlsFilesFromEnv('stream-processor', {
        TESSERA_TLS_DIR: '/t',
        TESSERA_TLS_CA_FILE: '/ca.pem',
        STREAM_PROCESSOR_TLS_KEY_FILE: '/k.pem',
      }),
    ).toEqual({
      ca: '/ca.pem',
      cert: '/t/stream-processor.crt',
      key: '/k.pem',
    });
    expect(tlsFilesFromEnv('gateway', {})?.ca).toBe(join(DEFAULT_TLS_DIR, 'ca.crt'));
    expect(tlsFilesFromEnv('gateway', { NODE_ENV: 'production' })).toBeUndefined();
  });
});

describe('tlsEnv', () => {
  it('points a child process at a certificate dir and overrides an inherited plaintext flag', () => {
    const env = { TESSERA_GRPC_PLAINTEXT: 'true', ...tlsEnv('/tmp/x') };
    expect(env).toEqual({ TESSERA_TLS_DIR: '/tmp/x', TESSERA_GRPC_PLAINTEXT: 'false' });
  });
});
