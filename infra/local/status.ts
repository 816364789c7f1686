/** One row of `npm run infra -- status`. */
export interface ComponentStatus {
  name: string;
  pid?: number;
  port?: number;
  state: 'healthy' | 'unhealthy' | 'stopped';
  detail: string;
  /** Proportional set size of the process tree (shared pages split), for the memory budget. */
  pssKb?: number;
}

/** Renders rows as a fixed-width text table. */
export function formatStatusTable(rows: ComponentStatus[]): string {
  const header = ['COMPONENT', 'STATE', 'PID', 'PORT', 'MEM(PSS)', 'DETAIL'];
  const body = rows.map((r) => [
    r.name,
    r.state,
    r.pid === undefined ? '-' : String(r.pid),
    r.port === undefined ? '-' : String(r.port),
    r.pssKb === undefined ? '-' : `${Math.round(r.pssKb / 1024)} MB`,
    r.detail,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  return [header, ...body]
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}
