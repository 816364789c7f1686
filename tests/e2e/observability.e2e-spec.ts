import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project; this test drives its classes as `npm run infra -- up` does */
import { dashboardExprs, dashboards } from '../../infra/local/dashboards';
import { kafkaClientEnv } from '../../infra/local/kafka-auth';
import { loadTopology, serviceEnv, type Topology } from '../../infra/local/topology';
import { LocalVictoriaMetrics } from '../../infra/local/victoria-metrics';
import { LocalZipkin } from '../../infra/local/zipkin';
/* eslint-enable @nx/enforce-module-boundaries */
import { createCredentials, type E2eCredentials } from './support/credentials';
import { ROOT, tail, waitFor } from './support/platform';

/**
 * The local observability backends as `npm run infra -- up` runs them (Zipkin from the Maven jar, VictoriaMetrics
 * built by go install), on ports of their own so this can run beside a platform started by `npm run up`, and the
 * real gateway process configured by serviceEnv: its spans must be readable from Zipkin's API, VictoriaMetrics must
 * scrape its metrics, every Grafana dashboard query must be valid PromQL there, and the console's trace link must
 * open in Zipkin's UI.
 */
jest.setTimeout(60_000);

const PORTS = { zipkin: 19411, vm: 18428, gateway: 18780, gatewayMetrics: 18781 };
const log = () => undefined;

/** The committed topology with this test's ports and state dir; only the gateway is scraped. */
function testTopology(): Topology {
  const t = loadTopology();
  return {
    ...t,
    stateDir: '.tessera/e2e/observability',
    observability: {
      ...t.observability,
      zipkin: { ...t.observability.zipkin, port: PORTS.zipkin },
      victoriaMetrics: { ...t.observability.victoriaMetrics, port: PORTS.vm, scrapeInterval: '1s' },
    },
    services: t.services.map((s) =>
      s.name === 'gateway' ? { ...s, port: PORTS.gateway, metricsPort: PORTS.gatewayMetrics } : { ...s, metricsPort: undefined },
    ),
  };
}

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  name?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

let topo: Topology;
let zipkin: LocalZipkin;
let vm: LocalVictoriaMetrics;
let creds: E2eCredentials;
let gateway: ChildProcess | undefined;
let gatewayLog: string;
const GATEWAY = `http://127.0.0.1:${PORTS.gateway}`;

async function promQuery(
  query: string,
): Promise<{ status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } }> {
  const res = await fetch(`${vm.baseUrl}/api/v1/query?${new URLSearchParams({ query })}`);
  return (await res.json()) as never;
}

beforeAll(async () => {
  topo = testTopology();
  // A fresh store each run: samples or spans from an earlier run must not satisfy this one's assertions.
  rmSync(join(ROOT, topo.stateDir), { recursive: true, force: true });
  zipkin = new LocalZipkin(topo);
  vm = new LocalVictoriaMetrics(topo);
  await Promise.all([zipkin.up(90_000, log), vm.up(60_000, log)]);
  creds = await createCredentials();
  const dir = join(ROOT, topo.stateDir);
  mkdirSync(dir, { recursive: true });
  gatewayLog = join(dir, 'gateway.log');
  // Peers point at closed ports: /health answers 503, which is still a traced, measured request.
  const peers = {
    TRANSACTIONS_ADDR: '127.0.0.1:1',
    COMPLIANCE_ADDR: '127.0.0.1:1',
    INGEST_ADDR: '127.0.0.1:1',
    INSIGHTS_ADDR: '127.0.0.1:1',
  };
  gateway = spawn(
    process.execPath,
    ['-r', join(ROOT, 'services/gateway/dist/instrumentation.js'), join(ROOT, 'services/gateway/dist/main.js')],
    {
      cwd: ROOT,
      // Kafka: the local cluster's own credentials for the gateway principal (this topology's state dir has none).
      env: {
        ...process.env,
        ...serviceEnv(topo, 'gateway'),
        ...kafkaClientEnv(join(ROOT, loadTopology().stateDir), 'gateway'),
        ...creds.env,
        ...peers,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out = createWriteStream(gatewayLog);
  gateway.stdout?.pipe(out);
  gateway.stderr?.pipe(out);
  await waitFor(
    'gateway listening',
    async () => (await fetch(`${GATEWAY}/health`)).status > 0,
    45_000,
    () => {
      if (gateway?.exitCode !== null) throw new Error(`gateway exited with ${gateway?.exitCode}; log:\n${tail(gatewayLog)}`);
    },
  );
}, 180_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((done) => gateway?.once('exit', done));
    gateway.kill('SIGTERM');
    await exited;
  }
  creds?.cleanup();
  await Promise.all([zipkin?.down(log), vm?.down(log)]);
}, 60_000);

describe('local observability backends', () => {
  it('gets the gateway configured for Zipkin by serviceEnv', () => {
    expect(serviceEnv(topo, 'gateway')).toMatchObject({
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${PORTS.zipkin}/api/v2/spans`,
    });
  });

  it("makes a request's spans readable from Zipkin's API under the caller's trace id", async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${GATEWAY}/health`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    expect([200, 503]).toContain(res.status);

    let spans: ZipkinSpan[] = [];
    await waitFor(
      `trace ${traceId} in Zipkin`,
      async () => {
        const r = await fetch(`${zipkin.baseUrl}/api/v2/trace/${traceId}`);
        spans = r.status === 200 ? ((await r.json()) as ZipkinSpan[]) : [];
        return spans.some((s) => s.kind === 'SERVER');
      },
      20_000,
    );
    const server = spans.find((s) => s.kind === 'SERVER')!;
    expect(server).toMatchObject({ traceId, name: 'get /health', localEndpoint: { serviceName: 'gateway' } });
    // The gateway's gRPC health probes of its peers are children in the same trace.
    expect(spans.filter((s) => s.kind === 'CLIENT' && s.parentId !== undefined).length).toBeGreaterThan(0);
    expect((await (await fetch(`${zipkin.baseUrl}/api/v2/services`)).json()) as string[]).toContain('gateway');
  });

  it("links the console to Zipkin's UI page of a trace", async () => {
    const config = (await (await fetch(`${GATEWAY}/console/config.json`)).json()) as { traceUrlTemplate: string | null };
    expect(config.traceUrlTemplate).toBe(`http://127.0.0.1:${PORTS.zipkin}/zipkin/traces/{traceId}`);
    // The link the console builds for an item opens Zipkin's trace page (the Lens UI, bundled in the jar).
    const page = await fetch(config.traceUrlTemplate!.replace('{traceId}', randomBytes(16).toString('hex')));
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });

  it('scrapes the gateway into VictoriaMetrics, labelled with its service name', async () => {
    await fetch(`${GATEWAY}/health`);
    let series: { metric: Record<string, string>; value: [number, string] }[] = [];
    await waitFor(
      'gateway HTTP metrics in VictoriaMetrics',
      async () => {
        series =
          (await promQuery('sum by (service, http_request_method) (http_server_request_duration_count{service="gateway"})')).data?.result ??
          [];
        return series.length > 0;
      },
      30_000,
    );
    expect(series[0]!.metric).toMatchObject({ service: 'gateway', http_request_method: 'GET' });
    expect(Number(series[0]!.value[1])).toBeGreaterThan(0);
    expect(await vm.targets()).toEqual({ up: 2, total: 2 }); // the gateway and Zipkin's own /prometheus
  });

  it('accepts every Grafana dashboard query as valid PromQL', async () => {
    const exprs = dashboards().flatMap(({ dashboard }) => dashboardExprs(dashboard).filter((e) => !e.startsWith('label_values')));
    expect(exprs.length).toBeGreaterThan(15);
    for (const expr of exprs) {
      const q = expr.replace(/\$service/g, '.*');
      expect({ expr, ...(await promQuery(q)) }).toMatchObject({ expr, status: 'success' });
    }
  });
});
