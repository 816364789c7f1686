import { z } from 'zod';
import {
  accountPageView,
  accountView,
  balanceView,
  changeAccountStatusBody,
  listAccountsQuery,
  openAccountBody,
} from '../accounts/account.dto';
import { auditRecordPageView, auditVerificationView, listAuditRecordsQuery } from '../audit/audit.dto';
import { alertPageView, alertView, assignAlertBody, listAlertsQuery, resolveAlertBody } from '../compliance/alert.dto';
import { ingestEventsDocBody, ingestEventsView, MAX_EVENTS_PER_BATCH } from '../events/event.dto';
import { consumerLagView } from '../console/consumer-lag';
import { aggregatePageView, aggregatesQuery, aggregateView, liveQuery, topQuery, topView } from '../insights/insights.dto';
import { uuid } from '../http/common.dto';
import { pingAccepted, pingBody } from '../pings/ping.dto';
import { authorizeHoldBody, capturedHoldView, captureHoldBody, holdView, voidHoldBody } from '../holds/hold.dto';
import {
  createTransferBatchBody,
  createTransferBody,
  listTransfersQuery,
  reversalView,
  reverseTransferBody,
  transferBatchView,
  transferPageView,
  transferView,
} from '../transfers/transfer.dto';

/** A named schema becomes `#/components/schemas/<name>`. */
export interface Named {
  name: string;
  schema: z.ZodType;
}

/**
 * What the OpenAPI document says about one REST route beyond what Nest knows. @nestjs/swagger supplies the
 * routes themselves (paths, methods, handlers) from Nest's metadata, and the auth decorators supply security;
 * this table adds the zod schemas, which are the very ones the controllers validate with, so the document
 * cannot drift from the validation. Building the document fails when a Nest route is missing here or an
 * entry has no Nest route.
 */
export interface RouteSpec {
  method: 'get' | 'post';
  /** OpenAPI path template, e.g. `/v1/transfers/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: Named;
  /** Requires the Idempotency-Key header. */
  idempotent?: boolean;
  /** `contentType` defaults to application/json; `body` describes one event's data for text/event-stream. */
  response: { status: number; description: string; body: Named; contentType?: string };
  /** Problem responses besides the ones every route may return (500; 400 when it takes input; 401/403 from auth; 429). */
  errors: number[];
}

const id = { id: uuid };
const READ = [404, 503, 504];
const WRITE = [404, 409, 413, 415, 422, 503, 504];

const named = (name: string, schema: z.ZodType): Named => ({ name, schema });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().meta({ description: 'Stable machine-readable reason, e.g. PAYMENTS.INSUFFICIENT_FUNDS or HTTP.INVALID_REQUEST' }),
    errors: z
      .array(z.object({ field: z.string(), description: z.string() }))
      .optional()
      .meta({ description: 'One entry per invalid field' }),
  })
  .meta({ description: 'RFC 9457 problem details' });

const check = z.object({ status: z.enum(['up', 'down']), detail: z.string().optional(), latencyMs: z.number() });
const healthReport = z.object({ status: z.enum(['up', 'down']), checks: z.record(z.string(), check) });
const openApiDocument = z.object({ openapi: z.string() }).catchall(z.unknown());

export const ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Readiness of transactions, its database, compliance and Kafka (503 names what is down)',
    tag: 'platform',
    response: {
      status: 200,
      description: 'Everything is up (503 with the same body otherwise)',
      body: named('HealthReport', healthReport),
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'platform',
    response: { status: 200, description: 'OpenAPI 3.1 document', body: named('OpenApiDocument', openApiDocument) },
    errors: [],
  },
  {
    method: 'post',
    path: '/v1/pings',
    operationId: 'createPing',
    summary: 'Publish a ping event to Kafka (foundation demo)',
    tag: 'platform',
    body: named('CreatePingRequest', pingBody),
    response: { status: 202, description: 'Acknowledged by the broker', body: named('PingAccepted', pingAccepted) },
    errors: [413, 415, 503],
  },

  {
    method: 'post',
    path: '/v1/events',
    operationId: 'ingestEvents',
    summary: `Ingest up to ${MAX_EVENTS_PER_BATCH} analytics events (X-Api-Key; body at most GATEWAY_BODY_LIMIT_BYTES, 256 KiB): good ones are stored, bad ones reported per event; 503 with Retry-After means nothing was stored`,
    tag: 'analytics',
    body: named('IngestEventsRequest', ingestEventsDocBody),
    response: {
      status: 200,
      description: 'Accepted count and per-event rejections',
      body: named('IngestEventsResponse', ingestEventsView),
    },
    errors: [401, 413, 415, 503, 504],
  },

  {
    method: 'get',
    path: '/v1/insights/aggregates',
    operationId: 'getAggregates',
    summary:
      'Time series of one tenant: tumbling windows of one resolution (default the smallest with data) starting in [from, to), oldest first',
    tag: 'analytics',
    query: aggregatesQuery,
    response: { status: 200, description: 'One page (latest revision of each window)', body: named('AggregatePage', aggregatePageView) },
    errors: [401, 403, 503, 504],
  },
  {
    method: 'get',
    path: '/v1/insights/top',
    operationId: 'getTopAggregates',
    summary: 'The dimension values with the largest sum (or count) of a metric over [from, to)',
    tag: 'analytics',
    query: topQuery,
    response: { status: 200, description: 'Ranked values, largest first', body: named('TopAggregates', topView) },
    errors: [401, 403, 503, 504],
  },
  {
    method: 'get',
    path: '/v1/live/aggregates',
    operationId: 'streamAggregates',
    summary:
      'Server-Sent Events: `event: aggregate` (id windowKey#revision, data an Aggregate) for every new aggregate revision of the tenant; `: heartbeat` comments every 15 s; `event: error` then end when upstream fails',
    tag: 'analytics',
    query: liveQuery,
    response: {
      status: 200,
      description: "text/event-stream; each event's data is an Aggregate",
      body: named('Aggregate', aggregateView),
      contentType: 'text/event-stream',
    },
    errors: [401, 403, 503, 504],
  },
  {
    method: 'get',
    path: '/v1/ops/consumer-lag',
    operationId: 'getConsumerLag',
    summary: 'Lag per consumer group (GATEWAY_LAG_GROUPS): committed vs log end offsets per topic and partition, for the console',
    tag: 'platform',
    response: { status: 200, description: 'Groups with their lag', body: named('ConsumerLag', consumerLagView) },
    errors: [503],
  },

  {
    method: 'post',
    path: '/v1/accounts',
    operationId: 'openAccount',
    summary: 'Open an account',
    tag: 'accounts',
    idempotent: true,
    body: named('OpenAccountRequest', openAccountBody),
    response: {
      status: 201,
      description: 'The opened account (or the first result for a repeated Idempotency-Key)',
      body: named('Account', accountView),
    },
    errors: WRITE,
  },
  {
    method: 'get',
    path: '/v1/accounts',
    operationId: 'listAccounts',
    summary: 'List accounts, newest first',
    tag: 'accounts',
    query: listAccountsQuery,
    response: { status: 200, description: 'One page', body: named('AccountPage', accountPageView) },
    errors: [503, 504],
  },
  {
    method: 'get',
    path: '/v1/accounts/{id}',
    operationId: 'getAccount',
    summary: 'Read an account',
    tag: 'accounts',
    params: id,
    response: { status: 200, description: 'The account', body: named('Account', accountView) },
    errors: READ,
  },
  {
    method: 'get',
    path: '/v1/accounts/{id}/balance',
    operationId: 'getBalance',
    summary: 'Ledger, available and held balance',
    tag: 'accounts',
    params: id,
    response: { status: 200, description: 'The balances', body: named('Balance', balanceView) },
    errors: READ,
  },
  {
    method: 'post',
    path: '/v1/accounts/{id}/freeze',
    operationId: 'freezeAccount',
    summary: 'Freeze an account (blocks new transfers and holds)',
    tag: 'accounts',
    idempotent: true,
    params: id,
    body: named('ChangeAccountStatusRequest', changeAccountStatusBody),
    response: { status: 200, description: 'The frozen account', body: named('Account', accountView) },
    errors: WRITE,
  },
  {
    method: 'post',
    path: '/v1/accounts/{id}/close',
    operationId: 'closeAccount',
    summary: 'Close an account (zero balance, no open holds)',
    tag: 'accounts',
    idempotent: true,
    params: id,
    body: named('ChangeAccountStatusRequest', changeAccountStatusBody),
    response: { status: 200, description: 'The closed account', body: named('Account', accountView) },
    errors: WRITE,
  },

  {
    method: 'post',
    path: '/v1/transfers',
    operationId: 'createTransfer',
    summary: 'Move money between two accounts of the same currency (screened by compliance)',
    tag: 'transfers',
    idempotent: true,
    body: named('CreateTransferRequest', createTransferBody),
    response: {
      status: 201,
      description: 'The transfer: POSTED, PENDING (held for review) or DECLINED',
      body: named('Transfer', transferView),
    },
    errors: WRITE,
  },
  {
    method: 'post',
    path: '/v1/transfers/batch',
    operationId: 'createTransferBatch',
    summary: 'Create up to 100 transfers atomically (all or none)',
    tag: 'transfers',
    idempotent: true,
    body: named('CreateTransferBatchRequest', createTransferBatchBody),
    response: { status: 201, description: 'The batch, in request order', body: named('TransferBatch', transferBatchView) },
    errors: WRITE,
  },
  {
    method: 'get',
    path: '/v1/transfers',
    operationId: 'listTransfers',
    summary: 'List transfers, newest first',
    tag: 'transfers',
    query: listTransfersQuery,
    response: { status: 200, description: 'One page', body: named('TransferPage', transferPageView) },
    errors: [503, 504],
  },
  {
    method: 'get',
    path: '/v1/transfers/{id}',
    operationId: 'getTransfer',
    summary: 'Read a transfer with its postings',
    tag: 'transfers',
    params: id,
    response: { status: 200, description: 'The transfer', body: named('Transfer', transferView) },
    errors: READ,
  },
  {
    method: 'post',
    path: '/v1/transfers/{id}/reverse',
    operationId: 'reverseTransfer',
    summary: 'Undo a posted transfer with a compensating transfer',
    tag: 'transfers',
    idempotent: true,
    params: id,
    body: named('ReverseTransferRequest', reverseTransferBody),
    response: { status: 201, description: 'The original (now REVERSED) and its reversal', body: named('Reversal', reversalView) },
    errors: WRITE,
  },

  {
    method: 'post',
    path: '/v1/holds',
    operationId: 'authorizeHold',
    summary: 'Reserve funds (authorisation) until captured, voided or expired',
    tag: 'holds',
    idempotent: true,
    body: named('AuthorizeHoldRequest', authorizeHoldBody),
    response: { status: 201, description: 'The authorised hold', body: named('Hold', holdView) },
    errors: WRITE,
  },
  {
    method: 'post',
    path: '/v1/holds/{id}/capture',
    operationId: 'captureHold',
    summary: 'Post a hold, fully or partially; the remainder is released',
    tag: 'holds',
    idempotent: true,
    params: id,
    body: named('CaptureHoldRequest', captureHoldBody),
    response: { status: 200, description: 'The captured hold and its transfer', body: named('CapturedHold', capturedHoldView) },
    errors: WRITE,
  },
  {
    method: 'post',
    path: '/v1/holds/{id}/void',
    operationId: 'voidHold',
    summary: 'Release a hold without posting',
    tag: 'holds',
    idempotent: true,
    params: id,
    body: named('VoidHoldRequest', voidHoldBody),
    response: { status: 200, description: 'The voided hold', body: named('Hold', holdView) },
    errors: WRITE,
  },

  {
    method: 'get',
    path: '/v1/compliance/alerts',
    operationId: 'listAlerts',
    summary: 'The review queue, newest first',
    tag: 'compliance',
    query: listAlertsQuery,
    response: { status: 200, description: 'One page', body: named('AlertPage', alertPageView) },
    errors: [503, 504],
  },
  {
    method: 'post',
    path: '/v1/compliance/alerts/{id}/assign',
    operationId: 'assignAlert',
    summary: 'Assign an alert to an analyst',
    tag: 'compliance',
    idempotent: true,
    params: id,
    body: named('AssignAlertRequest', assignAlertBody),
    response: { status: 200, description: 'The alert', body: named('Alert', alertView) },
    errors: WRITE,
  },
  {
    method: 'post',
    path: '/v1/compliance/alerts/{id}/resolve',
    operationId: 'resolveAlert',
    summary: 'Resolve an alert; RELEASE of a held transfer needs two distinct reviewers',
    tag: 'compliance',
    idempotent: true,
    params: id,
    body: named('ResolveAlertRequest', resolveAlertBody),
    response: { status: 200, description: 'The alert', body: named('Alert', alertView) },
    errors: WRITE,
  },

  {
    method: 'get',
    path: '/v1/audit/verify',
    operationId: 'verifyAuditChain',
    summary: 'Recompute the audit hash chain; reports the first record that does not verify',
    tag: 'audit',
    response: {
      status: 200,
      description: 'The verification result (valid or not)',
      body: named('AuditVerification', auditVerificationView),
    },
    errors: [503, 504],
  },
  {
    method: 'get',
    path: '/v1/audit/records',
    operationId: 'listAuditRecords',
    summary: 'Audit records, oldest first',
    tag: 'audit',
    query: listAuditRecordsQuery,
    response: { status: 200, description: 'One page', body: named('AuditRecordPage', auditRecordPageView) },
    errors: [503, 504],
  },
];
