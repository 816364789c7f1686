/**
 * Lab 2: add a compliance rule and see it decide. The learner writes rules.v2.yaml (a copy of v1 plus a velocity rule
 * of their own), restarts compliance on it and makes transfers until the rule decides one. The checker reads that
 * transfer's screening from compliance's database: made by the new rule set, decided by a rule v1 does not have, and
 * the transfer ended as that decision says.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Api, fail, type Finding, type Lab, pass } from './lab-kit';
import { withDatabase } from './target';

const V1 = path.join(__dirname, '..', '..', '..', 'services', 'compliance', 'rules', 'rules.v1.yaml');

/** Rule ids of the shipped rule set (a rule the learner adds must have another). */
function shippedVelocityIds(): string[] {
  const doc = parse(readFileSync(V1, 'utf8')) as { screening: { velocity: { id: string }[] } };
  return doc.screening.velocity.map((r) => r.id);
}

const STATUS_OF: Record<string, string> = { DECLINE: 'DECLINED', REVIEW: 'PENDING' };

export const lab2: Lab = {
  id: 2,
  title: 'Add a compliance rule and see it decide',
  doc: '02-add-a-compliance-rule.md',

  async check(target, args) {
    const id = args['transfer'];
    if (!id) return [fail('no --transfer given', 'pass the id of the transfer your rule decided: --transfer <id>')];
    const transfer = await withDatabase(target.databases.transactions, async (db) => {
      const { rows } = await db.query<{ status: string; screening_id: string | null }>(
        'SELECT status::text, screening_id FROM transfers WHERE id::text = $1',
        [id],
      );
      return rows[0];
    });
    if (!transfer)
      return [fail(`transfer ${id} does not exist`, 'copy the "id" of the POST /v1/transfers answer (a declined one has one too)')];
    const screening = await withDatabase(target.databases.compliance, async (db) => {
      const { rows } = await db.query<{ decision: string; rule_version: string; reasons: { ruleId?: string; code?: string }[] }>(
        'SELECT decision::text, rule_version, reasons FROM screenings WHERE id::text = $1',
        [transfer.screening_id ?? ''],
      );
      return rows[0];
    });
    if (!screening) return [fail(`transfer ${id} has no screening`, 'was it created through the gateway with the platform up?')];
    const findings: Finding[] = [pass(`transfer ${id} was screened (${screening.decision}, rules ${screening.rule_version})`)];
    findings.push(
      screening.rule_version !== 'v1'
        ? pass(`compliance decided with your rule set ${screening.rule_version}`)
        : fail(
            'compliance decided with the shipped rules v1',
            'restart compliance with COMPLIANCE_RULES_FILE pointing at your rules.v2.yaml (step 3)',
          ),
    );
    const shipped = shippedVelocityIds();
    const mine = screening.reasons.filter((r) => r.ruleId?.startsWith('velocity.') && !shipped.includes(r.ruleId));
    findings.push(
      mine.length > 0
        ? pass(`your rule ${mine.map((r) => r.ruleId).join(', ')} decided it`)
        : fail(
            `no rule of yours among the reasons (${screening.reasons.map((r) => r.ruleId ?? r.code).join(', ') || 'none'})`,
            'make more transfers from the same owner within the rule window, until one is refused or held (step 4)',
          ),
    );
    const expected = STATUS_OF[screening.decision];
    findings.push(
      expected === transfer.status
        ? pass(`the transfer is ${transfer.status}, as a ${screening.decision} decides`)
        : fail(`the transfer is ${transfer.status}, the decision ${screening.decision}`, 'pick a transfer your rule declined or held'),
    );
    return findings;
  },

  async solve(target, log) {
    // Step 1: rules.v2.yaml = v1 with its version bumped and a rule of our own.
    const file = path.join(target.rulesDir, 'rules.v2.yaml');
    const sanctions = path.join(target.rulesDir, 'sanctions.sample.csv');
    if (!existsSync(sanctions)) copyFileSync(path.join(path.dirname(V1), 'sanctions.sample.csv'), sanctions);
    const text = readFileSync(V1, 'utf8')
      .replace(/^version: v1$/m, 'version: v2')
      .replace(
        /^ {2}velocity:\n/m,
        '  velocity:\n    - id: velocity.workshop_burst\n      windowSeconds: 60\n      maxCount: 2\n      action: DECLINE\n',
      );
    writeFileSync(file, text);
    log(`wrote ${file}`);
    // Step 3: compliance on it.
    await target.restart('compliance', { COMPLIANCE_RULES_FILE: file });
    log('compliance restarted on rules v2');
    // Step 4: transfers from one owner until the rule refuses one.
    const api = new Api(target);
    const run = Date.now().toString(36);
    const source = await api.openAccount(`lab2-source-${run}`, '100000');
    const destination = await api.openAccount(`lab2-destination-${run}`);
    for (let i = 1; i <= 5; i++) {
      const res = await api.transfer(source, destination, '500');
      log(`transfer ${i}: HTTP ${res.status} ${res.body.status ?? res.body.code ?? ''}`);
      if (res.body.status === 'DECLINED' && res.body.id) return { transfer: res.body.id };
    }
    throw new Error('no transfer was declined by velocity.workshop_burst');
  },
};
