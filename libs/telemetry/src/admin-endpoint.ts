import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { currentLogLevel, isLogLevel, LOG_LEVELS, runtimeLogLevel, setLogLevel } from './log-level';

export interface AdminEndpointOptions {
  host: string;
  port: number;
  /** Serves `GET /metrics` (the Prometheus exporter's handler); omit for an admin port without metrics. */
  metrics?: (request: IncomingMessage, response: ServerResponse) => void;
  /** Reports a failed listen (port taken): the service keeps running, but the failure must be seen. */
  onError: (error: Error) => void;
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
  if (!fromLoopback(req)) return json(res, 403, { code: 'TELEMETRY.ADMIN_LOOPBACK_ONLY', message: 'the log level can be changed from the host itself only' });
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

/**
 * The per-service metrics/admin port: `GET /metrics` (Prometheus text) and `GET|PUT /log-level` (runtime log
 * level of every logger of the process, `{"level":"debug"}`). One port instead of two so the topology's
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
    json(res, 404, { code: 'TELEMETRY.NOT_FOUND', message: 'admin endpoints: GET /metrics, GET|PUT /log-level' });
  });
  server.on('error', options.onError);
  server.listen(options.port, options.host);
  // Never the reason a process stays alive (tests and CLIs exit when their work is done).
  server.unref();
  return server;
}
