import { buildEnvelope, encodeEnvelope } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import type { PrismaClient } from '../generated/prisma/client';
import { OUTBOX_SOURCE } from './outbox.source';

/**
 * Before the shared outbox (issue #16) a compliance row held the bare payload, and the envelope (with the row's id, type,
 * subject, creation time and traceparent) was built when it was published. Unsent rows of that kind are re-encoded into
 * the envelope the old relay would have published, so none is lost or changed by the upgrade; returns how many.
 * Run at start, before the relay: an older instance still writing such rows must be stopped first.
 */
export async function reencodeLegacyRows(prisma: Pick<PrismaClient, 'outboxEvent' | '$transaction'>): Promise<number> {
  const rows = await prisma.outboxEvent.findMany({ where: { sentAt: null, type: { not: null } }, orderBy: { seq: 'asc' } });
  if (rows.length === 0) return 0;
  await prisma.$transaction(
    rows.map((row) => {
      const envelope = buildEnvelope(
        { id: row.id, type: row.type ?? '', subject: row.subject ?? '', data: new Uint8Array(row.payload), time: row.createdAt },
        OUTBOX_SOURCE,
        row.traceparent ? { traceparent: row.traceparent } : {},
      );
      return prisma.outboxEvent.update({
        where: { seq: row.seq },
        data: { payload: new Uint8Array(encodeEnvelope(envelope)), headers: { type: row.type }, type: null, subject: null },
      });
    }),
  );
  createLogger('OutboxRelay').info({ rows: rows.length }, 'outbox: rows written before the shared outbox re-encoded as envelopes');
  return rows.length;
}
