import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { OtlpReceiver } from './otlp-receiver';
import { prometheusEndpoint, TelemetryConfigError } from './start-telemetry';

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

/** Runs the http hop fixture exporting to `receiver`; returns the traceparent its server received. */
async function runHop(receiver: OtlpReceiver, extra: NodeJS.ProcessEnv = {}): Promise<string | undefined> {
  return (await runHopHeaders(receiver, extra)).traceparent;
}

/** {@link runHop}, returning the tracestate the server received as well. */
async function runHopHeaders(
  receiver: OtlpReceiver,
  extra: NodeJS.ProcessEnv = {},
): Promise<{ traceparent?: string; tracestate?: string }> {
  const fixture = join(__dirname, '..', 'test', 'fixtures', 'http-hop.fixture.ts');
  const env: NodeJS.ProcessEnv = { ...process.env, ...receiver.env(), ...extra };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { env, timeout: 30_000 });
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as { traceparent?: string; tracestate?: string };
}

describe('startTelemetry', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterEach(() => receiver.stop());

  it('exports an http client -> server hop over OTLP as parent and child spans of one trace', async () => {
    await runHop(receiver);

    const client = receiver.spans.find((s) => s.kind === SpanKind.CLIENT);
    const server = receiver.spans.find((s) => s.kind === SpanKind.SERVER);
    expect(client).toBeDefined();
    expect(server).toBeDefined();
    expect(server!.traceId).toBe(client!.traceId);
    expect(server!.parentSpanId).toBe(client!.spanId);
    expect(server!.service).toBe('telemetry-fixture');
  }, 40_000);

  it('honours OTEL_TRACES_SAMPLER=traceidratio with ratio 0: nothing exported, the trace id still propagates', async () => {
    const traceparent = await runHop(receiver, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });

    expect(receiver.spans).toEqual([]);
    // A real (non-zero) trace id with the sampled flag off: downstream services and logs still correlate.
    expect(traceparent).toMatch(/^00-(?!0{32})[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  }, 40_000);

  it('keeps the upstream decision with parentbased_traceidratio: a sampled parent is recorded even at ratio 0', async () => {
    const traceId = 'a1'.repeat(16);
    const traceparent = await runHop(receiver, {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
      FIXTURE_PARENT: `00-${traceId}-${'b2'.repeat(8)}-01`,
    });

    expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(
      receiver
        .trace(traceId)
        .map((s) => s.kind)
        .sort(),
    ).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
  }, 40_000);

  describe('OTEL_TRACES_SAMPLER=tessera_tail', () => {
    const tail = { OTEL_TRACES_SAMPLER: 'tessera_tail', OTEL_TRACES_SAMPLER_ARG: '0', TESSERA_TRACES_KEEP_PER_SECOND: '0' };

    it('drops a fast, successful trace that was not kept at the head; the sampled trace id and the mark propagate', async () => {
      const { traceparent, tracestate } = await runHopHeaders(receiver, tail);
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(tracestate).toBe('tessera=t');
      expect(receiver.spans).toEqual([]);
    }, 40_000);

    it('exports the whole trace when it fails (a 500 marks the client and server spans ERROR)', async () => {
      const traceparent = await runHop(receiver, { ...tail, FIXTURE_STATUS: '500' });
      const traceId = traceparent!.split('-')[1];
      expect(receiver.spans.map((s) => [s.kind, s.traceId])).toEqual(
        expect.arrayContaining([
          [SpanKind.CLIENT, traceId],
          [SpanKind.SERVER, traceId],
        ]),
      );
    }, 40_000);

    it('exports a fast trace kept at the head (in the ratio: marked k)', async () => {
      const { tracestate } = await runHopHeaders(receiver, { ...tail, OTEL_TRACES_SAMPLER_ARG: '1' });
      expect(tracestate).toBe('tessera=k');
      expect(receiver.spans.map((s) => s.kind)).toEqual(expect.arrayContaining([SpanKind.CLIENT, SpanKind.SERVER]));
    }, 40_000);
  });

  it('refuses an unknown sampler at startup, naming the variable', async () => {
    const fixture = join(__dirname, '..', 'test', 'fixtures', 'http-hop.fixture.ts');
    const env: NodeJS.ProcessEnv = { ...process.env, ...receiver.env(), OTEL_TRACES_SAMPLER: 'sometimes' };
    await expect(run(process.execPath, ['--import', 'tsx', fixture], { env, timeout: 30_000 })).rejects.toMatchObject({
      stderr: expect.stringContaining('OTEL_TRACES_SAMPLER'),
    });
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
    expect(prometheusEndpoint('ingest', { INGEST_METRICS_PORT: '9465', INGEST_METRICS_HOST: '0.0.0.0' })).toEqual({
      host: '0.0.0.0',
      port: 9465,
    });
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
