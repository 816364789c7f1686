import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config.error';
import { brokers, durationMs, hostPort, port, postgresUrl } from './env-schemas';
import { EX_CONFIG, loadConfig, loadConfigOrExit } from './load-config';

const schema = z.object({
  TRANSACTIONS_GRPC_PORT: port().default(50051),
  TRANSACTIONS_DATABASE_URL: postgresUrl(),
  COMPLIANCE_ADDR: hostPort(),
  KAFKA_BROKERS: brokers().default(['127.0.0.1:19092']),
  TRANSACTIONS_SCREEN_TIMEOUT_MS: durationMs().default(2000),
  TRANSACTIONS_LABEL: z.string().optional(),
});

const validEnv = {
  TRANSACTIONS_DATABASE_URL: 'postgresql://tessera:tessera@127.0.0.1:55432/tessera_transactions',
  COMPLIANCE_ADDR: '127.0.0.1:50052',
};

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig(schema, { ...validEnv, TRANSACTIONS_SCREEN_TIMEOUT_MS: '1s', UNRELATED: 'x' });
    expect(config).toEqual({
      TRANSACTIONS_GRPC_PORT: 50051,
      TRANSACTIONS_DATABASE_URL: validEnv.TRANSACTIONS_DATABASE_URL,
      COMPLIANCE_ADDR: '127.0.0.1:50052',
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      TRANSACTIONS_SCREEN_TIMEOUT_MS: 1000,
    });
  });

  it('treats empty variables as unset so defaults apply', () => {
    expect(loadConfig(schema, { ...validEnv, TRANSACTIONS_GRPC_PORT: '' }).TRANSACTIONS_GRPC_PORT).toBe(50051);
  });

  it('lists every missing and invalid variable with its reason and an example', () => {
    let error: unknown;
    try {
      loadConfig(
        schema,
        { TRANSACTIONS_GRPC_PORT: 'abc', KAFKA_BROKERS: 'kafka', COMPLIANCE_ADDR: '127.0.0.1:50052' },
        { service: 'transactions' },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.service).toBe('transactions');
    expect(configError.issues.map((i) => i.variable).sort()).toEqual([
      'KAFKA_BROKERS',
      'TRANSACTIONS_DATABASE_URL',
      'TRANSACTIONS_GRPC_PORT',
    ]);
    expect(configError.message).toContain('transactions: invalid configuration, 3 environment variables to fix:');
    expect(configError.message).toContain(
      'TRANSACTIONS_GRPC_PORT: must be an integer port between 0 and 65535 (example: TRANSACTIONS_GRPC_PORT=8080)',
    );
    expect(configError.message).toContain(
      'TRANSACTIONS_DATABASE_URL: is required but not set (example: TRANSACTIONS_DATABASE_URL=postgresql://tessera:tessera@127.0.0.1:55432/tessera_transactions)',
    );
    expect(configError.message).toContain('KAFKA_BROKERS: every broker must be host:port');
  });

  it('never echoes the rejected value, which may be a secret', () => {
    expect(() => loadConfig(schema, { ...validEnv, TRANSACTIONS_DATABASE_URL: 'mysql://admin:s3cr3t@db/x' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
    );
  });

  describe('<NAME>_FILE', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads a secret from the file the _FILE variable names, without its trailing newline', () => {
      const file = join(dir, 'db-url');
      writeFileSync(file, `${validEnv.TRANSACTIONS_DATABASE_URL}\n`);
      const config = loadConfig(schema, { COMPLIANCE_ADDR: validEnv.COMPLIANCE_ADDR, TRANSACTIONS_DATABASE_URL_FILE: file });
      expect(config.TRANSACTIONS_DATABASE_URL).toBe(validEnv.TRANSACTIONS_DATABASE_URL);
    });

    it('refuses both forms at once, and an unreadable file, naming the variable but not the value', () => {
      let error: unknown;
      try {
        loadConfig(schema, {
          TRANSACTIONS_DATABASE_URL: validEnv.TRANSACTIONS_DATABASE_URL,
          TRANSACTIONS_DATABASE_URL_FILE: join(dir, 'x'),
          COMPLIANCE_ADDR_FILE: join(dir, 'missing'),
        });
      } catch (err) {
        error = err;
      }
      const issues = (error as ConfigError).issues;
      expect(issues).toEqual([
        { variable: 'TRANSACTIONS_DATABASE_URL', reason: 'is set both directly and as TRANSACTIONS_DATABASE_URL_FILE; set only one' },
        { variable: 'COMPLIANCE_ADDR', reason: `COMPLIANCE_ADDR_FILE=${join(dir, 'missing')} cannot be read (ENOENT)` },
      ]);
      expect((error as ConfigError).message).not.toContain('tessera:tessera');
    });
  });

  it("reports zod's own reason for fields built without the helpers", () => {
    const plain = z.object({ TRANSACTIONS_MODE: z.enum(['fast', 'safe']) });
    expect(() => loadConfig(plain, { TRANSACTIONS_MODE: 'turbo' })).toThrow(/TRANSACTIONS_MODE: /);
  });
});

describe('loadConfigOrExit', () => {
  it('prints the ConfigError message to stderr and exits with EX_CONFIG (78)', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => loadConfigOrExit(schema, {}, { service: 'transactions' })).toThrow('exit 78');
      expect(EX_CONFIG).toBe(78);
      expect(exit).toHaveBeenCalledWith(78);
      expect(String(stderr.mock.calls[0]![0])).toContain('COMPLIANCE_ADDR: is required but not set');
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });

  it('returns the config when it is valid', () => {
    expect(loadConfigOrExit(schema, validEnv).COMPLIANCE_ADDR).toBe('127.0.0.1:50052');
  });
});
