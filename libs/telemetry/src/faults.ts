/**
 * Runtime fault injection for demos, workshops and chaos drills (issue #14): slow or failing database calls, slow or
 * failing gRPC handlers (e.g. compliance's screening), failing Kafka sends, failing Kafka handlers (`kafka-consume`: the
 * consumer's handler fails as a bug would, so its events are retried, then dead-lettered). Off by default; switched per process over
 * the authenticated admin port (admin-endpoint.ts `GET|PUT|DELETE /faults`, or `npm run infra -- faults`), logged at
 * warn when switched and counted in `tessera_faults_injected_total{fault}` (plus `tessera_fault_active{fault}`).
 * Refused with NODE_ENV=production: nothing can switch one on there.
 *
 * The libraries call {@link injectFault} at their fault points (libs/db pool connections, libs/grpc's wrapUnary,
 * libs/kafka's EventProducer and EventConsumer). With no fault set it is one Map lookup and returns undefined, so a hot path pays
 * nothing measurable and never awaits.
 */
import { metrics, type Counter } from '@opentelemetry/api';
import { createLogger } from './logger';

export const FAULT_NAMES = ['db', 'grpc-server', 'kafka-produce', 'kafka-consume'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export interface FaultSpec {
  /** Added before the call, in ms (0-30000). */
  delayMs?: number;
  /** Share of calls that fail, 0-1 (after the delay). */
  errorRate?: number;
  /** Only calls whose subject contains this (gRPC: the method path, e.g. "Screen"); default every call. */
  match?: string;
  /** The fault switches itself off after this many seconds (default 300: a forgotten fault does not outlive the demo). */
  durationSec?: number;
}

export interface ActiveFault extends Required<Pick<FaultSpec, 'delayMs' | 'errorRate'>> {
  match?: string;
  /** Epoch ms when it switches itself off. */
  until: number;
  injected: number;
}

export class FaultRefusedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'FaultRefusedError';
  }
}

const active = new Map<FaultName, ActiveFault>();
let faultLogger: ReturnType<typeof createLogger> | undefined;
/** Made on first use, as the metrics below: this module loads before startTelemetry names the service. */
const logger = () => (faultLogger ??= createLogger('Faults'));
let injectedCounter: Counter | undefined;

/**
 * The fault metrics, made on first use: this module is loaded by instrumentation.js before startTelemetry registers the
 * meter provider, and a meter taken then would stay a no-op (the metrics API has no proxy as the trace API does).
 */
function counter(): Counter {
  if (!injectedCounter) {
    const meter = metrics.getMeter('tessera.faults');
    injectedCounter = meter.createCounter('tessera_faults_injected', {
      description: 'Calls a runtime fault slowed or failed (issue #14 fault toggles)',
    });
    meter.createObservableGauge('tessera_fault_active', { description: '1 while a runtime fault is switched on' }).addCallback((result) => {
      for (const name of FAULT_NAMES) result.observe(current(name) ? 1 : 0, { fault: name });
    });
  }
  return injectedCounter;
}

export function isFaultName(name: unknown): name is FaultName {
  return typeof name === 'string' && (FAULT_NAMES as readonly string[]).includes(name);
}

function current(name: FaultName, now = Date.now()): ActiveFault | undefined {
  const f = active.get(name);
  if (f && now >= f.until) {
    active.delete(name);
    logger().warn({ fault: name, injected: f.injected }, 'fault injection expired and is off');
    return undefined;
  }
  return f;
}

/** Switches a fault on (or, with `undefined`, off). @throws FaultRefusedError in production or for a bad spec. */
export function setFault(name: FaultName, spec: FaultSpec | undefined, env: NodeJS.ProcessEnv = process.env): ActiveFault | undefined {
  if (env['NODE_ENV'] === 'production')
    throw new FaultRefusedError('fault injection is refused with NODE_ENV=production', 'FAULTS.REFUSED_IN_PRODUCTION');
  if (spec === undefined) {
    const was = active.get(name);
    active.delete(name);
    if (was) logger().warn({ fault: name, injected: was.injected }, 'fault injection off');
    return undefined;
  }
  const delayMs = spec.delayMs ?? 0;
  const errorRate = spec.errorRate ?? 0;
  const durationSec = spec.durationSec ?? 300;
  const bad = (what: string) => new FaultRefusedError(what, 'FAULTS.INVALID_SPEC');
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 30_000) throw bad('delayMs must be an integer from 0 to 30000');
  if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) throw bad('errorRate must be a number from 0 to 1');
  if (!Number.isInteger(durationSec) || durationSec < 1 || durationSec > 3600) throw bad('durationSec must be an integer from 1 to 3600');
  if (spec.match !== undefined && (typeof spec.match !== 'string' || spec.match.length === 0 || spec.match.length > 200))
    throw bad('match must be a non-empty string');
  if (delayMs === 0 && errorRate === 0) throw bad('a fault needs delayMs or errorRate');
  const fault: ActiveFault = {
    delayMs,
    errorRate,
    ...(spec.match ? { match: spec.match } : {}),
    until: Date.now() + durationSec * 1000,
    injected: 0,
  };
  active.set(name, fault);
  counter(); // the gauge shows it from now on
  logger().warn(
    { fault: name, delayMs, errorRate, match: spec.match, durationSec },
    'fault injection ON (issue #14 fault toggles): calls will be slowed or failed on purpose',
  );
  return fault;
}

export function activeFaults(): Partial<Record<FaultName, ActiveFault>> {
  const out: Partial<Record<FaultName, ActiveFault>> = {};
  for (const name of FAULT_NAMES) {
    const f = current(name);
    if (f) out[name] = { ...f };
  }
  return out;
}

/**
 * At a fault point: undefined when the fault is off (or does not match `subject`), else a promise that waits the
 * delay and then rejects with `error()` for the configured share of calls.
 */
export function injectFault(name: FaultName, subject: string, error: () => Error): Promise<void> | undefined {
  if (active.size === 0) return undefined;
  const f = current(name);
  if (!f || (f.match !== undefined && !subject.includes(f.match))) return undefined;
  f.injected++;
  counter().add(1, { fault: name });
  const fail = f.errorRate > 0 && Math.random() < f.errorRate;
  if (f.delayMs === 0) return fail ? Promise.reject(error()) : undefined;
  return new Promise((resolve, reject) => setTimeout(() => (fail ? reject(error()) : resolve()), f.delayMs));
}

/** Test support: every fault off. */
export function clearFaults(): void {
  active.clear();
}
