import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSpanLines } from './json-lines-span.exporter';
import { prometheusEndpoint, TelemetryConfigError, TEST_SPANS_FILE_ENV } from './start-telemetry';

const run = promisify(execFile);

/** A port free right now (the child binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('startTelemetry', () => {
  it('records an http client -> server hop as parent and child spans of one trace', async () => {
    const spansFile = join(mkdtempSync(join(tmpdir(), 'tessera-otel-')), 'spans.jsonl');
    const fixture = join(__dirname, '..', 'test', 'fixtures', 'http-hop.fixture.ts');
    const env: NodeJS.ProcessEnv = { ...process.env, [TEST_SPANS_FILE_ENV]: spansFile };
    delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];

    await run(process.execPath, ['--import', 'tsx', fixture], { env, timeout: 30_000 });

    const spans = parseSpanLines(readFileSync(spansFile, 'utf8'));
    const client = spans.find((s) => s.kind === 2 /* CLIENT */);
    const server = spans.find((s) => s.kind === 1 /* SERVER */);
    expect(client).toBeDefined();
    expect(server).toBeDefined();
    expect(server!.traceId).toBe(client!.traceId);
    expect(server!.parentSpanId).toBe(client!.spanId);
    expect(server!.service).toBe('telemetry-fixture');
  }, 40_000);
});

describe('prometheusEndpoint', () => {
  it('is off when no metrics port is configured', () => {
    expect(prometheusEndpoint('transactions', {})).toBeUndefined();
  });

  it('reads <SERVICE>_METRICS_PORT before the generic OTEL variable, on loopback by default', () => {
    const env = { STREAM_PROCESSOR_METRICS_PORT: '9467', OTEL_EXPORTER_PROMETHEUS_PORT: '9464' };
    expect(prometheusEndpoint('stream-processor', env)).toEqual({ host: '127.0.0.1', port: 9467 });
    expect(prometheusEndpoint('gateway', env)).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('takes the host from <SERVICE>_METRICS_HOST', () => {
    expect(prometheusEndpoint('ingest', { INGEST_METRICS_PORT: '9465', INGEST_METRICS_HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 9465 });
  });

  it('rejects a port that is not a TCP port, naming the variable', () => {
    expect(() => prometheusEndpoint('insights', { INSIGHTS_METRICS_PORT: '94x' })).toThrow(TelemetryConfigError);
    expect(() => prometheusEndpoint('insights', { OTEL_EXPORTER_PROMETHEUS_PORT: '70000' })).toThrow(/OTEL_EXPORTER_PROMETHEUS_PORT/);
  });
});

describe('startTelemetry with a metrics port', () => {
  it('serves the counter and the http server duration in Prometheus text, labelled with the service', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TELEMETRY_FIXTURE_METRICS_PORT: String(await freePort()) };
    delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    delete env[TEST_SPANS_FILE_ENV];
    const fixture = join(__dirname, '..', 'test', 'fixtures', 'metrics-scrape.fixture.ts');

    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { env, timeout: 30_000 });

    expect(stdout).toMatch(/^fixture_widgets_made(_total)?\{[^}]*shape="round"[^}]*\} 3$/m);
    const durationCounts = stdout.split('\n').filter((line) => /^http_server_request_duration(_seconds)?_count\{/.test(line));
    expect(durationCounts.length).toBeGreaterThan(0);
    for (const line of durationCounts) expect(line).toContain('service_name="telemetry-fixture"');
    // One request to /hop; the scrapes themselves are not counted as server traffic.
    expect(durationCounts.map((line) => Number(line.split(' ').pop())).reduce((a, b) => a + b, 0)).toBe(1);
  }, 40_000);
});
