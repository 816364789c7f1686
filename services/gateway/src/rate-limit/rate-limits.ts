import { SetMetadata } from '@nestjs/common';
import { z } from 'zod';
import type { BucketPolicy } from './token-bucket';

/**
 * Route classes, each with its own bucket per client: reads are cheap and frequent, writes move money, ingest is
 * machine traffic in batches, live holds a connection open, public covers health/docs per IP, and `auth-failure`
 * counts bad credentials per IP (so guessing tokens or keys is slowed down before any verification work).
 */
export const RATE_CLASSES = ['public', 'read', 'write', 'ingest', 'live', 'auth-failure'] as const;
export type RateClass = (typeof RATE_CLASSES)[number];
export type RateLimits = Record<RateClass, BucketPolicy>;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  public: { capacity: 300, periodMs: 60_000 },
  read: { capacity: 600, periodMs: 60_000 },
  write: { capacity: 120, periodMs: 60_000 },
  ingest: { capacity: 1200, periodMs: 60_000 },
  live: { capacity: 30, periodMs: 60_000 },
  'auth-failure': { capacity: 20, periodMs: 60_000 },
};

const ENTRY = /^([a-z-]+)=(\d+)\/(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `GATEWAY_RATE_LIMITS`, e.g. `read=600/60s,write=120/1m`: `<class>=<burst>/<period>`; unnamed classes keep their default. */
export const rateLimitsSchema = z
  .string()
  .optional()
  .transform((raw, ctx): RateLimits => {
    const limits: RateLimits = { ...DEFAULT_RATE_LIMITS };
    for (const entry of (raw ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '')) {
      const match = ENTRY.exec(entry);
      const cls = match?.[1] as RateClass | undefined;
      if (!match || !cls || !RATE_CLASSES.includes(cls)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not <class>=<burst>/<period> with class one of ${RATE_CLASSES.join(', ')} (e.g. read=600/60s)`,
        });
        return z.NEVER;
      }
      const capacity = Number(match[2]);
      const periodMs = Number(match[3]) * UNIT_MS[match[4] as keyof typeof UNIT_MS];
      if (capacity < 1 || periodMs < 1) {
        ctx.addIssue({ code: 'custom', message: `"${entry}": burst and period must be positive` });
        return z.NEVER;
      }
      limits[cls] = { capacity, periodMs };
    }
    return limits;
  });

export const RATE_CLASS_KEY = 'tessera:rate-class';

/** Puts a route in a class other than the one its HTTP method implies (GET = read, else write). */
export const RateLimitClass = (cls: Exclude<RateClass, 'auth-failure'>): ClassDecorator & MethodDecorator =>
  SetMetadata(RATE_CLASS_KEY, cls);

export function rateClassOf(httpMethod: string, isPublic: boolean, explicit: RateClass | undefined): RateClass {
  if (explicit) return explicit;
  if (isPublic) return 'public';
  return httpMethod === 'GET' || httpMethod === 'HEAD' ? 'read' : 'write';
}
