import { httpLoad, type HttpLoadResult } from '../harness/http-load';
import { CURRENCY, type Population, type Wallet } from './population';

export const CLIENTS = 16;

export type CaseName = 'single' | 'batch' | 'hot';

/** Outcomes read from the response bodies: created transfers by status, refusals by HTTP status and error code. */
export interface Outcomes {
  POSTED: number;
  PENDING: number;
  DECLINED: number;
  /** `<http status> <problem code>` -> count, for every non-2xx answer. */
  refused: Record<string, number>;
}

export interface CaseLoad {
  load: HttpLoadResult;
  outcomes: Outcomes;
  /** Transfers the platform created (POSTED + PENDING + DECLINED in 2xx answers) per measured second. */
  transfersPerSec: number;
}

const STATUS_RE = /"status":"(POSTED|PENDING|DECLINED)"/g;
const CODE_RE = /"code":"([A-Z0-9_.]+)"/;

function counter(): { outcomes: Outcomes; onResponse: (status: number, body: string) => void } {
  const outcomes: Outcomes = { POSTED: 0, PENDING: 0, DECLINED: 0, refused: {} };
  return {
    outcomes,
    onResponse(status, body) {
      if (status >= 200 && status < 300) {
        // A transfer view's own status; postings carry none, and labels/descriptions here never contain one.
        for (const m of body.matchAll(STATUS_RE)) outcomes[m[1] as 'POSTED' | 'PENDING' | 'DECLINED']++;
        return;
      }
      const key = `${status} ${CODE_RE.exec(body)?.[1] ?? ''}`.trim();
      outcomes.refused[key] = (outcomes.refused[key] ?? 0) + 1;
    },
  };
}

/**
 * The transfer instructions of a case. Sources cycle through the case's slice of wallets (a shuffled order,
 * so every wallet debits at most ceil(sent / slice) times, under the velocity limits); destinations are
 * random wallets of the whole population, or the merchant in the hot case. Amounts 1.00-25.00 EUR.
 */
export function instructionSource(pop: Population, slice: Wallet[], hot: boolean): () => Record<string, unknown> {
  const order = [...slice].sort(() => Math.random() - 0.5);
  let next = 0;
  return () => {
    const source = order[next++ % order.length] as Wallet;
    let destination: Wallet = pop.merchant;
    if (!hot) {
      do destination = pop.wallets[Math.floor(Math.random() * pop.wallets.length)] as Wallet;
      while (destination.id === source.id);
    }
    return {
      sourceAccountId: source.id,
      destinationAccountId: destination.id,
      amount: { amountMinor: String(100 + Math.floor(Math.random() * 2401)), currency: CURRENCY },
      description: hot ? 'card payment' : 'payment',
      counterparty: { name: destination.holder, country: 'DE' },
    };
  };
}

/**
 * One case as a closed loop of `CLIENTS` connections: each request carries a fresh Idempotency-Key and the
 * operator's token; single and hot send one instruction to POST /v1/transfers, batch sends `batchSize` to
 * POST /v1/transfers/batch.
 */
export async function runCase(
  base: string,
  pop: Population,
  name: CaseName | 'profile',
  slice: Wallet[],
  opts: { batchSize: number; seconds: number; warmupSeconds: number },
): Promise<CaseLoad> {
  const batch = name === 'batch';
  const next = instructionSource(pop, slice, name === 'hot');
  const { outcomes, onResponse } = counter();
  let seq = 0;
  const load = await httpLoad({
    url: `${base}${batch ? '/v1/transfers/batch' : '/v1/transfers'}`,
    connections: CLIENTS,
    seconds: opts.seconds,
    warmupSeconds: opts.warmupSeconds,
    method: 'POST',
    headers: { authorization: pop.auth, 'content-type': 'application/json' },
    setupRequest: (req) => ({
      ...req,
      headers: { ...req.headers, 'idempotency-key': `bench-${pop.runId}-${name}-${seq++}` },
      body: JSON.stringify(batch ? { transfers: Array.from({ length: opts.batchSize }, next) } : next()),
    }),
    onResponse,
  });
  const created = outcomes.POSTED + outcomes.PENDING + outcomes.DECLINED;
  return { load, outcomes, transfersPerSec: Math.round((created / opts.seconds) * 10) / 10 };
}
