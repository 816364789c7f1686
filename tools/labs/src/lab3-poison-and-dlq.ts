/**
 * Lab 3: break a consumer with a poison message and recover it from the DLQ. Two kinds of broken: a record nobody can
 * read (garbage on compliance's transfer-events topic: dead-lettered at once, the consumer goes on) and a bug that
 * makes every event fail (the `kafka-consume` fault toggle: retried, then dead-lettered). The learner finds both in
 * the DLQ, fixes the bug (switches the fault off) and replays only the bug's letters; the poison stays where it is.
 */
import { decodeEnvelope, readTopicSnapshot, replayDlq, summariseDeadLetter } from '@tessera/kafka';
import { faultsCommand } from '../../../infra/local/faults';
import { Api, eventually, fail, type Finding, type Lab, pass, sendRecord } from './lab-kit';
import { type LabTarget, withDatabase } from './target';

export const POISON_CODE = 'KAFKA.POISON_MESSAGE';
export const BUG_CODE = 'FAULTS.INJECTED';

/** `npm run lab -- poison`: a record that is not an event envelope, on the topic compliance's monitor reads. */
export async function sendPoison(target: LabTarget): Promise<string> {
  await sendRecord(target.kafka, target.transferEventsTopic, 'lab3', Buffer.from('this is not an event envelope'));
  return target.transferEventsTopic;
}

interface Letter {
  errorCode: string;
  reason: string;
  eventId: string | undefined;
}

/** The letters compliance's monitor wrote, with the event id of each one that still decodes. */
async function monitorLetters(target: LabTarget): Promise<Letter[]> {
  const out: Letter[] = [];
  await readTopicSnapshot(target.kafka, `${target.transferEventsTopic}.dlq`, 'tessera-admin.lab-', (m) => {
    const s = summariseDeadLetter(m.headers);
    if (s.consumerGroup !== target.monitorGroup) return;
    let eventId: string | undefined;
    try {
      eventId = decodeEnvelope(m.value).id;
    } catch {
      eventId = undefined;
    }
    out.push({ errorCode: s.errorCode, reason: s.reason, eventId });
  });
  return out;
}

async function processed(target: LabTarget, ids: string[]): Promise<Set<string>> {
  return withDatabase(target.databases.compliance, async (db) => {
    const { rows } = await db.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE event_id = ANY($1)', [ids]);
    return new Set(rows.map((r) => r.event_id));
  });
}

export const lab3: Lab = {
  id: 3,
  title: 'Break a consumer with a poison message and recover it from the DLQ',
  doc: '03-poison-and-dlq.md',

  async check(target) {
    const findings: Finding[] = [];
    const letters = await monitorLetters(target);
    const poison = letters.filter((l) => l.errorCode === POISON_CODE);
    findings.push(
      poison.length > 0
        ? pass(`your poison record was dead-lettered at once: ${poison[0]?.reason}`)
        : fail("no poison record in the DLQ from compliance's monitor", 'send one: npm run lab -- poison (step 1)'),
    );
    const bug = letters.filter((l) => l.errorCode === BUG_CODE);
    if (bug.length === 0) {
      findings.push(fail('no event was dead-lettered by the bug', 'switch the kafka-consume fault on and make a transfer (steps 2-3)'));
      return findings;
    }
    findings.push(pass(`the bug dead-lettered ${bug.length} event(s) after its retries`));
    const ids = bug.map((l) => l.eventId).filter((id): id is string => id !== undefined);
    const done = await processed(target, ids);
    const left = ids.filter((id) => !done.has(id));
    findings.push(
      left.length === 0
        ? pass(`every one of them has been handled since (replayed from the DLQ)`)
        : fail(
            `${left.length} of the bug's ${ids.length} letter(s) not handled yet`,
            `switch the fault off, then: npm run dlq -- replay ${target.transferEventsTopic}.dlq --error-code ${BUG_CODE} (steps 5-6)`,
          ),
    );
    const faults = (await faultsCommand(target.admin.compliance, target.adminToken, ['list'])) as { faults?: Record<string, unknown> };
    findings.push(
      faults.faults?.['kafka-consume'] === undefined
        ? pass('the bug is fixed (the kafka-consume fault is off)')
        : fail('the kafka-consume fault is still on', 'npm run infra -- faults compliance off kafka-consume (step 5)'),
    );
    return findings;
  },

  async solve(target, log) {
    log(`poison record sent to ${await sendPoison(target)}`);
    await faultsCommand(target.admin.compliance, target.adminToken, [
      'kafka-consume',
      'match=transfer.events',
      'errorRate=1',
      'durationSec=300',
    ]);
    log('compliance kafka-consume match=transfer.events errorRate=1: the bug is live');
    const api = new Api(target);
    const run = Date.now().toString(36);
    const source = await api.openAccount(`lab3-source-${run}`, '100000');
    const destination = await api.openAccount(`lab3-destination-${run}`);
    for (let i = 0; i < 2; i++) log(`transfer: HTTP ${(await api.transfer(source, destination, '700')).status}`);
    await eventually(
      'the poison and the bug in the DLQ',
      async () => {
        const letters = await monitorLetters(target);
        const n = letters.filter((l) => l.errorCode === BUG_CODE).length;
        return letters.some((l) => l.errorCode === POISON_CODE) && n >= 2 ? n : undefined;
      },
      90_000,
    );
    await faultsCommand(target.admin.compliance, target.adminToken, ['off', 'kafka-consume']);
    log('kafka-consume off: the bug is fixed');
    const replay = await replayDlq({
      kafka: target.kafka,
      dlqTopic: `${target.transferEventsTopic}.dlq`,
      errorCode: BUG_CODE,
      groupPrefix: 'tessera-admin.lab-',
    });
    log(`replayed ${replay.replayed}, left ${replay.skipped}`);
    await eventually(
      'the replayed events handled',
      async () => {
        const ids = (await monitorLetters(target)).filter((l) => l.errorCode === BUG_CODE).flatMap((l) => (l.eventId ? [l.eventId] : []));
        return (await processed(target, ids)).size === new Set(ids).size ? true : undefined;
      },
      60_000,
    );
    return {};
  },
};
