/**
 * What every lab's checker and scripted solution share: findings (a pass/fail line with what to do next), a gateway
 * client that opens accounts and moves money as the README's curl examples do, and polling.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProducer } from '@tessera/kafka';
import type { Kafka } from 'kafkajs';
import type { LabTarget } from './target';

export interface Finding {
  ok: boolean;
  /** What was checked, and what was found. */
  what: string;
  /** What to do next when it failed. */
  hint?: string;
}

export const pass = (what: string): Finding => ({ ok: true, what });
export const fail = (what: string, hint: string): Finding => ({ ok: false, what, hint });

export interface Lab {
  id: number;
  title: string;
  /** docs/workshops/<doc> */
  doc: string;
  /** `npm run lab -- check <id> [--flag value ...]`: reads the platform, never changes it. */
  check(target: LabTarget, args: Record<string, string>): Promise<Finding[]>;
  /**
   * The scripted solution (`npm run lab -- solve <id>`, and tests/e2e/workshops.e2e-spec.ts): does what the lab's steps
   * tell the learner to do, then returns the flags to pass to `check`.
   */
  solve(target: LabTarget, log: (line: string) => void): Promise<Record<string, string>>;
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** The gateway as an operator (and, for the audit, an auditor) calls it, each POST with an Idempotency-Key. */
export class Api {
  constructor(
    private readonly target: LabTarget,
    private readonly who = `lab-operator-${randomUUID().slice(0, 8)}`,
  ) {}

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    roles: Parameters<LabTarget['bearer']>[1] = ['operator'],
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { ...(await this.target.bearer(this.who, roles)) };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'idempotency-key': `lab-${randomUUID()}` });
    const res = await fetch(`${this.target.gateway}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
  }

  async openAccount(ownerId: string, overdraftLimitMinor = '0'): Promise<string> {
    const res = await this.call<{ id: string }>('POST', '/v1/accounts', {
      ownerId,
      type: 'ASSET',
      currency: 'EUR',
      overdraftLimitMinor,
      holder: { fullName: `Lab ${ownerId}`, address: '1 Workshop Street, Berlin', nationalId: `LAB-${ownerId}`, country: 'DE' },
    });
    if (res.status !== 201) throw new Error(`opening an account for ${ownerId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  async transfer(
    source: string,
    destination: string,
    amountMinor: string,
  ): Promise<{ status: number; body: { id?: string; status?: string; code?: string } }> {
    return this.call('POST', '/v1/transfers', {
      sourceAccountId: source,
      destinationAccountId: destination,
      amount: { amountMinor, currency: 'EUR' },
      description: 'workshop',
      counterparty: { name: 'ACME GmbH', country: 'DE' },
    });
  }
}

/** `--name value` pairs after the lab number. */
export function parseFlags(words: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (!word.startsWith('--')) throw new Error(`unexpected "${word}": flags are --name value`);
    const value = words[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${word} needs a value`);
    out[word.slice(2)] = value;
    i++;
  }
  return out;
}

/** One record on a topic, acknowledged by every in-sync replica (the labs' poison and item requests). */
export async function sendRecord(kafka: Kafka, topic: string, key: string, value: Buffer): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key, value }] });
  } finally {
    await producer.disconnect();
  }
}
