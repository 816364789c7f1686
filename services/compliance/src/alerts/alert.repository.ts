import { v7 as uuidv7 } from 'uuid';
import { type Context, context } from '@opentelemetry/api';
import { Inject, Injectable } from '@nestjs/common';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { Prisma } from '../generated/prisma/client';
import type { Alert as AlertRow } from '../generated/prisma/client';
import { AlertOutbox } from './alert-outbox';
import { PrismaService } from '../platform/prisma.provider';
import type { Reason } from '../rules/reason';
import type { Alert, AlertStatus, NewAlert } from './alert';
import { alertErrors } from './alert.errors';

export type Tx = Prisma.TransactionClient;

/** An alert as far as coverage goes: its rule, account and transfers. */
export interface Coverage {
  ruleId: string;
  accountId: string;
  transferIds: string[];
}

/** True when one of `alerts` has `finding`'s rule and account and shares a transfer with it: the alert covers the finding. */
export function coversAny(alerts: readonly Coverage[], finding: Coverage): boolean {
  const ids = new Set(finding.transferIds);
  return alerts.some((a) => a.ruleId === finding.ruleId && a.accountId === finding.accountId && a.transferIds.some((id) => ids.has(id)));
}

export interface AlertChange {
  status?: AlertStatus;
  assignee?: string;
  resolution?: Alert['resolution'];
  resolutionNote?: string;
  releaseApprovals?: string[];
}

/** The Prisma side of alerts. Every change writes its review-trail row and its outbox event in the same transaction. */
@Injectable()
export class AlertRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly outbox: AlertOutbox,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
  ) {}

  /**
   * Raises alerts, each once per dedupe key (redelivered events and retried screenings are no-ops), in ONE statement
   * whatever their number: the alerts, their `raised` review-trail rows and their outbox events (issue #10: an alert
   * was four round trips, then one; the AML monitor now raises a chunk's alerts together, since under a batch load
   * they were ~0.35 alerts and two statements per transfer, most of compliance's statements). The new rows are fully
   * known here (id, status OPEN, timestamps), so nothing is read back. In order: the outbox `seq` follows the list.
   * Each alert's event carries the trace of its `trace` context (default: the active one). Undefined for an alert whose
   * dedupe key (or held transfer) already has one.
   */
  async raiseMany(tx: Tx, alerts: ReadonlyArray<{ alert: NewAlert; actor: string; trace?: Context }>): Promise<Array<Alert | undefined>> {
    if (alerts.length === 0) return [];
    // Millisecond precision (a JS Date): timestamptz(6) stores it exactly, so the event and the row agree.
    const now = new Date();
    const rows = alerts.map(({ alert, actor, trace }, ord) => {
      const created: Alert = {
        id: uuidv7(), // time-ordered: see docs/ids.md
        ruleId: alert.ruleId,
        ruleVersion: alert.ruleVersion,
        severity: alert.severity,
        status: 'OPEN',
        accountId: alert.accountId,
        transferIds: alert.transferIds,
        reasons: alert.reasons,
        assignee: undefined,
        resolution: undefined,
        resolutionNote: undefined,
        releaseApprovals: [],
        heldTransferId: alert.heldTransferId,
        traceId: alert.traceId ?? '',
        createdAt: now,
        updatedAt: now,
      };
      const event = context.with(trace ?? context.active(), () => this.outbox.eventOf(this.config.COMPLIANCE_ALERTS_TOPIC, created));
      return {
        created,
        json: {
          ord,
          id: created.id,
          dedupeKey: alert.dedupeKey,
          ruleId: created.ruleId,
          ruleVersion: created.ruleVersion,
          severity: created.severity,
          accountId: created.accountId,
          transferIds: created.transferIds,
          reasons: created.reasons,
          heldTransferId: created.heldTransferId ?? null,
          traceId: created.traceId,
          actor,
          eventId: event.id,
          topic: event.topic,
          key: event.key,
          headers: event.headers,
          payload: Buffer.from(event.payload).toString('base64'),
        },
      };
    });
    const inserted = await tx.$queryRaw<Array<{ id: string }>>`
      WITH r AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows.map((r) => r.json))}::jsonb) AS r(
          ord int, id uuid, "dedupeKey" text, "ruleId" text, "ruleVersion" text, severity text, "accountId" text, "transferIds" text[],
          reasons jsonb, "heldTransferId" text, "traceId" text, actor text, "eventId" uuid, topic text, key text, headers jsonb,
          payload text)
      ),
      a AS (
        INSERT INTO alerts (id, dedupe_key, rule_id, rule_version, severity, status, account_id, transfer_ids, reasons, held_transfer_id, trace_id,
                            release_approvals, created_at, updated_at)
        SELECT r.id, r."dedupeKey", r."ruleId", r."ruleVersion", r.severity::alert_severity, 'OPEN', r."accountId", r."transferIds", r.reasons,
               r."heldTransferId", r."traceId", ARRAY[]::text[], ${now}::timestamptz, ${now}::timestamptz
        FROM r ORDER BY r.ord
        ON CONFLICT DO NOTHING
        RETURNING id
      ),
      x AS (
        INSERT INTO alert_actions (alert_id, actor, action, note, at)
        SELECT a.id, r.actor, 'raised', r."ruleId", ${now}::timestamptz FROM a JOIN r ON r.id = a.id ORDER BY r.ord
      ),
      o AS (
        INSERT INTO outbox_events (id, topic, key, payload, headers)
        SELECT r."eventId", r.topic, r.key, decode(r.payload, 'base64'), r.headers FROM a JOIN r ON r.id = a.id ORDER BY r.ord
      )
      SELECT id::text FROM a`;
    const ids = new Set(inserted.map((r) => r.id));
    return rows.map((r) => (ids.has(r.created.id) ? r.created : undefined));
  }

  /**
   * The alerts that could cover any of `findings` (same rule and account, sharing a transfer), in one statement: what a
   * per-finding query would find for each, for a caller that then checks them in order in memory (`coversAny`).
   */
  async covering(tx: Tx, findings: readonly Coverage[]): Promise<Coverage[]> {
    if (findings.length === 0) return [];
    const pairs = [...new Map(findings.map((f) => [`${f.ruleId}\u0000${f.accountId}`, f])).values()];
    const ids = [...new Set(findings.flatMap((f) => f.transferIds))];
    return tx.$queryRaw<Coverage[]>`
      SELECT a.rule_id AS "ruleId", a.account_id AS "accountId", a.transfer_ids AS "transferIds"
      FROM alerts a
      JOIN unnest(${pairs.map((p) => p.ruleId)}::text[], ${pairs.map((p) => p.accountId)}::text[]) AS k(rule_id, account_id)
        ON a.rule_id = k.rule_id AND a.account_id = k.account_id
      WHERE a.transfer_ids && ${ids}::text[]`;
  }

  /** Runs `fn` with the alert row locked (FOR UPDATE), so concurrent reviewers of one alert are serialised. */
  async withLocked<R>(alertId: string, fn: (tx: Tx, alert: Alert) => Promise<R>): Promise<R> {
    return this.prisma.client.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM alerts WHERE id = ${alertId}::uuid FOR UPDATE`;
        if (locked.length === 0) throw alertErrors.notFound(alertId);
        const row = await tx.alert.findUniqueOrThrow({ where: { id: alertId } });
        return fn(tx, toDomain(row));
      },
      // READ COMMITTED: the session default every pool connection is pinned to (@tessera/db createPrismaClient).
    );
  }

  /** Applies a change, appends the review-trail row and enqueues the changed alert. */
  async change(
    tx: Tx,
    alertId: string,
    change: AlertChange,
    action: { actor: string; action: string; note?: string; idempotencyKey?: string; requestHash?: string },
  ): Promise<Alert> {
    const row = await tx.alert.update({
      where: { id: alertId },
      data: {
        ...(change.status ? { status: change.status } : {}),
        ...(change.assignee !== undefined ? { assignee: change.assignee } : {}),
        ...(change.resolution ? { resolution: change.resolution } : {}),
        ...(change.resolutionNote !== undefined ? { resolutionNote: change.resolutionNote } : {}),
        ...(change.releaseApprovals ? { releaseApprovals: change.releaseApprovals } : {}),
      },
    });
    await tx.alertAction.create({
      data: {
        alertId,
        actor: action.actor,
        action: action.action,
        note: action.note ?? '',
        idempotencyKey: action.idempotencyKey ?? null,
        requestHash: action.requestHash ?? null,
      },
    });
    const alert = toDomain(row);
    await this.outbox.enqueue(tx, this.config.COMPLIANCE_ALERTS_TOPIC, alert);
    return alert;
  }

  /** The earlier action recorded under an idempotency key, if any. */
  async findAction(idempotencyKey: string): Promise<{ alertId: string; requestHash: string | null } | undefined> {
    const row = await this.prisma.client.alertAction.findUnique({
      where: { idempotencyKey },
      select: { alertId: true, requestHash: true },
    });
    return row ?? undefined;
  }

  async findById(alertId: string): Promise<Alert | undefined> {
    const row = await this.prisma.client.alert.findUnique({ where: { id: alertId } });
    return row ? toDomain(row) : undefined;
  }

  /** Newest first, keyset on (created_at, id) descending. */
  async list(
    filter: { status?: AlertStatus; accountId?: string; assignee?: string },
    pageSize: number,
    before?: { createdAt: Date; id: string },
  ): Promise<Alert[]> {
    const rows = await this.prisma.client.alert.findMany({
      where: {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.accountId ? { accountId: filter.accountId } : {}),
        ...(filter.assignee ? { assignee: filter.assignee } : {}),
        ...(before ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize,
    });
    return rows.map(toDomain);
  }
}

export function toDomain(row: AlertRow): Alert {
  return {
    id: row.id,
    ruleId: row.ruleId,
    ruleVersion: row.ruleVersion,
    severity: row.severity,
    status: row.status,
    accountId: row.accountId,
    transferIds: row.transferIds,
    reasons: row.reasons as unknown as Reason[],
    assignee: row.assignee ?? undefined,
    resolution: row.resolution ?? undefined,
    resolutionNote: row.resolutionNote ?? undefined,
    releaseApprovals: row.releaseApprovals,
    heldTransferId: row.heldTransferId ?? undefined,
    traceId: row.traceId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
