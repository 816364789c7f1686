import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@tessera/config';
import { kafkaSecurityFromEnv } from './kafka-security';

const files: Record<string, string> = { '/ca.pem': 'CA', '/cert.pem': 'CERT', '/key.pem': 'KEY' };
const read = (f: string) => Buffer.from(files[f] ?? '');

describe(kafkaSecurityFromEnv, () => {
  it('is nothing for PLAINTEXT, the default', () => {
    expect(kafkaSecurityFromEnv({}, read)).toEqual({});
  });

  it('builds TLS + SCRAM-SHA-512 for SASL_SSL, with the CA bundle', () => {
    const out = kafkaSecurityFromEnv(
      {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_USERNAME: 'transactions',
        KAFKA_SASL_PASSWORD: 's3cret',
        KAFKA_TLS_CA_FILE: '/ca.pem',
      },
      read,
    );
    expect(out).toEqual({
      ssl: { ca: [Buffer.from('CA')] },
      sasl: { mechanism: 'scram-sha-512', username: 'transactions', password: 's3cret' },
    });
  });

  it('takes the password from KAFKA_SASL_PASSWORD_FILE and a client certificate for mTLS', () => {
    const pw = join(mkdtempSync(join(tmpdir(), 'kafka-sec-')), 'password');
    writeFileSync(pw, 'from-file\n');
    const withFile = kafkaSecurityFromEnv(
      {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD_FILE: pw,
      },
      read,
    );
    expect(withFile.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: 'from-file' });
    expect(
      kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_TLS_CERT_FILE: '/cert.pem', KAFKA_TLS_KEY_FILE: '/key.pem' }, read),
    ).toEqual({ ssl: { cert: Buffer.from('CERT'), key: Buffer.from('KEY') } });
    expect(kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'SSL' }, read)).toEqual({ ssl: true });
  });

  it('refuses incomplete or unsafe settings with the variable to fix, never the value', () => {
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        kafkaSecurityFromEnv(env, read);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues.map((i) => i.variable);
      }
      throw new Error('accepted');
    };
    expect(refused({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'u' })).toEqual(['KAFKA_SASL_USERNAME']);
    expect(
      refused({
        KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toEqual(['KAFKA_SASL_MECHANISM']);
    expect(refused({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_TLS_CERT_FILE: '/cert.pem' })).toEqual(['KAFKA_TLS_CERT_FILE']);
    expect(refused({ KAFKA_TLS_CA_FILE: '/ca.pem' })).toEqual(['KAFKA_SECURITY_PROTOCOL']);
    expect(refused({ KAFKA_SECURITY_PROTOCOL: 'TLS' })).toEqual(['KAFKA_SECURITY_PROTOCOL']);
  });
});
