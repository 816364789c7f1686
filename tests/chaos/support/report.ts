/**
 * Chaos scenario results: each scenario writes `.tessera/reports/chaos/<scenario>.json`; `npm run chaos` renders every
 * result into one markdown report (tests/chaos/report.ts).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Invariant } from './invariants';

export const CHAOS_REPORT_DIR = join(__dirname, '..', '..', '..', '.tessera', 'reports', 'chaos');

export interface ScenarioResult {
  scenario: string;
  at: string;
  load: string;
  faults: string[];
  operations: { total: number; acknowledged: number; refused: number; lost: number; duplicated: number; notCompleted: number };
  /** HTTP answers over every attempt, e.g. { "201": 700, "503": 40 }. */
  answers: Record<string, number>;
  observations: string[];
  invariants: Invariant[];
}

export function writeScenarioResult(result: ScenarioResult): void {
  mkdirSync(CHAOS_REPORT_DIR, { recursive: true });
  writeFileSync(join(CHAOS_REPORT_DIR, `${result.scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

export function readScenarioResults(dir = CHAOS_REPORT_DIR): ScenarioResult[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScenarioResult);
}

export function renderReport(results: ScenarioResult[], header: string[] = []): string {
  const lines = ['# Chaos report', '', ...header, ''];
  lines.push(
    '| scenario | load held | faults injected | acknowledged | refused | lost | duplicated | not completed | invariants |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of results) {
    const failed = r.invariants.filter((i) => !i.ok).length;
    const o = r.operations;
    lines.push(
      `| ${r.scenario} | ${r.load} | ${r.faults.join('; ')} | ${o.acknowledged} | ${o.refused} | ${o.lost} | ${o.duplicated} | ${o.notCompleted} | ${failed === 0 ? `all ${r.invariants.length} hold` : `**${failed} FAILED**`} |`,
    );
  }
  for (const r of results) {
    const answers = Object.entries(r.answers).map(([k, v]) => `${k}: ${v}`);
    lines.push(
      '',
      `## ${r.scenario} (${r.at})`,
      '',
      answers.length > 0 ? `Answers over all attempts: ${answers.join(', ')}.` : 'No HTTP load (records written to Kafka directly).',
      '',
    );
    for (const o of r.observations) lines.push(`- ${o}`);
    lines.push('', '| invariant | result | detail |', '| --- | --- | --- |');
    for (const i of r.invariants) lines.push(`| ${i.name} | ${i.ok ? 'holds' : '**FAILED**'} | ${i.detail} |`);
  }
  return `${lines.join('\n')}\n`;
}
