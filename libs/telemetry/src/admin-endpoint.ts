import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { activeFaults, FAULT_NAMES, FaultRefusedError, isFaultName, setFault, type FaultSpec } from './faults';
import { currentLogLevel, isLogLevel, LOG_LEVELS, runtimeLogLevel, setLogLevel } from './log-level';

export interface AdminEndpointOptions {
  host: string;
  port: number;
  /** Serves `GET /metrics` (the Prometheus exporter's handler); omit for an admin port without metrics. */
  metrics?: (request: IncomingMessage, response: ServerResponse) => void;
  /** Reports a failed listen (port taken): the service keeps running, but the failure must be seen. */
  onError: (error: Error) => void;
  /** The environment (NODE_ENV, TESSERA_ADMIN_TOKEN_FILE); default process.env. */
  env?: NodeJS.ProcessEnv;
}

const MAX_BODY = 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Loopback peers only may change the level: with `<SERVICE>_METRICS_HOST=0.0.0.0` the port is reachable by scrapers. */
function fromLoopback(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress ?? '';
  return peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function logLevel(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET') return json(res, 200, { level: currentLogLevel(), runtime: runtimeLogLevel() !== undefined });
  if (req.method !== 'PUT') {
    res.setHeader('allow', 'GET, PUT');
    return json(res, 405, { code: 'TELEMETRY.METHOD_NOT_ALLOWED', message: 'use GET or PUT' });
  }
  if (!fromLoopback(req))
    return json(res, 403, { code: 'TELEMETRY.ADMIN_LOOPBACK_ONLY', message: 'the log level can be changed from the host itself only' });
  let body: unknown;
  try {
    body = await readJson(req);
  } catch {
    return json(res, 400, { code: 'TELEMETRY.INVALID_BODY', message: 'expected a JSON body like {"level":"debug"}' });
  }
  const level = (body as { level?: unknown } | null)?.level;
  if (!isLogLevel(level)) {
    return json(res, 400, { code: 'TELEMETRY.INVALID_LOG_LEVEL', message: `level must be one of ${LOG_LEVELS.join(', ')}` });
  }
  const loggers = setLogLevel(level);
  json(res, 200, { level, loggers });
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Changing faults takes `Authorization: Bearer <admin token>` from the host itself: the token is the content of
 * TESSERA_ADMIN_TOKEN_FILE (`npm run infra -- up` makes `.tessera/auth/admin-token`, 0600), read on each call so a
 * rotated file applies at once. No file configured: nobody may.
 */
function adminAuthorized(req: IncomingMessage, env: NodeJS.ProcessEnv): string | undefined {
  if (!fromLoopback(req)) return 'fault injection can be switched from the host itself only';
  const file = env['TESSERA_ADMIN_TOKEN_FILE'];
  if (!file) return 'no admin token is configured (TESSERA_ADMIN_TOKEN_FILE)';
  let expected: string;
  try {
    expected = readFileSync(file, 'utf8').trim();
  } catch {
    return 'the admin token file cannot be read';
  }
  const sent = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!sent || expected === '' || !timingSafeEqual(digest(sent), digest(expected)))
    return 'send Authorization: Bearer <admin token> (npm run infra -- faults does)';
  return undefined;
}

async function faults(req: IncomingMessage, res: ServerResponse, env: NodeJS.ProcessEnv): Promise<void> {
  if (!fromLoopback(req))
    return json(res, 403, { code: 'FAULTS.LOOPBACK_ONLY', message: 'fault injection is visible from the host itself only' });
  if (req.method === 'GET') return json(res, 200, { faults: activeFaults(), names: FAULT_NAMES });
  if (req.method !== 'PUT' && req.method !== 'DELETE') {
    res.setHeader('allow', 'GET, PUT, DELETE');
    return json(res, 405, { code: 'FAULTS.METHOD_NOT_ALLOWED', message: 'use GET, PUT or DELETE' });
  }
  const refused = adminAuthorized(req, env);
  if (refused) return json(res, 401, { code: 'FAULTS.UNAUTHORIZED', message: refused });
  try {
    if (req.method === 'DELETE') {
      const name = new URL(req.url ?? '/', 'http://admin').searchParams.get('name');
      if (!isFaultName(name)) return json(res, 400, { code: 'FAULTS.UNKNOWN', message: `name must be one of ${FAULT_NAMES.join(', ')}` });
      setFault(name, undefined, env);
      return json(res, 200, { faults: activeFaults() });
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return json(res, 400, {
        code: 'FAULTS.INVALID_BODY',
        message: 'expected a JSON body like {"name":"db","delayMs":200,"errorRate":0.1,"durationSec":60}',
      });
    }
    const { name, ...spec } = (body ?? {}) as { name?: unknown } & FaultSpec;
    if (!isFaultName(name)) return json(res, 400, { code: 'FAULTS.UNKNOWN', message: `name must be one of ${FAULT_NAMES.join(', ')}` });
    setFault(name, spec, env);
    return json(res, 200, { faults: activeFaults() });
  } catch (error) {
    if (error instanceof FaultRefusedError)
      return json(res, error.code === 'FAULTS.REFUSED_IN_PRODUCTION' ? 403 : 400, { code: error.code, message: error.message });
    throw error;
  }
}

/**
 * The per-service metrics/admin port: `GET /metrics` (Prometheus text), `GET|PUT /log-level` (runtime log
 * level of every logger of the process, `{"level":"debug"}`) and `GET|PUT|DELETE /faults` (faults.ts). One port instead of two so the topology's
 * `metricsPort` stays the only per-service admin port; loopback by default (see prometheusEndpoint).
 */
export function startAdminEndpoint(options: AdminEndpointOptions): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && options.metrics && req.method === 'GET') return options.metrics(req, res);
    if (path === '/log-level') {
      logLevel(req, res).catch((error: unknown) => json(res, 500, { code: 'TELEMETRY.ADMIN_FAILED', message: (error as Error).message }));
      return;
    }
    if (path === '/faults') {
      faults(req, res, options.env ?? process.env).catch((error: unknown) =>
        json(res, 500, { code: 'TELEMETRY.ADMIN_FAILED', message: (error as Error).message }),
      );
      return;
    }
    json(res, 404, { code: 'TELEMETRY.NOT_FOUND', message: 'admin endpoints: GET /metrics, GET|PUT /log-level, GET|PUT|DELETE /faults' });
  });
  server.on('error', options.onError);
  server.listen(options.port, options.host);
  // Never the reason a process stays alive (tests and CLIs exit when their work is done).
  server.unref();
  return server;
}
