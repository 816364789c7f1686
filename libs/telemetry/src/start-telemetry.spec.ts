import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSpanLines } from './json-lines-span.exporter';
import { TEST_SPANS_FILE_ENV } from './start-telemetry';

const run = promisify(execFile);

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
