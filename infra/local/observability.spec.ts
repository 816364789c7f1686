import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { COMPOSE_SCRAPE_PATH, GRAFANA_DATASOURCES_PATH, generatedFiles } from './compose';
import { loadTopology, REPO_ROOT } from './topology';
import { LocalVictoriaMetrics, scrapeConfig } from './victoria-metrics';
import { zipkinCommand } from './zipkin';

const topo = loadTopology();

interface ScrapeDoc {
  global: { scrape_interval: string };
  scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[]; labels: { service: string } }[] }[];
}

describe('scrapeConfig', () => {
  it('scrapes every service that has a metrics port, on that port, labelled with its name, plus Zipkin', () => {
    const doc = parse(scrapeConfig(topo, () => '127.0.0.1', '127.0.0.1:9411')) as ScrapeDoc;
    expect(doc.global.scrape_interval).toBe(topo.observability.victoriaMetrics.scrapeInterval);
    const services = doc.scrape_configs.find((c) => c.job_name === 'tessera-services')!.static_configs;
    expect(services).toEqual(
      topo.services
        .filter((s) => s.metricsPort !== undefined)
        .map((s) => ({ targets: [`127.0.0.1:${s.metricsPort}`], labels: { service: s.name } })),
    );
    expect(services.map((c) => c.labels.service)).toEqual(
      expect.arrayContaining(['gateway', 'transactions', 'compliance', 'ingest', 'insights', 'stream-processor']),
    );
    expect(doc.scrape_configs.find((c) => c.job_name === 'zipkin')).toMatchObject({
      metrics_path: '/prometheus',
      static_configs: [{ targets: ['127.0.0.1:9411'] }],
    });
  });
});

describe('generatedFiles', () => {
  it.each([COMPOSE_SCRAPE_PATH, GRAFANA_DATASOURCES_PATH])(
    '%s matches the topology (regenerate: npx tsx infra/local/compose.ts --write)',
    (file) => {
      expect(readFileSync(file, 'utf8')).toBe(generatedFiles(topo).find((f) => f.file === file)!.content);
    },
  );

  it('points the compose scrape config at container names', () => {
    const doc = parse(readFileSync(COMPOSE_SCRAPE_PATH, 'utf8')) as ScrapeDoc;
    expect(doc.scrape_configs[0]!.static_configs[0]!.targets).toEqual(['gateway:9461']);
  });
});

describe('zipkinCommand', () => {
  it('bounds the heap and the in-memory store and binds the topology host', () => {
    const { args, env } = zipkinCommand(topo);
    expect(args).toEqual(
      expect.arrayContaining([
        `-Xmx${topo.observability.zipkin.heapMb}m`,
        '-jar',
        `--armeria.ports[0].ip=${topo.observability.zipkin.host}`,
      ]),
    );
    expect(env).toMatchObject({
      STORAGE_TYPE: 'mem',
      MEM_MAX_SPANS: String(topo.observability.zipkin.maxSpans),
      QUERY_PORT: String(topo.observability.zipkin.port),
    });
  });

  it('runs the Zipkin version that infra/zipkin/pom.xml resolves (and compose pulls)', () => {
    const pom = readFileSync(path.join(REPO_ROOT, 'infra/zipkin/pom.xml'), 'utf8');
    expect(/<zipkin\.version>([^<]+)<\/zipkin\.version>/.exec(pom)?.[1]).toBe(topo.observability.zipkin.version);
    const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string }>;
    };
    expect(compose.services['zipkin']!.image).toBe(`openzipkin/zipkin:${topo.observability.zipkin.version}`);
    expect(compose.services['victoria-metrics']!.image).toBe(
      `victoriametrics/victoria-metrics:${topo.observability.victoriaMetrics.version}`,
    );
  });
});

describe('LocalVictoriaMetrics', () => {
  describe('args', () => {
    it('bounds memory and retention and listens where the topology says', () => {
      const v = topo.observability.victoriaMetrics;
      expect(new LocalVictoriaMetrics(topo).args()).toEqual(
        expect.arrayContaining([
          `-httpListenAddr=${v.host}:${v.port}`,
          `-memory.allowedBytes=${v.memoryMb}MB`,
          `-retentionPeriod=${v.retention}`,
        ]),
      );
    });
  });
});
