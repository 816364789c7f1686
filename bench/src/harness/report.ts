import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine';
import type { CaseResources } from './resources';
import type { BenchResult } from './types';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart as a standalone SVG (no chart library: one bar per system, value at the bar's end). */
export function barChartSvg(chart: BenchResult['chart']): string {
  const labelW = 300;
  const barW = 420;
  const rowH = 26;
  const top = 40;
  const width = labelW + barW + 110;
  const height = top + chart.bars.length * rowH + 30;
  const max = Math.max(...chart.bars.map((b) => b.value), 1);
  const rows = chart.bars.map((b, i) => {
    const y = top + i * rowH;
    const w = Math.max(1, Math.round((b.value / max) * barW));
    const fill = b.baseline ? '#9aa5b1' : '#2f6fde';
    const value = b.value >= 100 ? Math.round(b.value).toLocaleString('en-US') : String(b.value);
    return [
      `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${fill}"/>`,
      `<text x="${labelW + w + 6}" y="${y + 16}">${esc(value)} ${esc(chart.unit)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${esc(chart.title)}</text>`,
    ...rows,
    `<text x="12" y="${height - 8}" font-size="11" fill="#555">blue: Tessera, grey: baseline (same run, same machine)</text>`,
    '</svg>',
  ].join('\n');
}

export function markdownTable(table: BenchResult['table']): string {
  const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
  return [
    `| ${table.columns.join(' | ')} |`,
    `| ${table.columns.map(() => '---').join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** One table of CPU seconds and peak PSS per component for every measured case. */
export function resourcesTable(cases: CaseResources[]): BenchResult['table'] {
  const names = [...new Set(cases.flatMap((c) => Object.keys(c.cpuSeconds)))];
  return {
    columns: ['case', 'wall s', 'bench (load gen) CPU s', ...names.map((n) => `${n} CPU s / peak PSS MB`)],
    rows: cases.map((c) => [
      c.label,
      c.wallSeconds,
      c.benchCpuSeconds,
      ...names.map((n) => (c.cpuSeconds[n] === undefined ? '-' : `${c.cpuSeconds[n]} / ${c.peakPssMb[n]}`)),
    ]),
  };
}

export interface RunReport {
  machine: MachineInfo;
  smoke: boolean;
  command: string;
  results: BenchResult[];
  failures: { id: string; error: string }[];
  seconds: number;
}

function resultMarkdown(r: BenchResult): string {
  return [
    `## ${r.title}`,
    '',
    r.method,
    '',
    markdownTable(r.table),
    '',
    Object.keys(r.ratios).length > 0
      ? `Ratios: ${Object.entries(r.ratios)
          .map(([k, v]) => `**${k}** = ${v}`)
          .join('; ')}`
      : '',
    '',
    `![${r.title}](${r.id}.svg)`,
    '',
    ...(r.notes.length > 0 ? ['### Notes', '', ...r.notes, ''] : []),
    '<details><summary>Commands</summary>',
    '',
    ...r.commands.map((c) => `    ${c}`),
    '',
    '</details>',
    '',
  ].join('\n');
}

/** Writes README.md (tables), results.json (everything), one SVG per benchmark and machine.json. */
export function writeReport(dir: string, report: RunReport): string {
  mkdirSync(dir, { recursive: true });
  const m = report.machine;
  const md = [
    `# Tessera bench ${m.date.slice(0, 10)} (${m.gitSha}${m.gitDirty ? ', uncommitted changes' : ''})${report.smoke ? ' — SMOKE (tiny durations, numbers meaningless)' : ''}`,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}. ` +
      `Versions: ${Object.entries(m.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    '',
    `Command: \`${report.command}\` (${Math.round(report.seconds)} s). Every baseline ran in the same run, on the same machine and infrastructure (bench/README.md).`,
    '',
    ...report.failures.map((f) => `**${f.id} FAILED**: ${f.error}\n`),
    ...report.results.map(resultMarkdown),
  ].join('\n');
  writeFileSync(join(dir, 'README.md'), md);
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'machine.json'), `${JSON.stringify(m, null, 2)}\n`);
  for (const r of report.results) writeFileSync(join(dir, `${r.id}.svg`), barChartSvg(r.chart));
  return md;
}
