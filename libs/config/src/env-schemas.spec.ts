import { z } from 'zod';
import { bool, brokers, durationMs, hostPort, port, postgresUrl } from './env-schemas';

const ok = <T>(schema: z.ZodType<T>, raw: string): T => schema.parse(raw);
const reason = (schema: z.ZodType, raw: string): string => {
  const result = schema.safeParse(raw);
  if (result.success) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return result.error.issues[0]!.message;
};

describe('port', () => {
  it('parses integer ports, including 0 for an OS-assigned port', () => {
    expect(ok(port(), '8080')).toBe(8080);
    expect(ok(port(), ' 0 ')).toBe(0);
    expect(ok(port(), '65535')).toBe(65535);
  });

  it.each(['65536', '-1', '80.5', 'http', '', '1e3'])('rejects %p', (raw) => {
    expect(reason(port(), raw)).toMatch(/integer port/);
  });
});

describe('hostPort', () => {
  it.each(['127.0.0.1:50051', 'transactions:50051', '[::1]:50051', 'svc.ns.svc.cluster.local:1'])('accepts %p', (raw) => {
    expect(ok(hostPort(), raw)).toBe(raw);
  });

  it.each(['127.0.0.1', ':50051', '127.0.0.1:0', 'host:70000', 'http://host:1', 'a b:1'])('rejects %p', (raw) => {
    expect(reason(hostPort(), raw)).toMatch(/host:port/);
  });
});

describe('postgresUrl', () => {
  it('accepts postgresql:// and postgres:// URLs naming a database', () => {
    expect(ok(postgresUrl(), 'postgresql://tessera:tessera@127.0.0.1:55432/tessera_transactions')).toContain('tessera_transactions');
    expect(ok(postgresUrl(), 'postgres://u@db/app?sslmode=disable')).toBe('postgres://u@db/app?sslmode=disable');
  });

  it('explains what is wrong', () => {
    expect(reason(postgresUrl(), 'not a url')).toMatch(/must be a URL/);
    expect(reason(postgresUrl(), 'mysql://u@h/db')).toMatch(/postgresql:\/\/ scheme/);
    expect(reason(postgresUrl(), 'postgresql://u@h:5432')).toMatch(/database/);
    expect(reason(postgresUrl(), 'postgresql://u@h:5432/')).toMatch(/database/);
  });
});

describe('brokers', () => {
  it('splits a comma list and trims entries', () => {
    expect(ok(brokers(), '127.0.0.1:19092, 127.0.0.1:19094,,127.0.0.1:19096 ')).toEqual([
      '127.0.0.1:19092',
      '127.0.0.1:19094',
      '127.0.0.1:19096',
    ]);
  });

  it('rejects empty lists and entries without a port', () => {
    expect(reason(brokers(), ' , ')).toMatch(/at least one/);
    expect(reason(brokers(), '127.0.0.1:19092,kafka')).toMatch(/invalid entries: 1/);
  });
});

describe('durationMs', () => {
  it.each<[string, number]>([
    ['1500', 1500],
    ['1500ms', 1500],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['3S', 3000],
  ])('parses %p as %i ms', (raw, ms) => {
    expect(ok(durationMs(), raw)).toBe(ms);
  });

  it.each(['-1s', 'soon', '5d', '', 's'])('rejects %p', (raw) => {
    expect(reason(durationMs(), raw)).toMatch(/duration/);
  });
});

describe('bool', () => {
  it.each<[string, boolean]>([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('parses %p as %p', (raw, value) => {
    expect(ok(bool(), raw)).toBe(value);
  });

  it('rejects anything else instead of treating it as false', () => {
    expect(reason(bool(), 'flase')).toMatch(/true or false/);
  });
});
