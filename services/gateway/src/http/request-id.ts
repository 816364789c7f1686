import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An inbound id is kept only when it is short and plain (a proxy's UUID or trace-like token), so it can go into
 * logs and problem bodies without letting a client inject newlines, markup or megabytes there.
 */
const SANE = /^[A-Za-z0-9._:-]{8,128}$/;

/** Fastify's `genReqId`: the caller's `X-Request-Id` when sane, otherwise a fresh UUID. */
export function requestIdOf(req: Pick<IncomingMessage, 'headers'>): string {
  const raw = req.headers[REQUEST_ID_HEADER];
  const inbound = Array.isArray(raw) ? raw[0] : raw;
  return inbound !== undefined && SANE.test(inbound) ? inbound : randomUUID();
}

/** The problem+json `instance`: names this occurrence (the request), not the resource, and never carries the query string. */
export function problemInstanceOf(requestId: string): string {
  return `urn:tessera:request:${requestId}`;
}
