import { AppError } from '@tessera/errors';
import type { FastifyInstance } from 'fastify';

/** A string holding an unpaired UTF-16 surrogate (from a `\ud800` escape): it has no UTF-8 form, so storing it changes it. */
const LONE_SURROGATE = /\p{Surrogate}/u;

const invalidUtf8 = (message: string) => new AppError({ code: 'HTTP.INVALID_UTF8', kind: 'INVALID_ARGUMENT', message });

/** True when every string in `value` (object keys included) is well-formed Unicode. */
export function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.every(wellFormed);
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (LONE_SURROGATE.test(k) || !wellFormed(v)) return false;
  }
  return true;
}

/**
 * JSON request bodies, decoded strictly: bytes that are not UTF-8, and `\ud800`-style escapes of unpaired surrogates,
 * are refused with 400 `HTTP.INVALID_UTF8`. Fastify's parser decoded invalid bytes to U+FFFD and PostgreSQL stored lone
 * surrogates as U+FFFD too: a transfer's description was silently changed (issue #13), where ingest refuses the same
 * input (`INGEST.INVALID_UTF8`). After decoding, Fastify's own JSON parser runs (prototype-poisoning checks included).
 */
export function registerStrictJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decoder.decode(body as Buffer);
    } catch {
      done(invalidUtf8('The request body is not valid UTF-8'), undefined);
      return;
    }
    parse(request, text, (err: Error | null, value?: unknown) => {
      if (err) done(err, undefined);
      else if (!wellFormed(value))
        done(invalidUtf8('The request body holds an unpaired UTF-16 surrogate (a \\ud800-\\udfff escape): it is not text'), undefined);
      else done(null, value);
    });
  });
}

/** True when every percent-encoded part of the query string decodes to well-formed UTF-8 text. */
export function queryIsUtf8(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0 || !url.includes('%', q)) return true;
  for (const part of url.slice(q + 1).split('&')) {
    try {
      if (LONE_SURROGATE.test(decodeURIComponent(part.replace(/\+/g, ' ')))) return false;
    } catch {
      return false; // a malformed escape or bytes that are not UTF-8 (decodeURIComponent refuses both)
    }
  }
  return true;
}

/**
 * Query strings likewise: Fastify's parser kept a parameter whose escapes are not UTF-8 (`?ownerId=a%FFb`) as the raw
 * text `a%FFb`, a value the client never meant. Refused before the route with 400 `HTTP.INVALID_UTF8`.
 */
export function registerStrictQuery(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (queryIsUtf8(request.url)) done();
    else done(invalidUtf8('The query string holds percent-escapes that are not UTF-8 text'));
  });
}
