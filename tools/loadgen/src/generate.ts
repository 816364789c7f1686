import { createRandom, type Random, ZipfSampler } from './random';

/** An event as the gateway's `POST /v1/events` takes it (JSON); `value` is a string only in malformed ones. */
export interface WireEvent {
  tenantId: string;
  streamId: string;
  eventId: string;
  eventType: string;
  /** RFC 3339 timestamp (event time). */
  occurredAt: string;
  value: number | string;
  attributes: Record<string, string>;
}

export type EventKind = 'valid' | 'late' | 'duplicate' | 'malformed';

/** Ways an event is made invalid; each must be rejected by ingest with a reason (issue 4, "Bad input"). */
export const MALFORMATIONS = [
  'missing-tenant',
  'missing-event-id',
  'invalid-event-type',
  'future-time',
  'ancient-time',
  'oversize-attributes',
  'non-numeric-value',
] as const;
export type Malformation = (typeof MALFORMATIONS)[number];

export interface GeneratedEvent {
  kind: EventKind;
  /** The tenant whose API key sends this event (also for malformed ones whose tenantId was blanked). */
  tenant: string;
  event: WireEvent;
  malformation?: Malformation;
}

export interface GeneratorOptions {
  /** Same seed, same options: the same events, field for field. Default: a random seed. */
  seed?: number;
  /** Tenant count (named demo, acme, globex, ...) or explicit tenant ids. Default 1 (`demo`). */
  tenants?: number | readonly string[];
  /** Zipf exponent for users within a tenant and for traffic across tenants. Default 1.2. */
  skew?: number;
  /** Distinct users per tenant. Default 10 000. */
  users?: number;
  /** Shares in [0, 1] of late, duplicate and malformed events. Default 0. */
  late?: number;
  duplicates?: number;
  malformed?: number;
  /** Event time of the first event (epoch ms). Default: now. */
  startTime?: number;
  /** Events per second of event time: event i occurs at startTime + i / rate. Default 100. */
  rate?: number;
  /** How far behind its neighbours a late event is, uniformly in [min, max] ms. Default 10 s .. 120 s. */
  lateByMs?: readonly [number, number];
}

export const DEFAULT_TENANTS = ['demo', 'acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne'] as const;

const COUNTRIES: readonly [string, number][] = [
  ['US', 30],
  ['DE', 12],
  ['GB', 10],
  ['IN', 10],
  ['FR', 8],
  ['BR', 7],
  ['JP', 6],
  ['ES', 5],
  ['CA', 5],
  ['NL', 4],
  ['SE', 3],
];
const PLANS: readonly [string, number][] = [
  ['free', 70],
  ['pro', 25],
  ['enterprise', 5],
];
const PATHS = ['/', '/pricing', '/docs', '/blog', '/product', '/checkout', '/account', '/search'] as const;
const DEVICES: readonly [string, number][] = [
  ['desktop', 55],
  ['mobile', 40],
  ['tablet', 5],
];

interface EventTemplate {
  type: string;
  stream: string;
  weight: number;
  /** Lognormal value: median and sigma; rounded to `digits`. */
  value: (random: Random) => number;
}

const lognormal = (random: Random, median: number, sigma: number): number => median * Math.exp(sigma * random.normal());

/** Page views dominate, purchases carry money; value = load time (ms), amount (minor units), or 1. */
const TEMPLATES: readonly EventTemplate[] = [
  { type: 'page.view', stream: 'web', weight: 85, value: (r) => Math.round(lognormal(r, 350, 0.6)) },
  { type: 'purchase', stream: 'shop', weight: 12, value: (r) => Math.round(lognormal(r, 4500, 0.9)) },
  { type: 'signup', stream: 'web', weight: 3, value: () => 1 },
];

function weighted<T>(random: Random, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let u = random.next() * total;
  for (const [item, w] of items) {
    u -= w;
    if (u < 0) return item;
  }
  return (items[items.length - 1] as readonly [T, number])[0];
}

/** FNV-1a: a user's country and plan are properties of the user, stable across events and runs. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function checkShare(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be a share in [0, 1], got ${value}`);
  return value;
}

export function tenantIds(tenants: GeneratorOptions['tenants']): string[] {
  if (Array.isArray(tenants)) {
    if (tenants.length === 0) throw new RangeError('at least one tenant is needed');
    return [...tenants];
  }
  const n = (tenants as number | undefined) ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`tenants must be a positive integer, got ${n}`);
  return Array.from({ length: n }, (_, i) => DEFAULT_TENANTS[i] ?? `tenant-${i + 1}`);
}

const DUPLICATE_HISTORY = 1000;

/**
 * An endless, deterministic stream of realistic analytics events. Duplicates repeat an earlier event
 * exactly (same id and payload, as a producer retry would), late ones carry an event time well behind their
 * neighbours, malformed ones break exactly one rule (see MALFORMATIONS).
 */
export class EventGenerator {
  readonly tenants: string[];
  readonly seed: number;
  private readonly random: Random;
  private readonly users: ZipfSampler;
  private readonly tenantSampler: ZipfSampler;
  private readonly shares: { late: number; duplicates: number; malformed: number };
  private readonly startTime: number;
  private readonly rate: number;
  private readonly lateBy: readonly [number, number];
  private readonly history: GeneratedEvent[] = [];
  private index = 0;

  constructor(options: GeneratorOptions = {}) {
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.random = createRandom(this.seed);
    this.tenants = tenantIds(options.tenants);
    const skew = options.skew ?? 1.2;
    this.users = new ZipfSampler(options.users ?? 10_000, skew);
    this.tenantSampler = new ZipfSampler(this.tenants.length, skew);
    this.shares = {
      late: checkShare('late', options.late ?? 0),
      duplicates: checkShare('duplicates', options.duplicates ?? 0),
      malformed: checkShare('malformed', options.malformed ?? 0),
    };
    if (this.shares.late + this.shares.duplicates + this.shares.malformed > 1)
      throw new RangeError('late + duplicates + malformed must not exceed 1');
    this.startTime = options.startTime ?? Date.now();
    this.rate = options.rate ?? 100;
    if (!(this.rate > 0)) throw new RangeError(`rate must be > 0, got ${this.rate}`);
    this.lateBy = options.lateByMs ?? [10_000, 120_000];
  }

  /** How many events were generated so far. */
  get count(): number {
    return this.index;
  }

  next(): GeneratedEvent {
    const time = this.startTime + (this.index * 1000) / this.rate;
    this.index++;
    const u = this.random.next();
    const { malformed, duplicates, late } = this.shares;
    if (u < malformed) return this.malformedEvent(time);
    if (u < malformed + duplicates && this.history.length > 0) {
      const original = this.random.pick(this.history);
      return { ...original, kind: 'duplicate', event: { ...original.event, attributes: { ...original.event.attributes } } };
    }
    const isLate = u >= malformed + duplicates && u < malformed + duplicates + late;
    const eventTime = isLate ? time - this.random.int(this.lateBy[0], this.lateBy[1]) : time;
    const generated: GeneratedEvent = { kind: isLate ? 'late' : 'valid', tenant: this.pickTenant(), event: this.baseEvent(eventTime) };
    generated.event.tenantId = generated.tenant;
    this.remember(generated);
    return generated;
  }

  /** The next `count` events. */
  take(count: number): GeneratedEvent[] {
    return Array.from({ length: count }, () => this.next());
  }

  private pickTenant(): string {
    return this.tenants[this.tenantSampler.sample(this.random) - 1] as string;
  }

  private baseEvent(timeMs: number): WireEvent {
    const template = weighted(
      this.random,
      TEMPLATES.map((t) => [t, t.weight] as const),
    );
    const user = this.users.sample(this.random);
    const userId = `u${String(user).padStart(6, '0')}`;
    const traits = hash32(userId);
    const attributes: Record<string, string> = {
      user_id: userId,
      country: pickBy(COUNTRIES, traits % 1000),
      plan: pickBy(PLANS, (traits >>> 10) % 1000),
      device: weighted(this.random, DEVICES),
    };
    if (template.type === 'page.view') attributes['path'] = this.random.pick(PATHS);
    return {
      tenantId: '',
      streamId: template.stream,
      eventId: this.random.uuid(),
      eventType: template.type,
      occurredAt: new Date(Math.round(timeMs)).toISOString(),
      value: template.value(this.random),
      attributes,
    };
  }

  private malformedEvent(timeMs: number): GeneratedEvent {
    const tenant = this.pickTenant();
    const event = { ...this.baseEvent(timeMs), tenantId: tenant };
    const malformation = this.random.pick(MALFORMATIONS);
    switch (malformation) {
      case 'missing-tenant':
        event.tenantId = '';
        break;
      case 'missing-event-id':
        event.eventId = '';
        break;
      case 'invalid-event-type':
        event.eventType = 'Page View!';
        break;
      case 'future-time':
        event.occurredAt = new Date(timeMs + 2 * 86_400_000).toISOString();
        break;
      case 'ancient-time':
        event.occurredAt = new Date(timeMs - 60 * 86_400_000).toISOString();
        break;
      case 'oversize-attributes':
        event.attributes = { ...event.attributes, note: 'x'.repeat(20_000) };
        break;
      case 'non-numeric-value':
        event.value = 'NaN';
        break;
    }
    return { kind: 'malformed', tenant, event, malformation };
  }

  private remember(event: GeneratedEvent): void {
    if (this.history.length < DUPLICATE_HISTORY) this.history.push(event);
    else this.history[this.random.int(0, DUPLICATE_HISTORY - 1)] = event;
  }
}

/** Picks by a 0..999 position within the weights (deterministic per user). */
function pickBy(items: readonly (readonly [string, number])[], permille: number): string {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let u = (permille / 1000) * total;
  for (const [item, w] of items) {
    u -= w;
    if (u < 0) return item;
  }
  return (items[items.length - 1] as readonly [string, number])[0];
}

/** `count` events from a fresh generator: the library entry point used by tests and benchmarks. */
export function generateEvents(options: GeneratorOptions & { count: number }): GeneratedEvent[] {
  return new EventGenerator(options).take(options.count);
}
