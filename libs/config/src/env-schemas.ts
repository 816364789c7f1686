import { z } from 'zod';

/**
 * zod schemas for the value shapes every service reads from its environment. Each parses the raw
 * string, reports a reason an operator can act on, and declares an example that ConfigError prints.
 */

function issue(ctx: z.RefinementCtx<string>, input: string, message: string): never {
  ctx.addIssue({ code: 'custom', message, input });
  return z.NEVER;
}

const PORT_REASON = 'must be an integer port between 0 and 65535';

function parsePort(raw: string): number | undefined {
  if (!/^\d{1,5}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= 65535 ? n : undefined;
}

/** A TCP port to listen on. 0 is allowed (the OS picks a free port, which tests rely on). */
export function port() {
  return z
    .string()
    .trim()
    .transform((raw, ctx) => parsePort(raw) ?? issue(ctx, raw, PORT_REASON))
    .meta({ examples: ['8080'] });
}

/** `host:port` of a peer (`<SERVICE>_ADDR`), e.g. `127.0.0.1:50051` or `[::1]:50051`; kept as a string. */
export function hostPort() {
  return z
    .string()
    .trim()
    .transform((raw, ctx) => (isHostPort(raw) ? raw : issue(ctx, raw, 'must be host:port with a port between 1 and 65535')))
    .meta({ examples: ['127.0.0.1:50051'] });
}

function isHostPort(raw: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  if (!match) return false;
  const p = parsePort(match[2] ?? '');
  return p !== undefined && p > 0;
}

/** A PostgreSQL connection URL with host and database name; kept as a string for the driver. */
export function postgresUrl() {
  return z
    .string()
    .trim()
    .transform((raw, ctx) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return issue(ctx, raw, 'must be a URL like postgresql://user:password@host:port/database');
      }
      if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
        return issue(ctx, raw, `must use the postgresql:// scheme, not ${url.protocol}//`);
      }
      if (!url.hostname) return issue(ctx, raw, 'must name a host');
      if (url.pathname.length <= 1) return issue(ctx, raw, 'must name a database (the URL path)');
      return raw;
    })
    .meta({ examples: ['postgresql://tessera:tessera@127.0.0.1:55432/tessera_transactions'] });
}

/** Comma-separated Kafka bootstrap servers (`KAFKA_BROKERS`) as a list of host:port. */
export function brokers() {
  return z
    .string()
    .transform((raw, ctx) => {
      const list = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (list.length === 0) return issue(ctx, raw, 'must list at least one host:port');
      const bad = list.filter((b) => !isHostPort(b));
      if (bad.length > 0) return issue(ctx, raw, `every broker must be host:port; invalid entries: ${bad.length}`);
      return list;
    })
    .meta({ examples: ['127.0.0.1:19092,127.0.0.1:19094'] });
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A non-negative duration in milliseconds: `1500` (ms), `1500ms`, `2s`, `1.5m`, `1h`. */
export function durationMs() {
  return z
    .string()
    .trim()
    .transform((raw, ctx) => {
      const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(raw);
      if (!match) return issue(ctx, raw, 'must be a duration like 1500, 1500ms, 2s, 5m or 1h');
      const ms = Number(match[1]) * (DURATION_UNITS_MS[(match[2] ?? 'ms').toLowerCase()] ?? 1);
      return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : issue(ctx, raw, 'is too large');
    })
    .meta({ examples: ['5s'] });
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A boolean flag: true/false, 1/0, yes/no, on/off (any case). Anything else is an error, not false. */
export function bool() {
  return z
    .string()
    .trim()
    .transform((raw, ctx) => {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      return issue(ctx, raw, 'must be true or false (also 1/0, yes/no, on/off)');
    })
    .meta({ examples: ['true'] });
}
