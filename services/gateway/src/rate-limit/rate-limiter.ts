import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@tessera/errors';
import type { FastifyReply } from 'fastify';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import type { RateClass, RateLimits } from './rate-limits';
import { type TakeResult, TokenBuckets } from './token-bucket';

export const RATE_LIMITED = 'HTTP.RATE_LIMITED';

/** The gateway's buckets (see token-bucket.ts for why in-memory and per instance). */
@Injectable()
export class RateLimiter {
  private readonly buckets: TokenBuckets;
  private readonly limits: RateLimits;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.buckets = new TokenBuckets(config.GATEWAY_RATE_LIMIT_MAX_CLIENTS);
    this.limits = config.GATEWAY_RATE_LIMITS;
  }

  /** Spends one token of `client`'s bucket for `cls`, advertising the quota in RateLimit-* headers; 429 when empty. */
  charge(reply: FastifyReply, cls: RateClass, client: string): void {
    const result = this.buckets.take(`${cls}|${client}`, this.limits[cls]);
    void reply
      .header('ratelimit-limit', String(result.limit))
      .header('ratelimit-remaining', String(result.remaining))
      .header('ratelimit-reset', String(result.resetSec));
    if (!result.allowed) throw rateLimited(reply, result);
  }

  /** 429 if `client` has no token left for `cls`, without spending one (auth failures are only charged when they happen). */
  refuseIfExhausted(reply: FastifyReply, cls: RateClass, client: string): void {
    const result = this.buckets.peek(`${cls}|${client}`, this.limits[cls]);
    if (!result.allowed) throw rateLimited(reply, result);
  }

  spend(cls: RateClass, client: string): void {
    this.buckets.take(`${cls}|${client}`, this.limits[cls]);
  }
}

function rateLimited(reply: FastifyReply, result: TakeResult): AppError {
  void reply.header('retry-after', String(result.retryAfterSec));
  return new AppError({
    code: RATE_LIMITED,
    kind: 'RESOURCE_EXHAUSTED',
    message: `Too many requests; retry after ${result.retryAfterSec} s`,
    metadata: { retryAfterSeconds: String(result.retryAfterSec) },
  });
}
