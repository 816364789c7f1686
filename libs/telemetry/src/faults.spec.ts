import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAdminEndpoint } from './admin-endpoint';
import { activeFaults, clearFaults, injectFault, setFault } from './faults';

const boom = () => Object.assign(new Error('injected'), { code: 'ECONNREFUSED' });

describe('fault injection', () => {
  afterEach(() => clearFaults());

  it('costs nothing when off: no promise, the call goes straight on', () => {
    expect(injectFault('db', 'connect', boom)).toBeUndefined();
  });

  it("fails every call at errorRate 1 with the caller's error, and only matching subjects", async () => {
    setFault('grpc-server', { errorRate: 1, match: 'Screen' }, {});
    expect(injectFault('grpc-server', '/tessera.payments.v1.TransferService/CreateTransfer', boom)).toBeUndefined();
    await expect(injectFault('grpc-server', '/tessera.compliance.v1.ComplianceService/Screen', boom)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    expect(activeFaults()['grpc-server']).toMatchObject({ errorRate: 1, match: 'Screen', injected: 1 });
  });

  it('delays a call by delayMs and then lets it through', async () => {
    setFault('db', { delayMs: 60 }, {});
    const started = Date.now();
    await injectFault('db', 'connect', boom);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('switches itself off after durationSec', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      setFault('kafka-produce', { errorRate: 1, durationSec: 5 }, {});
      jest.setSystemTime(1_000_000 + 5_001);
      expect(injectFault('kafka-produce', 'payments.transfer.events.v1', boom)).toBeUndefined();
      expect(activeFaults()).toEqual({});
    } finally {
      jest.useRealTimers();
    }
  });

  it('is refused in production and for specs that would do nothing or too much', () => {
    expect(() => setFault('db', { errorRate: 1 }, { NODE_ENV: 'production' })).toThrow(/production/);
    expect(() => setFault('db', {}, {})).toThrow(/delayMs or errorRate/);
    expect(() => setFault('db', { errorRate: 2 }, {})).toThrow(/errorRate/);
    expect(() => setFault('db', { delayMs: 60_000 }, {})).toThrow(/delayMs/);
    expect(activeFaults()).toEqual({});
  });
});

describe('GET|PUT|DELETE /faults on the admin port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'));
  const tokenFile = join(dir, 'admin-token');
  writeFileSync(tokenFile, 'the-admin-token\n');
  let base: string;
  let server: ReturnType<typeof startAdminEndpoint>;
  const env: NodeJS.ProcessEnv = { TESSERA_ADMIN_TOKEN_FILE: tokenFile };

  beforeAll(async () => {
    server = startAdminEndpoint({
      host: '127.0.0.1',
      port: 0,
      env,
      onError: (e) => {
        throw e;
      },
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    clearFaults();
    delete env['NODE_ENV'];
  });

  const put = (body: unknown, token?: string) =>
    fetch(`${base}/faults`, { method: 'PUT', headers: token ? { authorization: `Bearer ${token}` } : {}, body: JSON.stringify(body) });

  it('switches a fault on with the admin token, lists it, and off again', async () => {
    const on = await put({ name: 'db', delayMs: 200, errorRate: 0.5, durationSec: 60 }, 'the-admin-token');
    expect(on.status).toBe(200);
    expect((await (await fetch(`${base}/faults`)).json()) as unknown).toMatchObject({ faults: { db: { delayMs: 200, errorRate: 0.5 } } });
    const off = await fetch(`${base}/faults?name=db`, { method: 'DELETE', headers: { authorization: 'Bearer the-admin-token' } });
    expect(off.status).toBe(200);
    expect(activeFaults()).toEqual({});
  });

  it('refuses without the token or with a wrong one, and changes nothing', async () => {
    expect((await put({ name: 'db', errorRate: 1 })).status).toBe(401);
    const wrong = await put({ name: 'db', errorRate: 1 }, 'guessed');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'FAULTS.UNAUTHORIZED' });
    expect(activeFaults()).toEqual({});
  });

  it('refuses in production even with the token', async () => {
    env['NODE_ENV'] = 'production';
    const res = await put({ name: 'db', errorRate: 1 }, 'the-admin-token');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'FAULTS.REFUSED_IN_PRODUCTION' });
    expect(activeFaults()).toEqual({});
  });

  it('answers a typed 400 for an unknown fault or a bad spec', async () => {
    expect(await (await put({ name: 'disk', errorRate: 1 }, 'the-admin-token')).json()).toMatchObject({ code: 'FAULTS.UNKNOWN' });
    expect(await (await put({ name: 'db', errorRate: 3 }, 'the-admin-token')).json()).toMatchObject({ code: 'FAULTS.INVALID_SPEC' });
  });
});
