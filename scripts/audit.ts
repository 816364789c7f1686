/**
 * Dependency audit (issue #5 "npm audit with no high/critical in production deps, documented exceptions only").
 * Runs `npm audit --omit=dev --json`, keeps advisories of severity high or critical, and fails unless each one
 * has a documented, unexpired exception in audit-exceptions.json. When the registry does not serve the audit
 * endpoint (some mirrors answer 405), the result is SKIPPED, never passed: nothing was checked.
 *
 * `npx tsx scripts/audit.ts [--report <out.json>] [--from <npm-audit.json>] [--exceptions <file>] [--now <iso>]`;
 * exit 0 passed, 1 failed, 3 skipped. scripts/audit.sh wraps it. `--from`/`--now` replay a saved report, so
 * tests/contract/audit.spec.ts checks the gate's rules through this CLI without a registry.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Severity = 'info' | 'low' | 'moderate' | 'high' | 'critical';
const BLOCKING: ReadonlySet<Severity> = new Set(['high', 'critical']);

/** One entry of audit-exceptions.json: why a known advisory is accepted, and until when. */
export interface AuditException {
  /** GHSA id, e.g. GHSA-xxxx-xxxx-xxxx (the last path segment of the advisory URL). */
  id: string;
  package: string;
  /** Why it does not apply or cannot be fixed yet; reviewed in code review like any other change. */
  reason: string;
  /** ISO date; an expired exception blocks again, so exceptions cannot be forgotten. */
  reviewBy: string;
}

/** The advisory shape of npm audit's JSON report v2 (`vulnerabilities[*].via[*]` when it is an object). */
interface AuditVia {
  source?: number;
  name: string;
  title?: string;
  url?: string;
  severity: Severity;
  range?: string;
}
interface AuditReport {
  auditReportVersion?: number;
  vulnerabilities?: Record<string, { name: string; severity: Severity; via: Array<AuditVia | string> }>;
  message?: string;
  statusCode?: number;
  error?: { code?: string | null; summary?: string; detail?: string };
}

export interface Advisory {
  id: string;
  package: string;
  severity: Severity;
  title: string;
  url: string;
}

export type AuditOutcome =
  | { status: 'passed'; excepted: Advisory[]; expiredExceptions: AuditException[] }
  | { status: 'failed'; blocking: Advisory[]; excepted: Advisory[]; expiredExceptions: AuditException[] }
  | { status: 'skipped'; reason: string };

/** Parses audit-exceptions.json, rejecting entries without a reason or a valid review date. */
export function parseExceptions(json: string): AuditException[] {
  const doc = JSON.parse(json) as { exceptions?: unknown };
  if (!Array.isArray(doc.exceptions)) throw new Error('audit-exceptions.json: "exceptions" must be an array');
  return doc.exceptions.map((e: Partial<AuditException>, i) => {
    if (!e.id || !e.package || !e.reason?.trim() || !e.reviewBy || Number.isNaN(Date.parse(e.reviewBy))) {
      throw new Error(`audit-exceptions.json: exceptions[${i}] needs id, package, a non-empty reason and an ISO reviewBy date`);
    }
    return e as AuditException;
  });
}

/** Advisory id from its URL (https://github.com/advisories/GHSA-...), else the npm source number. */
function advisoryId(via: AuditVia): string {
  const fromUrl = via.url?.split('/').pop();
  return fromUrl && fromUrl.startsWith('GHSA-') ? fromUrl : String(via.source ?? via.url ?? via.title);
}

/**
 * Decides the outcome of one `npm audit --json` run. Pure, so the rules (what blocks, what an exception
 * covers, what counts as "endpoint unavailable") are unit-tested without a registry.
 */
export function evaluateAudit(report: AuditReport, exceptions: readonly AuditException[], now: Date): AuditOutcome {
  if (!report.vulnerabilities) {
    const why = report.message ?? report.error?.summary ?? 'npm audit returned no vulnerability report';
    return { status: 'skipped', reason: `audit endpoint unavailable: ${why}` };
  }
  const advisories = new Map<string, Advisory>();
  for (const vuln of Object.values(report.vulnerabilities)) {
    for (const via of vuln.via) {
      // A string entry names another vulnerable package; its own advisories are listed under that package.
      if (typeof via === 'string' || !BLOCKING.has(via.severity)) continue;
      const id = advisoryId(via);
      advisories.set(`${id}@${via.name}`, { id, package: via.name, severity: via.severity, title: via.title ?? '', url: via.url ?? '' });
    }
  }
  const live = exceptions.filter((e) => Date.parse(e.reviewBy) >= now.getTime());
  const expiredExceptions = exceptions.filter((e) => !live.includes(e));
  const covered = (a: Advisory) => live.some((e) => e.id === a.id && e.package === a.package);
  const all = [...advisories.values()];
  const blocking = all.filter((a) => !covered(a));
  const excepted = all.filter(covered);
  return blocking.length ? { status: 'failed', blocking, excepted, expiredExceptions } : { status: 'passed', excepted, expiredExceptions };
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Runs `npm audit --omit=dev --json`; output that is not JSON becomes an "unavailable" report. */
function runNpmAudit(root: string): AuditReport {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  try {
    return JSON.parse(run.stdout) as AuditReport;
  } catch {
    return { message: `npm audit printed no JSON (exit ${run.status}): ${run.stderr.trim().split('\n').pop() ?? ''}` };
  }
}

function main(): number {
  const root = join(__dirname, '..');
  const reportFile = option('--report');
  const from = option('--from');
  const exceptions = parseExceptions(readFileSync(option('--exceptions') ?? join(root, 'audit-exceptions.json'), 'utf8'));
  const report = from ? (JSON.parse(readFileSync(from, 'utf8')) as AuditReport) : runNpmAudit(root);
  const outcome = evaluateAudit(report, exceptions, new Date(option('--now') ?? Date.now()));
  if (reportFile) {
    mkdirSync(dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, JSON.stringify(outcome, null, 2));
  }
  const line = (a: Advisory) => `  ${a.severity.toUpperCase()} ${a.package} ${a.id} ${a.title} ${a.url}`;
  if (outcome.status === 'skipped') {
    const bar = '!'.repeat(100);
    console.warn(
      `${bar}\n!! npm audit SKIPPED: ${outcome.reason}\n!! Production dependencies were NOT checked for known vulnerabilities. Run \`npm run audit\`\n!! against a registry that serves /-/npm/v1/security/advisories/bulk (e.g. registry.npmjs.org).\n${bar}`,
    );
    return 3;
  }
  for (const e of outcome.expiredExceptions) console.warn(`audit: exception ${e.id} (${e.package}) expired on ${e.reviewBy}: review it`);
  if (outcome.excepted.length)
    console.log(
      `audit: ${outcome.excepted.length} advisories accepted by audit-exceptions.json:\n${outcome.excepted.map(line).join('\n')}`,
    );
  if (outcome.status === 'failed') {
    console.error(`audit: FAILED, high/critical advisories in production dependencies:\n${outcome.blocking.map(line).join('\n')}`);
    console.error(
      'Fix: upgrade (npm audit fix --omit=dev), or document an exception with a reason and reviewBy date in audit-exceptions.json.',
    );
    return 1;
  }
  console.log('audit: no unexcepted high/critical advisories in production dependencies');
  return 0;
}

if (require.main === module) process.exitCode = main();
