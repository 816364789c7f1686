/**
 * Screen and the review queue over a real gRPC socket against a throwaway Postgres; transactions is a
 * stand-in TransferService server (createGrpcServer) that records the release/decline calls it receives.
 * Callers present real tokens from a throwaway dev issuer. The connection is plaintext (explicit dev mode), so
 * Screen's service-only policy has no peer to check here; the mTLS peer cases are unit-tested on authorizeCall.
 */
import { randomUUID } from 'node:crypto';
import { complianceV1, paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createGrpcClient, createGrpcServer, type GrpcServerHandle, unaryCall, unaryService } from '@tessera/grpc';
import { type Harness, startCompliance } from './support/harness';
import { rejection, screenRequest } from './support/screening';
import { startTestAuth, type TestAuth } from '@tessera/auth';

jest.setTimeout(60_000);
process.env['LOG_LEVEL'] ??= 'warn';

const released: paymentsV1.ReleaseTransferRequest[] = [];
/** ApproveRelease calls the stand-in transactions got, with the credential compliance forwarded (the officer's own). */
const approvals: Array<{ transferId: string; authorization: string | undefined }> = [];
/** The `sub` of a forwarded `Bearer <jwt>` (decoded, not verified: the real transactions verifies it). */
const subjectOf = (authorization: string | undefined) =>
  JSON.parse(Buffer.from(authorization?.split('.')[1] ?? '', 'base64url').toString() || '{}').sub as string | undefined;
const declined: paymentsV1.DeclineHeldTransferRequest[] = [];
let failNextRelease = false;
let transactions: GrpcServerHandle;
let h: Harness;
let client: complianceV1.ComplianceServiceClient;
let auth: TestAuth;

/** A compliance officer's call options (real token). */
const as = (officer: string) => auth.bearer(officer, ['compliance-officer']);

beforeAll(async () => {
  const notUsed = async (): Promise<never> => {
    throw new Error('not used by compliance');
  };
  transactions = await createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    services: [
      {
        definition: paymentsV1.TransferServiceService,
        implementation: unaryService(paymentsV1.TransferServiceService, {
          createTransfer: notUsed,
          createTransferBatch: notUsed,
          getTransfer: notUsed,
          listTransfers: notUsed,
          authorizeHold: notUsed,
          captureHold: notUsed,
          voidHold: notUsed,
          reverseTransfer: notUsed,
          approveRelease: async (req, ctx) => {
            approvals.push({ transferId: req.transferId, authorization: ctx.authorization });
            return { approvedBy: [] };
          },
          releaseTransfer: async (req) => {
            if (failNextRelease) {
              failNextRelease = false;
              throw new AppError({ code: 'PAYMENTS.TEST_DOWN', kind: 'INTERNAL', message: 'stand-in failure' });
            }
            released.push(req);
            return {
              transfer: paymentsV1.Transfer.fromPartial({ id: req.transferId, status: paymentsV1.TransferStatus.TRANSFER_STATUS_POSTED }),
            };
          },
          declineHeldTransfer: async (req) => {
            declined.push(req);
            return {
              transfer: paymentsV1.Transfer.fromPartial({ id: req.transferId, status: paymentsV1.TransferStatus.TRANSFER_STATUS_DECLINED }),
            };
          },
        }),
      },
    ],
  });
  auth = await startTestAuth();
  h = await startCompliance({
    ...auth.env,
    TRANSACTIONS_ADDR: `127.0.0.1:${transactions.port}`,
    COMPLIANCE_MONITOR_ENABLED: 'false',
    KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092',
  });
  client = createGrpcClient(complianceV1.ComplianceServiceClient, h.addr, { retry: 'none', defaultDeadlineMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await h?.close();
  await transactions?.shutdown();
  auth?.close();
});

describe('ComplianceService.Screen', () => {
  it('approves a clean movement and logs the decision with rule version and the forwarded customer as actor', async () => {
    const req = screenRequest();
    const res = await unaryCall(client, 'screen', req, await auth.bearer('user-42', ['customer']));
    expect(res).toMatchObject({ decision: complianceV1.Decision.DECISION_APPROVE, reasons: [], ruleVersion: 'v1', riskScore: 0 });
    const { rows } = await h.db.query('SELECT decision, rule_version, actor, reference_id FROM screenings WHERE id = $1', [
      res.screeningId,
    ]);
    expect(rows).toEqual([{ decision: 'APPROVE', rule_version: 'v1', actor: 'user-42', reference_id: req.subject?.referenceId }]);
  });

  it('records the calling service as actor when no end user is behind the movement', async () => {
    const res = await unaryCall(client, 'screen', screenRequest());
    const { rows } = await h.db.query('SELECT actor FROM screenings WHERE id = $1', [res.screeningId]);
    expect(rows).toEqual([{ actor: 'service:plaintext-peer' }]);
  });

  it('still verifies a forwarded credential: a forged token is UNAUTHENTICATED', async () => {
    const forged = await auth.bearer('user-42', ['customer']);
    const token = String(forged.metadata.get('authorization')[0]);
    forged.metadata.set('authorization', `${token.slice(0, -4)}AAAA`);
    expect((await rejection(unaryCall(client, 'screen', screenRequest(), forged))).kind).toBe('UNAUTHENTICATED');
  });

  it('declines a sanctioned counterparty written in another script and word order, without storing the name', async () => {
    const res = await unaryCall(client, 'screen', screenRequest({ counterpartyName: 'Волконов Александр' }));
    expect(res.decision).toBe(complianceV1.Decision.DECISION_DECLINE);
    expect(res.reasons).toEqual([expect.objectContaining({ code: 'COMPLIANCE.SANCTIONS_MATCH', ruleId: 'sanctions.name_match' })]);
    const { rows } = await h.db.query(
      "SELECT count(*)::int AS n FROM screenings WHERE reasons::text ILIKE '%volkonov%' OR reasons::text LIKE '%Волконов%'",
    );
    expect(rows[0].n).toBe(0);
  });

  it('declines a blocked country and an unsupported currency, with every reason', async () => {
    const res = await unaryCall(
      client,
      'screen',
      screenRequest({ counterpartyCountry: 'KP', amount: { amountMinor: 5n, currency: 'XAU' } }),
    );
    expect(res.decision).toBe(complianceV1.Decision.DECISION_DECLINE);
    expect(res.reasons.map((r) => r.code).sort()).toEqual(['COMPLIANCE.COUNTRY_BLOCKED', 'COMPLIANCE.CURRENCY_NOT_SUPPORTED']);
  });

  it('replays the first decision for a retried key and refuses the key for a different request', async () => {
    const req = screenRequest();
    const first = await unaryCall(client, 'screen', req);
    expect(await unaryCall(client, 'screen', req)).toEqual(first);
    const reused = await rejection(
      unaryCall(client, 'screen', screenRequest({ ...req.subject, amount: { amountMinor: 11n, currency: 'EUR' } }, req.idempotencyKey)),
    );
    expect(reused).toMatchObject({ code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED', kind: 'FAILED_PRECONDITION' });
  });

  it('rejects bad input with field violations and writes nothing', async () => {
    const err = await rejection(
      unaryCall(client, 'screen', screenRequest({ amount: { amountMinor: -1n, currency: 'eur' }, ownerId: '' }, 'short')),
    );
    expect(err.kind).toBe('INVALID_ARGUMENT');
    expect(err.fieldViolations?.map((v) => v.field).sort()).toEqual([
      'idempotency_key',
      'subject.amount.amount_minor',
      'subject.amount.currency',
      'subject.owner_id',
    ]);
  });

  it('counts velocity per owner: the 11th movement within a minute goes to review', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const decisions = [];
    for (let i = 0; i < 11; i++) decisions.push((await unaryCall(client, 'screen', screenRequest({ ownerId }))).decision);
    expect(decisions.slice(0, 10).every((d) => d === complianceV1.Decision.DECISION_APPROVE)).toBe(true);
    expect(decisions[10]).toBe(complianceV1.Decision.DECISION_REVIEW);
  });

  it('enforces the daily limit under concurrent screenings of one owner', async () => {
    const ownerId = `owner-${randomUUID()}`;
    // dailyMax EUR 10,000,000; 4 x 3,000,000 concurrently: at most 3 may pass (each also exceeds the review threshold).
    const results = await Promise.all(
      [0, 1, 2, 3].map(() => unaryCall(client, 'screen', screenRequest({ ownerId, amount: { amountMinor: 3_000_000n, currency: 'EUR' } }))),
    );
    const declinedDaily = results.filter((r) => r.reasons.some((x) => x.code === 'COMPLIANCE.DAILY_LIMIT_EXCEEDED'));
    expect(declinedDaily).toHaveLength(1);
  });
});

describe('review queue', () => {
  async function heldAlert(): Promise<{ alertId: string; transferId: string }> {
    const transferId = randomUUID();
    const res = await unaryCall(client, 'screen', screenRequest({ referenceId: transferId, counterpartyCountry: 'AF' }));
    expect(res.decision).toBe(complianceV1.Decision.DECISION_REVIEW);
    const { alerts } = await unaryCall(
      client,
      'listAlerts',
      { page: { pageSize: 100, pageToken: '' }, status: 0, accountId: '', assignee: '' },
      await as('lead'),
    );
    const alert = alerts.find((a) => a.heldTransferId === transferId);
    expect(alert).toMatchObject({ status: complianceV1.AlertStatus.ALERT_STATUS_OPEN, ruleId: 'countries.high_risk', ruleVersion: 'v1' });
    return { alertId: alert!.id, transferId };
  }
  const resolve = async (alertId: string, resolution: complianceV1.AlertResolution, officer: string, key = `res-${randomUUID()}`) =>
    unaryCall(client, 'resolveAlert', { idempotencyKey: key, alertId, resolution, note: 'checked documents' }, await as(officer));

  it('lets only compliance officers decide: an operator or a customer is PERMISSION_DENIED, no token UNAUTHENTICATED', async () => {
    const { alertId } = await heldAlert();
    const req = {
      idempotencyKey: `res-${randomUUID()}`,
      alertId,
      resolution: complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE,
      note: 'x',
    };
    const operator = await rejection(unaryCall(client, 'resolveAlert', req, await auth.bearer('op-1', ['operator'])));
    expect(operator).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SCOPE_REQUIRED' });
    const customer = await rejection(
      unaryCall(
        client,
        'listAlerts',
        { page: { pageSize: 1, pageToken: '' }, status: 0, accountId: '', assignee: '' },
        await auth.bearer('c-1', ['customer']),
      ),
    );
    expect(customer).toMatchObject({ kind: 'PERMISSION_DENIED', code: 'AUTH.SCOPE_REQUIRED' });
    expect(await rejection(unaryCall(client, 'resolveAlert', req))).toMatchObject({
      kind: 'UNAUTHENTICATED',
      code: 'AUTH.CREDENTIALS_REQUIRED',
    });
    const { rows } = await h.db.query("SELECT count(*)::int AS n FROM alert_actions WHERE alert_id = $1 AND action <> 'raised'", [alertId]);
    expect(rows[0].n).toBe(0);
  });

  it('four-eyes compares verified subjects: two tokens of the same officer are one reviewer', async () => {
    const { alertId } = await heldAlert();
    await resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'erin');
    // A fresh token (new jti) for the same subject is still the same person.
    const again = await rejection(resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'erin'));
    expect(again).toMatchObject({ code: 'COMPLIANCE.FOUR_EYES_REQUIRED', kind: 'FAILED_PRECONDITION' });
  });

  it('releases a held transfer only after two distinct reviewers, once', async () => {
    const { alertId, transferId } = await heldAlert();
    const first = await resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'alice');
    expect(first.alert).toMatchObject({
      status: complianceV1.AlertStatus.ALERT_STATUS_AWAITING_SECOND_APPROVAL,
      releaseApprovals: ['alice'],
    });
    const again = await rejection(resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'alice'));
    expect(again).toMatchObject({ code: 'COMPLIANCE.FOUR_EYES_REQUIRED', kind: 'FAILED_PRECONDITION' });
    expect(released.filter((r) => r.transferId === transferId)).toHaveLength(0);

    const second = await resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'bob');
    expect(second.alert).toMatchObject({
      status: complianceV1.AlertStatus.ALERT_STATUS_RESOLVED,
      resolution: complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE,
      releaseApprovals: ['alice', 'bob'],
    });
    expect(released.filter((r) => r.transferId === transferId)).toEqual([
      expect.objectContaining({ idempotencyKey: `compliance-release-${alertId}`, approvedBy: ['alice', 'bob'], alertId }),
    ]);
    // Each approval went to transactions with that officer's own token (issue #13: transactions counts only these).
    const forwarded = approvals.filter((a) => a.transferId === transferId).map((a) => subjectOf(a.authorization));
    expect(forwarded).toEqual(['alice', 'alice', 'bob']);
    const { rows } = await h.db.query('SELECT actor, action FROM alert_actions WHERE alert_id = $1 ORDER BY id', [alertId]);
    expect(rows).toEqual([
      { actor: 'service:plaintext-peer', action: 'raised' },
      { actor: 'alice', action: 'release_approved' },
      { actor: 'bob', action: 'release_approved' },
      { actor: 'bob', action: 'released' },
    ]);
  });

  it('re-drives the release with the same key when transactions failed the first time', async () => {
    const { alertId } = await heldAlert();
    await resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'alice');
    failNextRelease = true;
    const key = `res-${randomUUID()}`;
    const failed = await rejection(resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'bob', key));
    expect(failed).toMatchObject({ code: 'COMPLIANCE.HELD_TRANSFER_CALL_FAILED', kind: 'UNAVAILABLE' });
    const retried = await resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_RELEASE, 'bob', key);
    expect(retried.alert?.status).toBe(complianceV1.AlertStatus.ALERT_STATUS_RESOLVED);
    expect(released.filter((r) => r.alertId === alertId)).toHaveLength(1);
  });

  it('declines a held transfer with one reviewer and refuses other resolutions for it', async () => {
    const { alertId, transferId } = await heldAlert();
    const wrong = await rejection(resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_FALSE_POSITIVE, 'carol'));
    expect(wrong.code).toBe('COMPLIANCE.HELD_TRANSFER_NEEDS_DECISION');
    const res = await resolve(alertId, complianceV1.AlertResolution.ALERT_RESOLUTION_DECLINE, 'carol');
    expect(res.alert).toMatchObject({
      status: complianceV1.AlertStatus.ALERT_STATUS_RESOLVED,
      resolution: complianceV1.AlertResolution.ALERT_RESOLUTION_DECLINE,
    });
    expect(declined).toContainEqual(
      expect.objectContaining({ transferId, declinedBy: 'carol', idempotencyKey: `compliance-decline-${alertId}` }),
    );
  });

  it('assigns, needs a credential, and pages newest first with a cursor', async () => {
    const { alertId } = await heldAlert();
    expect(
      (await rejection(unaryCall(client, 'assignAlert', { idempotencyKey: `asg-${randomUUID()}`, alertId, assignee: 'dave' }))).code,
    ).toBe('AUTH.CREDENTIALS_REQUIRED');
    const assigned = await unaryCall(
      client,
      'assignAlert',
      { idempotencyKey: `asg-${randomUUID()}`, alertId, assignee: 'dave' },
      await as('lead'),
    );
    expect(assigned.alert).toMatchObject({ status: complianceV1.AlertStatus.ALERT_STATUS_ASSIGNED, assignee: 'dave' });
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await unaryCall(
        client,
        'listAlerts',
        { page: { pageSize: 2, pageToken }, status: 0, accountId: '', assignee: '' },
        await as('lead'),
      );
      seen.push(...page.alerts.map((a) => a.id));
      pageToken = page.page?.nextPageToken ?? '';
    } while (pageToken);
    const { rows } = await h.db.query('SELECT id::text FROM alerts ORDER BY created_at DESC, id DESC');
    expect(seen).toEqual(rows.map((r: { id: string }) => r.id));
  });

  it('publishes every alert change through the outbox', async () => {
    const deadline = Date.now() + 10_000;
    let unsent = -1;
    while (Date.now() < deadline) {
      unsent = (await h.db.query('SELECT count(*)::int AS n FROM outbox_events WHERE sent_at IS NULL')).rows[0].n;
      if (unsent === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(unsent).toBe(0);
    expect((await h.db.query('SELECT count(*)::int AS n FROM outbox_events')).rows[0].n).toBeGreaterThan(5);
  });
});
