/**
 * Bounded transfer load for the chaos scenarios: `clients` loops on loopback, each sending transfers with a fresh
 * Idempotency-Key and retrying the same key (as the API contract tells a client to) until the answer is definite:
 * 201 (acknowledged, with the transfer id) or a 4xx refusal. 5xx, network errors and timeouts are retried after the
 * Retry-After the gateway sent (or 250 ms). An operation still unsettled after `settleMs` is "never completed".
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Operation {
  key: string;
  amountMinor: bigint;
  attempts: number;
  /** 'acked' with the id the client got, 'refused' with the code, 'unsettled' if it never got a definite answer. */
  outcome: 'acked' | 'refused' | 'unsettled';
  transferId?: string;
  /** The transfer's status in the acknowledgement (POSTED, or PENDING when compliance held it for review). */
  status?: string;
  code?: string;
  /** Status of every retried answer (e.g. 503) and 'network' for a failed fetch. */
  retried: string[];
}

export interface LoadOptions {
  gateway: string;
  headers: Record<string, string>;
  source: string;
  destination: string;
  clients: number;
  durationMs: number;
  /** How long one operation may keep retrying before it counts as never completed. */
  settleMs: number;
  /** Per-request timeout: a request stuck longer is abandoned and retried with the same key. */
  requestTimeoutMs?: number;
  /** A pause after each operation, per client (keeps a client under the gateway's per-principal rate limit). */
  pauseMs?: number;
}

export interface LoadResult {
  operations: Operation[];
  /** Answers by status over all attempts, e.g. { 201: 700, 503: 40, network: 3 }. */
  statuses: Record<string, number>;
  /** 503s without a Retry-After header (the contract says every 503 has one). */
  unavailableWithoutRetryAfter: number;
}

export async function runTransferLoad(o: LoadOptions): Promise<LoadResult> {
  const operations: Operation[] = [];
  const statuses: Record<string, number> = {};
  let unavailableWithoutRetryAfter = 0;
  const count = (s: string) => (statuses[s] = (statuses[s] ?? 0) + 1);
  const end = Date.now() + o.durationMs;

  const one = async (): Promise<Operation> => {
    const op: Operation = {
      key: `chaos-${randomUUID()}`,
      amountMinor: BigInt(1 + Math.floor(Math.random() * 999)),
      attempts: 0,
      outcome: 'unsettled',
      retried: [],
    };
    const deadline = Date.now() + o.settleMs;
    const body = JSON.stringify({
      sourceAccountId: o.source,
      destinationAccountId: o.destination,
      amount: { amountMinor: op.amountMinor.toString(), currency: 'EUR' },
      description: 'chaos',
      counterparty: { name: 'ACME GmbH', country: 'DE' },
    });
    while (Date.now() < deadline) {
      op.attempts++;
      let wait = 250;
      try {
        const res = await fetch(`${o.gateway}/v1/transfers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': op.key, ...o.headers },
          body,
          signal: AbortSignal.timeout(o.requestTimeoutMs ?? 10_000),
        });
        count(String(res.status));
        const json = (await res.json().catch(() => ({}))) as { id?: string; status?: string; code?: string };
        if (res.status === 201 || res.status === 200) return { ...op, outcome: 'acked', transferId: json.id, status: json.status };
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 && res.status !== 409)
          return { ...op, outcome: 'refused', code: json.code };
        op.retried.push(String(res.status));
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 503 && !res.headers.get('retry-after')) unavailableWithoutRetryAfter++;
        if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.min(retryAfter * 1000, 2000);
      } catch {
        count('network');
        op.retried.push('network');
      }
      await sleep(wait);
    }
    return op;
  };

  await Promise.all(
    Array.from({ length: o.clients }, async () => {
      while (Date.now() < end) {
        operations.push(await one());
        if (o.pauseMs) await sleep(o.pauseMs);
      }
    }),
  );
  return { operations, statuses, unavailableWithoutRetryAfter };
}
