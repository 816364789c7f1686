/**
 * CRASH TEST (issue #3): the real transactions service as a child process, screened by a real in-test
 * ComplianceService, a stream of CreateTransfer calls over gRPC, `kill -9` mid-stream, restart, then every
 * call that was not acknowledged is retried with its idempotency key as a real client would. Then:
 * every acknowledged transfer exists exactly once; retries posted nothing twice; the ledger balances;
 * every committed transfer has exactly one outbox row and exactly one distinct event id on Kafka (the
 * relay's at-least-once duplicates share the id, so they are harmless); no event exists for anything
 * that did not commit; the audit chain written across the crash verifies.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { commonV1, paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { createKafka } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { logLevel } from 'kafkajs';
import { sendAs, staffAuthorization } from './support/auth-client';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { isAppError } from '@tessera/errors';
import { buildTransactions, killHard, PINGS_GROUP, startTransactions, stopAndCleanUp, until } from './support/service-process';
import { approvingCompliance, freePort } from '@tessera/testing';
import { throwawayDb, type ThrowawayDb } from './support/throwaway-db';

jest.setTimeout(120_000);

const TOPIC = 'payments.transfer.events.v1';
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const run = randomUUID().slice(0, 8);
const logger = createLogger('crash-test', { level: 'fatal' });
const ACK_BEFORE_KILL = 150;
const WORKERS = 8;
const FUNDING = 10n ** 12n;

let db: ThrowawayDb;
let auth: TestAuth;
let staff = '';
let compliance: Awaited<ReturnType<typeof approvingCompliance>>;
let child: ChildProcess | undefined;
let port: number;

const start = () => startTransactions({ port, databaseUrl: db.url, complianceAddr: `127.0.0.1:${compliance.port}`, auth });

beforeAll(async () => {
  buildTransactions();
  auth = await startTestAuth();
  staff = await staffAuthorization(auth);
  db = await throwawayDb('crash');
  compliance = await approvingCompliance();
  port = await freePort();
  const admin = createKafka({ clientId: `crash-admin-${run}`, brokers, logger, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(TOPIC)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 6, replicationFactor: 1 }] });
  }
  await admin.disconnect();
});

afterAll(async () => {
  await stopAndCleanUp(child);
  await compliance?.shutdown();
  await db?.drop();
  auth?.close();
});

interface Sent {
  request: paymentsV1.CreateTransferRequest;
  amount: bigint;
}

describe('transactions service under kill -9 during a stream of transfers', () => {
  it('loses no acknowledged transfer, duplicates none on retry, and publishes exactly the committed events', async () => {
    const startedAt = Date.now();
    const kafka = createKafka({ clientId: `crash-test-${run}`, brokers, logger, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const startOffsets = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();

    // The topic is shared with other suites; everything is recorded here and told apart afterwards by
    // message key (this run's account ids are fresh UUIDs).
    const deliveries: { id: string; key: string; type: string; subject: string }[] = [];
    const consumer = kafka.consumer({ groupId: `test.crash-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const envelope = commonV1.EventEnvelope.decode(message.value ?? Buffer.alloc(0));
        deliveries.push({ id: envelope.id, key: message.key?.toString() ?? '', type: envelope.type, subject: envelope.subject });
      },
    });
    for (const { partition, offset } of startOffsets) consumer.seek({ topic: TOPIC, partition, offset });

    child = await start();
    const address = `127.0.0.1:${port}`;
    const accountsClient = createGrpcClient(paymentsV1.AccountServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 10_000,
      ...sendAs(staff),
    });
    const open = async (overdraftLimitMinor: bigint) =>
      (
        await unaryCall(accountsClient, 'openAccount', {
          idempotencyKey: `open-${randomUUID()}`,
          ownerId: `crash-${run}`,
          name: 'crash',
          type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
          currency: 'EUR',
          overdraftLimitMinor,
          labels: {},
        })
      ).account!.id;
    const funder = await open(FUNDING);
    const source = await open(0n);
    const destinations = [await open(0n), await open(0n), await open(0n), await open(0n)];
    let transfers = createGrpcClient(paymentsV1.TransferServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 5_000,
      ...sendAs(staff),
    });
    await unaryCall(transfers, 'createTransfer', {
      idempotencyKey: `fund-${run}`,
      transfer: paymentsV1.TransferInstruction.fromPartial({
        sourceAccountId: funder,
        destinationAccountId: source,
        amount: { amountMinor: FUNDING, currency: 'EUR' },
        reference: `fund-${run}`,
      }),
    });

    // The stream: unique keys, the key doubles as the transfer's reference so SQL can group by it.
    const sent = new Map<string, Sent>();
    const acked = new Map<string, string>(); // key -> transfer id
    const unacked = new Set<string>(); // failed in flight: may or may not have committed
    const startedBeforeKill = new Set<string>();
    let killedAt = 0;
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const key = `xfer-${run}-${n++}`;
        const amount = BigInt(1 + Math.floor(Math.random() * 10_000));
        const request = paymentsV1.CreateTransferRequest.fromPartial({
          idempotencyKey: key,
          transfer: {
            sourceAccountId: source,
            destinationAccountId: destinations[n % destinations.length]!,
            amount: { amountMinor: amount, currency: 'EUR' },
            reference: key,
          },
        });
        sent.set(key, { request, amount });
        if (killedAt === 0) startedBeforeKill.add(key);
        try {
          const res = await unaryCall(transfers, 'createTransfer', request);
          acked.set(key, res.transfer!.id);
        } catch {
          unacked.add(key);
          if (stop) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, worker);
    await until(() => acked.size >= ACK_BEFORE_KILL, 30_000, `${ACK_BEFORE_KILL} acknowledged transfers`);
    // Aim the kill at the worst moment: a transfer committed whose response has not reached the client
    // yet (its retry must replay, not post again). Polled for up to 5 s; otherwise the kill lands anyway.
    const aimUntil = Date.now() + 5_000;
    let aimed = false;
    while (!aimed && Date.now() < aimUntil) {
      const { rows } = await db.client.query<{ reference: string }>(
        `SELECT reference FROM transfers WHERE reference LIKE $1 AND created_at > now() - interval '2 seconds'`,
        [`xfer-${run}-%`],
      );
      aimed = rows.some((r) => !acked.has(r.reference));
    }
    // The killed process's member of the pings group: the broker keeps it until its session times out.
    const groupAdmin = kafka.admin();
    await groupAdmin.connect();
    const membersOf = async () => (await groupAdmin.describeGroups([PINGS_GROUP])).groups[0]?.members.map((m) => m.memberId) ?? [];
    await until(async () => (await membersOf()).length > 0, 30_000, 'the pings consumer joined its group');
    const killedMembers = await membersOf();
    killedAt = Date.now();
    await killHard(child);
    const ackedAtKill = acked.size;
    await new Promise((r) => setTimeout(r, 300)); // let workers hit the dead port
    stop = true;
    await Promise.all(workers);
    transfers.close();
    const inFlight = [...unacked].filter((k) => startedBeforeKill.has(k)).length;
    const refusedWhileDown = unacked.size - inFlight;

    // Restart, then retry every unacknowledged call with the same key and the same request.
    child = await start();
    const restartMs = Date.now() - killedAt;
    // Ready without waiting for Kafka (issue #10, defect 4): the service answers while the broker still holds the
    // dead member (it used to wait ~25 s for that member's session to expire before serving anything).
    const stillThere = (await membersOf()).filter((m) => killedMembers.includes(m));
    const {
      groups: [group],
    } = await groupAdmin.describeGroups([PINGS_GROUP]);
    expect({ deadMemberStillListed: stillThere.length > 0 || group?.state === 'PreparingRebalance' }).toEqual({
      deadMemberStillListed: true,
    });
    await groupAdmin.disconnect();
    transfers = createGrpcClient(paymentsV1.TransferServiceClient, address, { retry: 'none', defaultDeadlineMs: 10_000, ...sendAs(staff) });
    const retried = new Map<string, string>();
    for (const key of unacked) {
      const res = await unaryCall(transfers, 'createTransfer', sent.get(key)!.request);
      retried.set(key, res.transfer!.id);
    }
    // Retrying an acknowledged key after the restart replays it, too.
    const [firstAcked] = acked;
    if (firstAcked)
      expect((await unaryCall(transfers, 'createTransfer', sent.get(firstAcked[0])!.request)).transfer!.id).toBe(firstAcked[1]);
    transfers.close();
    accountsClient.close();

    const unsent = async () =>
      Number((await db.client.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events WHERE sent_at IS NULL')).rows[0]?.n);
    await until(async () => (await unsent()) === 0, 30_000, 'outbox drained');

    // 1. every key (acknowledged or retried) is exactly one POSTED transfer, the one the client was told
    const { rows: committed } = await db.client.query<{ id: string; reference: string; status: string; amount_minor: string }>(
      `SELECT id, reference, status, amount_minor::text FROM transfers WHERE reference LIKE $1`,
      [`xfer-${run}-%`],
    );
    const byKey = new Map<string, string[]>();
    for (const t of committed) byKey.set(t.reference, [...(byKey.get(t.reference) ?? []), t.id]);
    for (const [key, id] of acked) expect([key, byKey.get(key)]).toEqual([key, [id]]);
    for (const [key, id] of retried) expect([key, byKey.get(key)]).toEqual([key, [id]]);
    expect(byKey.size).toBe(acked.size + retried.size);
    expect(committed.length).toBe(byKey.size);
    expect(new Set(committed.map((t) => t.status))).toEqual(new Set(['POSTED']));
    for (const t of committed) expect(BigInt(t.amount_minor)).toBe(sent.get(t.reference)!.amount);

    // 2. the ledger: postings sum to zero, cached balances equal their postings, the source paid exactly the sum
    const { rows: sum } = await db.client.query<{ s: string }>(
      `SELECT COALESCE(sum(CASE direction WHEN 'CREDIT' THEN amount_minor ELSE -amount_minor END), 0)::text AS s FROM postings`,
    );
    expect(sum[0]?.s).toBe('0');
    const { rows: drift } = await db.client
      .query(`SELECT a.id FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id, a.balance_minor
        HAVING a.balance_minor <> COALESCE(sum(CASE p.direction WHEN 'CREDIT' THEN p.amount_minor ELSE -p.amount_minor END), 0)`);
    expect(drift).toEqual([]);
    const paid = committed.reduce((acc, t) => acc + BigInt(t.amount_minor), 0n);
    const { rows: src } = await db.client.query<{ balance_minor: string }>('SELECT balance_minor::text FROM accounts WHERE id = $1', [
      source,
    ]);
    expect(BigInt(src[0]!.balance_minor)).toBe(FUNDING - paid);

    // 3. exactly one outbox row per committed transfer (decoded from the stored envelope), none for anything else
    const { rows: outbox } = await db.client.query<{ id: string; key: string; payload: Buffer }>(
      'SELECT id, key, payload FROM outbox_events',
    );
    const envelopes = outbox.map((o) => ({ row: o, envelope: commonV1.EventEnvelope.decode(o.payload) }));
    for (const { row, envelope } of envelopes) expect(envelope.id).toBe(row.id);
    const transferEvents = envelopes.filter((e) => e.envelope.type === 'tessera.payments.v1.TransferCreated');
    const streamIds = new Set(committed.map((t) => t.id));
    const streamEvents = transferEvents.filter((e) => streamIds.has(e.envelope.subject));
    expect(streamEvents.map((e) => e.envelope.subject).sort()).toEqual([...streamIds].sort());
    const { rows: allTransfers } = await db.client.query<{ id: string }>('SELECT id FROM transfers');
    expect(transferEvents.map((e) => e.envelope.subject).sort()).toEqual(allTransfers.map((t) => t.id).sort());
    for (const e of streamEvents) expect(e.row.key).toBe(source);

    // 4. Kafka: this run's distinct event ids are exactly the outbox rows; nothing for an uncommitted transfer
    const ours = new Set([funder, source, ...destinations]);
    const mine = () => deliveries.filter((d) => ours.has(d.key));
    await until(() => new Set(mine().map((d) => d.id)).size >= outbox.length, 30_000, 'every outbox event on Kafka');
    await new Promise((r) => setTimeout(r, 1000)); // anything extra would arrive now
    await consumer.disconnect();
    const delivered = mine();
    const distinct = new Set(delivered.map((d) => d.id));
    expect([...distinct].sort()).toEqual(outbox.map((o) => o.id).sort());
    const committedTransferIds = new Set(allTransfers.map((t) => t.id));
    for (const d of delivered.filter((x) => x.type === 'tessera.payments.v1.TransferCreated'))
      expect(committedTransferIds.has(d.subject)).toBe(true);

    // 5. the audit chain written across the crash verifies, over the service's own AuditService
    const auditClient = createGrpcClient(paymentsV1.AuditServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 10_000,
      ...sendAs(staff),
    });
    const verified = await unaryCall(auditClient, 'verifyAuditChain', {});
    auditClient.close();
    const { rows: auditCount } = await db.client.query<{ n: string }>('SELECT count(*) AS n FROM audit_records');
    expect(verified).toMatchObject({ valid: true, recordsChecked: BigInt(auditCount[0]!.n), firstInvalidSeq: 0n });
    const { rows: posted } = await db.client.query<{ n: string }>(
      `SELECT count(DISTINCT entity_id) AS n FROM audit_records WHERE action = 'transfer.posted' AND entity_id = ANY($1::text[])`,
      [[...streamIds]],
    );
    expect(Number(posted[0]!.n)).toBe(streamIds.size);

    // How many unacknowledged calls had in fact committed before the kill (their retry was a replay).
    const { rows: replays } = await db.client.query<{ n: string }>(
      'SELECT count(*) AS n FROM transfers WHERE id = ANY($1::uuid[]) AND created_at < $2',
      [[...retried.values()], new Date(killedAt)],
    );
    process.stdout.write(
      `crash test: ${ackedAtKill} acknowledged before kill -9 (${aimed ? 'aimed at a commit not yet acknowledged' : 'unaimed'}), ${unacked.size} unacknowledged calls (${inFlight} in flight at the kill, ${refusedWhileDown} refused while down) retried after restart, ${replays[0]!.n} of them had committed (replayed), ${restartMs} ms kill->healthy, ` +
        `${committed.length} stream transfers committed exactly once, ${distinct.size} distinct events on Kafka from ${delivered.length} deliveries ` +
        `(${delivered.length - distinct.size} duplicate), ${compliance.screened()} screenings, ${Date.now() - startedAt} ms\n`,
    );
  });
  it('three kill -9 under clients that retry the same key and body: every operation ends committed or definitely refused (issue #10)', async () => {
    // The scenario: 8 clients, each operation retried with the same key and body on UNAVAILABLE /
    // DEADLINE_EXCEEDED / INTERNAL every 250 ms, while the service is killed three times and restarted. Some
    // operations are meant to be refused (they overdraw an empty account). A retry must always end in the committed
    // transfer or a definite refusal, never in "gave up".
    const address = `127.0.0.1:${port}`;
    if (!child || child.exitCode !== null) child = await start();
    const accountsClient = createGrpcClient(paymentsV1.AccountServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 10_000,
      ...sendAs(staff),
    });
    const open = async (overdraftLimitMinor: bigint) =>
      (
        await unaryCall(accountsClient, 'openAccount', {
          idempotencyKey: `open-${randomUUID()}`,
          ownerId: `retry-${run}`,
          name: 'retry',
          type: paymentsV1.AccountType.ACCOUNT_TYPE_LIABILITY,
          currency: 'EUR',
          overdraftLimitMinor,
          labels: {},
        })
      ).account!.id;
    const funder = await open(FUNDING);
    const empty = await open(0n);
    const destination = await open(0n);
    accountsClient.close();
    const transfers = createGrpcClient(paymentsV1.TransferServiceClient, address, {
      retry: 'none',
      defaultDeadlineMs: 3_000,
      ...sendAs(staff),
    });
    const transient = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'INTERNAL']);
    const outcome = new Map<string, string>(); // key -> 'ok:<transfer id>' | 'refused:<code>' | 'gave up'
    let stop = false;
    let n = 0;
    const client = async (c: number) => {
      while (!stop) {
        const key = `retry-${run}-${c}-${n++}`;
        const refusable = n % 5 === 0; // overdraws the empty account: a definite refusal
        const request = paymentsV1.CreateTransferRequest.fromPartial({
          idempotencyKey: key,
          transfer: {
            sourceAccountId: refusable ? empty : funder,
            destinationAccountId: destination,
            amount: { amountMinor: 10n, currency: 'EUR' },
            reference: key,
          },
        });
        const giveUpAt = Date.now() + 30_000;
        for (;;) {
          try {
            outcome.set(key, `ok:${(await unaryCall(transfers, 'createTransfer', request)).transfer!.id}`);
            break;
          } catch (error) {
            const kind = isAppError(error) ? error.kind : 'UNAVAILABLE';
            if (!transient.has(kind)) {
              outcome.set(key, `refused:${isAppError(error) ? error.code : String(error)}`);
              break;
            }
            if (Date.now() > giveUpAt) {
              outcome.set(key, 'gave up');
              break;
            }
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 1_500));
      await killHard(child!);
      await new Promise((r) => setTimeout(r, 500));
      child = await start();
    }
    await new Promise((r) => setTimeout(r, 1_000));
    stop = true;
    await Promise.all(clients);
    transfers.close();

    const results = [...outcome.values()];
    expect(results.filter((r) => r === 'gave up')).toEqual([]);
    expect(new Set(results.filter((r) => r.startsWith('refused:')))).toEqual(new Set(['refused:PAYMENTS.INSUFFICIENT_FUNDS']));
    // Exactly one transfer per acknowledged key, the one the client was told; none for a refused key.
    const { rows } = await db.client.query<{ id: string; reference: string }>(
      'SELECT id, reference FROM transfers WHERE reference LIKE $1',
      [`retry-${run}-%`],
    );
    const byKey = new Map(rows.map((r) => [r.reference, r.id]));
    expect(rows.length).toBe(byKey.size);
    for (const [key, result] of outcome)
      expect([key, result.startsWith('ok:') ? byKey.get(key) : byKey.has(key)]).toEqual([
        key,
        result.startsWith('ok:') ? result.slice(3) : false,
      ]);
    expect(results.filter((r) => r.startsWith('ok:')).length).toBeGreaterThan(0);
    const { rows: sum } = await db.client.query<{ s: string }>(
      `SELECT COALESCE(sum(CASE direction WHEN 'CREDIT' THEN amount_minor ELSE -amount_minor END), 0)::text AS s FROM postings`,
    );
    expect(sum[0]?.s).toBe('0');
    process.stdout.write(
      `retry crash test: ${outcome.size} operations across 3 kills, ${results.filter((r) => r.startsWith('ok:')).length} committed, ${results.filter((r) => r.startsWith('refused:')).length} refused, 0 gave up\n`,
    );
  });
});
