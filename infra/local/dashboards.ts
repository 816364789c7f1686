import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './topology';

/** Dashboards as code for the Compose path's Grafana; checked by dashboards.spec.ts and the observability e2e. */
export const DASHBOARDS_DIR = path.join(REPO_ROOT, 'infra', 'grafana', 'dashboards');

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { query: { query: string } }[] };
}

export const dashboards = (): { file: string; dashboard: Dashboard }[] =>
  readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, dashboard: JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard }));

/** Every PromQL expression of a dashboard (panels and template variables). */
export function dashboardExprs(d: Dashboard): string[] {
  return [...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...d.templating.list.map((v) => v.query.query)];
}

/** Metric names an expression selects: an identifier directly followed by a label matcher or a range. */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)/g)]
    .map((m) => m[1]!)
    .filter((n) => !['by', 'without'].includes(n));
}
