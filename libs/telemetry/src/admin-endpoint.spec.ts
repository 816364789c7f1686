import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAdminEndpoint } from './admin-endpoint';
import { setLogLevel } from './log-level';
import { createLogger } from './logger';

const run = promisify(execFile);

function capture(): { stream: Writable; lines: () => { level: string; msg: string }[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: string; msg: string }),
  };
}

describe('startAdminEndpoint', () => {
  let base: string;
  let server: ReturnType<typeof startAdminEndpoint>;

  beforeAll(async () => {
    server = startAdminEndpoint({
      host: '127.0.0.1',
      port: 0,
      onError: (e) => {
        throw e;
      },
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => setLogLevel('info'));

  describe('PUT /log-level', () => {
    it('changes the level of existing loggers and of loggers created afterwards', async () => {
      const out = capture();
      const logger = createLogger('Early', { destination: out.stream, level: 'info' });
      logger.debug('hidden');

      const res = await fetch(`${base}/log-level`, { method: 'PUT', body: JSON.stringify({ level: 'debug' }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ level: 'debug' });
      logger.debug('shown');
      createLogger('Late', { destination: out.stream, level: 'warn' }).debug('late shown');

      expect(out.lines().map((l) => l.msg)).toEqual(['shown', 'late shown']);
      expect(await (await fetch(`${base}/log-level`)).json()).toEqual({ level: 'debug', runtime: true });
    });

    it('refuses an unknown level or a body that is not JSON with 400 and a stable code', async () => {
      for (const body of ['{"level":"verbose"}', 'debug', '{}']) {
        const res = await fetch(`${base}/log-level`, { method: 'PUT', body });
        expect(res.status).toBe(400);
        expect(((await res.json()) as { code: string }).code).toMatch(/^TELEMETRY\.INVALID_(LOG_LEVEL|BODY)$/);
      }
    });

    it('answers other methods with 405 and unknown paths with 404', async () => {
      expect((await fetch(`${base}/log-level`, { method: 'POST', body: '{}' })).status).toBe(405);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      // No metrics handler given: /metrics is not served.
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
    });
  });
});

describe('startTelemetry admin port (child process)', () => {
  it("changes a running service's log level through PUT /log-level on its metrics port, without a restart", async () => {
    const net = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const env: NodeJS.ProcessEnv = { ...process.env, TELEMETRY_FIXTURE_METRICS_PORT: String(port), LOG_LEVEL: 'info' };
    delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const fixture = join(__dirname, '..', 'test', 'fixtures', 'log-level.fixture.ts');

    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { env, timeout: 30_000 });

    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const messages = lines.filter((l) => l['level'] === 'debug').map((l) => l['msg']);
    expect(messages).toEqual(['after: shown', 'late logger: shown']);
    // The result line is found by its shape, not its position: the service's own log lines (pino writes
    // asynchronously) may land after it.
    const result = lines.find((l) => 'put' in l && 'get' in l) as { put: { status: number }; get: { body: string } } | undefined;
    if (result === undefined) throw new Error(`the fixture printed no result line; its output was:\n${stdout}`);
    expect(result.put.status).toBe(200);
    expect(JSON.parse(result.get.body)).toEqual({ level: 'debug', runtime: true });
  }, 40_000);
});
