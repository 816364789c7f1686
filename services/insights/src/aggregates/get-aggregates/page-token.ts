import { createHash } from 'node:crypto';
import type { SeriesCursor } from '../aggregate.repository';

/** What a page token carries: the resolution chosen for page 1, the keyset position, and which query it belongs to. */
export interface PageToken extends SeriesCursor {
  resolution: number;
  queryHash: string;
}

/** A short digest of the query's filters; a token presented with other filters is refused. */
export function queryHashOf(filter: object): string {
  return createHash('sha256').update(JSON.stringify(filter)).digest('base64url').slice(0, 16);
}

export function encodePageToken(t: PageToken): string {
  return Buffer.from(JSON.stringify({ v: 1, r: t.resolution, s: t.windowStart.getTime(), k: t.windowKey, q: t.queryHash })).toString(
    'base64url',
  );
}

/** Undefined when the token is not one of ours. */
export function decodePageToken(token: string): PageToken | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { v, r, s, k, q } = raw;
    if (v !== 1 || typeof r !== 'number' || !Number.isInteger(r) || r <= 0 || typeof s !== 'number' || !Number.isFinite(s))
      return undefined;
    if (typeof k !== 'string' || k === '' || typeof q !== 'string') return undefined;
    return { resolution: r, windowStart: new Date(s), windowKey: k, queryHash: q };
  } catch {
    return undefined;
  }
}
