/**
 * Bounded analytics load for the pipeline chaos scenarios: `clients` loops send batches of generated events
 * (tools/loadgen's EventGenerator, one tenant, event time = wall clock) to the gateway's POST /v1/events. A batch that
 * gets no answer, a 5xx or a 429 is sent again unchanged (same event ids: the processor drops what ingest already
 * stored) until it is answered or `settleMs` has passed since its first attempt. Every HTTP answer is counted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EventGenerator, type GeneratedEvent, parseRetryAfter } from '@tessera/loadgen';

export interface EventLoadOptions {
  gateway: string;
  tenant: string;
  apiKey: string;
  clients: number;
  durationMs: number;
  /** Events per second over all clients. */
  rate: number;
  batchSize: number;
  settleMs: number;
  seed: number;
  /** Abandon an attempt after this long and send the batch again (default 10 s). */
  requestTimeoutMs?: number;
}

export interface EventBatchOutcome {
  ids: string[];
  /** Acknowledged (2xx): the accepted ids; refused (4xx): none; unsettled: no answer within settleMs. */
  outcome: 'acked' | 'refused' | 'unsettled';
  accepted: string[];
  attempts: number;
  /** Why earlier attempts were retried (HTTP status or "network"). */
  retried: string[];
}

export interface EventLoadResult {
  batches: EventBatchOutcome[];
  /** HTTP answers over every attempt ("network" for none). */
  statuses: Record<string, number>;
  /** 503 answers that carried no Retry-After. */
  unavailableWithoutRetryAfter: number;
}

export async function runEventLoad(o: EventLoadOptions): Promise<EventLoadResult> {
  const started = Date.now();
  const generator = new EventGenerator({ seed: o.seed, tenants: [o.tenant], rate: o.rate, startTime: started });
  const statuses: Record<string, number> = {};
  const batches: EventBatchOutcome[] = [];
  let unavailableWithoutRetryAfter = 0;
  const count = (status: string) => (statuses[status] = (statuses[status] ?? 0) + 1);

  const send = async (batch: GeneratedEvent[]): Promise<EventBatchOutcome> => {
    const ids = batch.map((g) => g.event.eventId);
    const body = JSON.stringify({ events: batch.map((g) => g.event) });
    const first = Date.now();
    const retried: string[] = [];
    for (let attempt = 1; ; attempt++) {
      let wait = Math.min(250 * 2 ** Math.min(attempt - 1, 4), 4_000);
      let status: string;
      try {
        const res = await fetch(`${o.gateway}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': o.apiKey },
          body,
          signal: AbortSignal.timeout(o.requestTimeoutMs ?? 10_000),
        });
        status = String(res.status);
        count(status);
        const text = await res.text();
        if (res.ok) {
          const rejections = (JSON.parse(text) as { rejections?: { index: number }[] }).rejections ?? [];
          const refused = new Set(rejections.map((r) => r.index));
          return { ids, outcome: 'acked', accepted: ids.filter((_, i) => !refused.has(i)), attempts: attempt, retried };
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 429)
          return { ids, outcome: 'refused', accepted: [], attempts: attempt, retried };
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
        if (res.status === 503 && retryAfter === undefined) unavailableWithoutRetryAfter++;
        if (retryAfter !== undefined) wait = retryAfter;
      } catch {
        status = 'network';
        count(status);
      }
      retried.push(status);
      if (Date.now() - first > o.settleMs) return { ids, outcome: 'unsettled', accepted: [], attempts: attempt, retried };
      await sleep(wait);
    }
  };

  // Batches are taken in event-time order and sent once their last event's time has come (never in the future).
  const client = async () => {
    while (Date.now() - started < o.durationMs) {
      const batch = generator.take(o.batchSize);
      const due = Date.parse(batch[batch.length - 1]?.event.occurredAt ?? '') - Date.now();
      if (due > 0) await sleep(due);
      batches.push(await send(batch));
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  return { batches, statuses, unavailableWithoutRetryAfter };
}
