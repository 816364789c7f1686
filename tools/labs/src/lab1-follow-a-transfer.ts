/**
 * Lab 1: follow a transfer through its trace and its audit records. The learner makes a transfer, finds its trace in
 * Zipkin and its audit records through the API, and reports what they found; the checker compares each answer with
 * the truth in the transactions database and in Zipkin.
 */
import { Api, eventually, fail, type Finding, type Lab, pass } from './lab-kit';
import { type LabTarget, withDatabase } from './target';

interface ZipkinSpan {
  traceId: string;
  name?: string;
  localEndpoint?: { serviceName?: string };
}

/** The services a trace crosses, as Zipkin names them (lower case, "tessera-" dropped). */
async function traceServices(target: LabTarget, traceId: string): Promise<string[] | undefined> {
  const res = await fetch(`${target.zipkin}/api/v2/trace/${encodeURIComponent(traceId)}`);
  if (res.status !== 200) return undefined;
  const spans = (await res.json()) as ZipkinSpan[];
  const names = spans.map((s) => (s.localEndpoint?.serviceName ?? '').toLowerCase().replace(/^tessera-/, '')).filter(Boolean);
  return [...new Set(names)].sort();
}

const SYNCHRONOUS = ['compliance', 'gateway', 'transactions'];

const list = (raw: string | undefined) =>
  [
    ...new Set(
      (raw ?? '').split(',').map((s) =>
        s
          .trim()
          .toLowerCase()
          .replace(/^tessera-/, ''),
      ),
    ),
  ]
    .filter(Boolean)
    .sort();

export const lab1: Lab = {
  id: 1,
  title: 'Follow a transfer through its trace and audit records',
  doc: '01-follow-a-transfer.md',

  async check(target, args) {
    const findings: Finding[] = [];
    const id = args['transfer'];
    if (!id) return [fail('no --transfer given', 'pass the id the POST /v1/transfers answer gave you: --transfer <id>')];
    const transfer = await withDatabase(target.databases.transactions, async (db) => {
      const { rows } = await db.query<{ trace_id: string | null; status: string }>(
        'SELECT trace_id, status::text FROM transfers WHERE id::text = $1',
        [id],
      );
      return rows[0];
    });
    if (!transfer) return [fail(`transfer ${id} does not exist`, 'make one (step 2) and copy the "id" of the answer')];
    findings.push(pass(`transfer ${id} exists (${transfer.status})`));

    const trace = args['trace'];
    if (!trace || trace !== transfer.trace_id) {
      findings.push(
        fail(`--trace ${trace ?? '(none)'} is not the transfer's trace`, 'GET /v1/transfers/<id> shows it as "traceId" (step 3)'),
      );
    } else {
      findings.push(pass(`trace ${trace} is the one that created the transfer`));
      const services = await traceServices(target, trace);
      const said = list(args['services']);
      if (!services)
        findings.push(fail(`Zipkin has no trace ${trace}`, 'is Zipkin up (npm run up starts it) and did you wait a few seconds?'));
      else {
        // The request's path is gateway -> transactions -> compliance; the event's consumers join the trace later.
        const missing = SYNCHRONOUS.filter((s) => !said.includes(s));
        const foreign = said.filter((s) => !services.includes(s));
        findings.push(
          missing.length === 0 && foreign.length === 0
            ? pass(`the trace crosses ${said.join(', ')} (Zipkin: ${services.join(', ')})`)
            : fail(
                `--services ${said.join(',') || '(none)'}: ${missing.length ? `the request passed through ${missing.join(', ')} too` : `${foreign.join(', ')} has no span in this trace`}`,
                'open the trace in Zipkin (step 4) and list the services that have a span in it, comma-separated',
              ),
        );
      }
    }

    const seq = args['decision-seq'];
    const record = await withDatabase(target.databases.transactions, async (db) => {
      if (!seq || !/^\d+$/.test(seq)) return undefined;
      const { rows } = await db.query<{ action: string; entity_id: string; decision: string | null }>(
        `SELECT action, entity_id, payload->>'decision' AS decision FROM audit_records WHERE seq = $1`,
        [seq],
      );
      return rows[0];
    });
    if (!record || record.action !== 'compliance.decision' || record.entity_id !== id) {
      findings.push(
        fail(
          `--decision-seq ${seq ?? '(none)'} is not the compliance decision record of this transfer`,
          'GET /v1/audit/records?entityType=transfer&entityId=<id> as an auditor (step 5): the "seq" of the compliance.decision record',
        ),
      );
    } else {
      findings.push(pass(`audit record ${seq} is compliance's decision on the transfer`));
      const decision = args['decision']?.toUpperCase();
      findings.push(
        decision === record.decision
          ? pass(`the decision was ${record.decision}`)
          : fail(`--decision ${decision ?? '(none)'} is not what compliance decided`, 'read "decision" in the payload of that record'),
      );
    }
    return findings;
  },

  async solve(target, log) {
    const api = new Api(target);
    const run = Date.now().toString(36);
    const source = await api.openAccount(`lab1-source-${run}`, '100000');
    const destination = await api.openAccount(`lab1-destination-${run}`);
    const created = await api.transfer(source, destination, '1050');
    if (created.status !== 201 || !created.body.id) throw new Error(`transfer: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id;
    log(`transfer ${id}`);
    const { body } = await api.call<{ traceId: string }>('GET', `/v1/transfers/${id}`);
    const services = await eventually('the trace in Zipkin', async () => {
      const s = await traceServices(target, body.traceId);
      return s && s.includes('compliance') && s.includes('gateway') ? s : undefined;
    });
    log(`trace ${body.traceId}: ${services.join(', ')}`);
    const record = await eventually('the audit records', async () => {
      const res = await api.call<{ items: { seq: string; action: string; payload: { decision?: string } }[] }>(
        'GET',
        `/v1/audit/records?entityType=transfer&entityId=${id}`,
        undefined,
        ['auditor'],
      );
      return res.body.items?.find((r) => r.action === 'compliance.decision');
    });
    log(`audit record ${record.seq}: compliance.decision ${record.payload.decision ?? ''}`);
    return {
      transfer: id,
      trace: body.traceId,
      services: services.join(','),
      'decision-seq': String(record.seq),
      decision: record.payload.decision ?? '',
    };
  },
};
