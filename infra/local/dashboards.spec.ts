import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { GRAFANA_DATASOURCES_PATH } from './compose';
import { dashboardExprs, dashboards as load, metricNames } from './dashboards';
import { REPO_ROOT } from './topology';

const dashboards = load();

describe('Grafana dashboards (infra/grafana/dashboards)', () => {
  it('has the Service RED, Payments and Pipeline dashboards with unique uids', () => {
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual(['tessera-payments', 'tessera-pipeline', 'tessera-service-red']);
  });

  it('uses only datasources that provisioning defines', () => {
    const provisioned = (parse(readFileSync(GRAFANA_DATASOURCES_PATH, 'utf8')) as { datasources: { uid: string }[] }).datasources.map(
      (d) => d.uid,
    );
    for (const { dashboard } of dashboards) {
      for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
        expect(provisioned).toContain(p.datasource?.uid);
        for (const t of p.targets ?? []) expect(provisioned).toContain(t.datasource?.uid);
      }
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    }
  });

  it('queries only metrics catalogued in docs/metrics.md under their exposed Prometheus names', () => {
    const catalogue = readFileSync(path.join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8');
    const used = new Set(dashboards.flatMap(({ dashboard }) => dashboardExprs(dashboard).flatMap(metricNames)));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) {
      if (name === 'up') continue; // VictoriaMetrics' own per-target series
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect({ name, catalogued: catalogue.includes(`\`${base}`) }).toEqual({ name, catalogued: true });
    }
  });
});

describe('metricNames', () => {
  it('finds selected metrics and ignores label values and grouping clauses', () => {
    expect(metricNames('sum by (le) (rate(a_b_bucket{x="c_d{"}[5m])) / sum(rate(e_total[1m]))')).toEqual(['a_b_bucket', 'e_total']);
  });
});
