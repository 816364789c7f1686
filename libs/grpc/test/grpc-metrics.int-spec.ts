/**
 * The gRPC RED metrics as a scraper sees them: a child process runs startTelemetry with a real
 * Prometheus endpoint, a real server and client, and prints its /metrics (the names docs/metrics.md
 * promises the dashboards).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const sample = (scrape: string, metric: string, labels: Record<string, string>): number | undefined => {
  const line = scrape
    .split('\n')
    .find((l) => l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

describe('gRPC metrics on the Prometheus endpoint', () => {
  it('exposes rpc_server_duration and rpc_client_duration per method and status code', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, GRPC_FIXTURE_METRICS_PORT: String(await freePort()), TESSERA_GRPC_PLAINTEXT: 'true' };
    delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const fixture = join(__dirname, 'fixtures', 'grpc-metrics-scrape.fixture.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { env, timeout: 60_000 });

    const method = {
      service_name: 'grpc-fixture',
      rpc_system: 'grpc',
      rpc_service: 'tessera.payments.v1.AccountService',
      rpc_method: 'GetAccount',
    };
    for (const side of ['rpc_server_duration', 'rpc_client_duration']) {
      expect(sample(stdout, `${side}_count`, { ...method, rpc_grpc_status_code: '0' })).toBe(1);
      expect(sample(stdout, `${side}_count`, { ...method, rpc_grpc_status_code: '5' })).toBe(1);
      expect(sample(stdout, `${side}_bucket`, { ...method, rpc_grpc_status_code: '0', le: '+Inf' })).toBe(1);
    }
    expect(stdout).toMatch(/^# UNIT rpc_server_duration ms$/m);
  }, 90_000);
});
