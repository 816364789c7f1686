import { v7 as uuidv7 } from 'uuid';
import { Inject, Injectable } from '@nestjs/common';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { Prisma } from '../generated/prisma/client';
import type { Alert as AlertRow } from '../generated/prisma/client';
import { AlertOutbox } from '../outbox/alert-outbox';
import { PrismaService } from '../platform/prisma.provider';
import type { Reason } from '../screening/screening';
import type { Alert, AlertStatus, NewAlert } from './alert';
import { alertErrors } from './alert.errors';

export type Tx = Prisma.TransactionClient;

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
   * Raises an alert once per dedupe key (redelivered events and retried screenings are no-ops): the alert, its
   * `raised` review-trail row and its outbox event in one statement (issue #10: it was four round trips, on the
   * screening path of every REVIEW). The new row is fully known here (id, status OPEN, timestamps), so nothing is read
   * back; undefined when the dedupe key (or the held transfer) already has its alert.
   */
  async raise(tx: Tx, alert: NewAlert, actor: string): Promise<Alert | undefined> {
    // Millisecond precision (a JS Date): timestamptz(6) stores it exactly, so the event and the row agree.
    const now = new Date();
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
    const event = this.outbox.eventOf(this.config.COMPLIANCE_ALERTS_TOPIC, created);
    const inserted = await tx.$queryRaw<Array<{ id: string }>>`
      WITH a AS (
        INSERT INTO alerts (id, dedupe_key, rule_id, rule_version, severity, status, account_id, transfer_ids, reasons, held_transfer_id, trace_id,
                            release_approvals, created_at, updated_at)
        VALUES (${created.id}::uuid, ${alert.dedupeKey}, ${created.ruleId}, ${created.ruleVersion}, ${created.severity}::alert_severity, 'OPEN',
                ${created.accountId}, ${created.transferIds}::text[], ${JSON.stringify(created.reasons)}::jsonb, ${created.heldTransferId ?? null}, ${created.traceId},
                ARRAY[]::text[], ${now}::timestamptz, ${now}::timestamptz)
        ON CONFLICT DO NOTHING
        RETURNING id
      ),
      x AS (INSERT INTO alert_actions (alert_id, actor, action, note, at) SELECT a.id, ${actor}, 'raised', ${created.ruleId}, ${now}::timestamptz FROM a),
      o AS (
        INSERT INTO outbox_events (id, topic, key, type, subject, payload, traceparent)
        SELECT ${event.id}::uuid, ${event.topic}, ${event.key}, ${event.type}, ${event.subject}, ${event.payload}, ${event.traceparent} FROM a
      )
      SELECT id::text FROM a`;
    return inserted.length === 1 ? created : undefined;
  }

  /** True when an alert of this rule on this account already covers any of these transfers. */
  async covered(tx: Tx, ruleId: string, accountId: string, transferIds: string[]): Promise<boolean> {
    const found = await tx.alert.findFirst({ where: { ruleId, accountId, transferIds: { hasSome: transferIds } }, select: { id: true } });
    return found !== null;
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
  async change(tx: Tx, alertId: string, change: AlertChange, action: { actor: string; action: string; note?: string; idempotencyKey?: string; requestHash?: string }): Promise<Alert> {
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
      data: { alertId, actor: action.actor, action: action.action, note: action.note ?? '', idempotencyKey: action.idempotencyKey ?? null, requestHash: action.requestHash ?? null },
    });
    const alert = toDomain(row);
    await this.outbox.enqueue(tx, this.config.COMPLIANCE_ALERTS_TOPIC, alert);
    return alert;
  }

  /** The earlier action recorded under an idempotency key, if any. */
  async findAction(idempotencyKey: string): Promise<{ alertId: string; requestHash: string | null } | undefined> {
    const row = await this.prisma.client.alertAction.findUnique({ where: { idempotencyKey }, select: { alertId: true, requestHash: true } });
    return row ?? undefined;
  }

  async findById(alertId: string): Promise<Alert | undefined> {
    const row = await this.prisma.client.alert.findUnique({ where: { id: alertId } });
    return row ? toDomain(row) : undefined;
  }

  /** Newest first, keyset on (created_at, id) descending. */
  async list(filter: { status?: AlertStatus; accountId?: string; assignee?: string }, pageSize: number, before?: { createdAt: Date; id: string }): Promise<Alert[]> {
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
