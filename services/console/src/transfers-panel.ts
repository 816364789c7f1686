import type { TransferView } from './api';
import { formatMoney, formatTime } from './format';
import { type TraceLink, traceLink } from './trace-link';

/** One row of the "Recent transfers" panel, DOM-free so it is unit-tested in Node. */
export interface TransferRow {
  id: string;
  /** First 8 characters of the UUID; the full id is the cell's tooltip. */
  shortId: string;
  status: string;
  kind: string;
  amount: string;
  created: string;
  trace: TraceLink;
}

/** The panel's rows in the gateway's order (newest first), each linked to the trace of the request that created it. */
export function transferRows(items: readonly TransferView[], traceUrlTemplate: string | null): TransferRow[] {
  return items.map((t) => ({
    id: t.id,
    shortId: t.id.slice(0, 8),
    status: t.status,
    kind: t.kind,
    amount: formatMoney(t.amount),
    created: formatTime(t.createdAt),
    trace: traceLink(traceUrlTemplate, t),
  }));
}
