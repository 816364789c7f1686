import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { defaultAuthDir } from '@tessera/auth';
import { AppError } from '@tessera/errors';
import type { FastifyReply } from 'fastify';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { Public } from '../auth/auth.decorators';

/** services/console/dist, seen from services/gateway/{src,dist}/console. */
export const DEFAULT_CONSOLE_DIR = resolve(__dirname, '../../../console/dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
/** One flat folder of built files: a name with a slash or a leading dot never reaches the file system. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;

/** What the page needs to know from the server; keys appear only outside production, from the dev issuer's demo credentials. */
export interface ConsoleConfigView {
  tenantId: string;
  paymentsTenantId: string;
  apiKey: string | null;
  paymentsApiKey: string | null;
  traceUrlTemplate: string | null;
  refreshMs: number;
}

/** Plaintext demo API keys per tenant from `dev-credentials.json` (written by `npm run auth -- init`, mode 0600, never committed). */
export function devApiKeysOf(file: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { apiKeys?: Record<string, { key?: unknown }> };
    const keys: Record<string, string> = {};
    for (const [tenant, entry] of Object.entries(parsed.apiKeys ?? {})) if (typeof entry.key === 'string') keys[tenant] = entry.key;
    return keys;
  } catch {
    return {}; // no dev issuer initialised: the console asks for ?apiKey=
  }
}

export function consoleConfigOf(config: GatewayConfig, devKeys: Record<string, string> = {}): ConsoleConfigView {
  const dev = config.NODE_ENV !== 'production';
  return {
    tenantId: config.GATEWAY_CONSOLE_TENANT,
    paymentsTenantId: config.GATEWAY_CONSOLE_PAYMENTS_TENANT,
    apiKey: dev ? (devKeys[config.GATEWAY_CONSOLE_TENANT] ?? null) : null,
    paymentsApiKey: dev ? (devKeys[config.GATEWAY_CONSOLE_PAYMENTS_TENANT] ?? null) : null,
    traceUrlTemplate: config.TESSERA_TRACE_URL ?? null,
    refreshMs: 5000,
  };
}

/**
 * The web console's built files (services/console, `nx run console:build`) at /console. Static files, not
 * REST resources: kept out of CONTROLLERS and so out of the OpenAPI document.
 */
@Public()
@Controller('console')
export class ConsoleAssetsController {
  private readonly dir: string;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.dir = config.GATEWAY_CONSOLE_DIR ?? DEFAULT_CONSOLE_DIR;
  }

  @Get()
  async index(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(await this.read('index.html'));
  }

  @Get('config.json')
  configJson(): ConsoleConfigView {
    // Never read in production; re-read per request so `npm run auth -- init` after boot is picked up.
    const file = this.config.GATEWAY_CONSOLE_DEV_CREDENTIALS_FILE ?? join(defaultAuthDir(), 'dev-credentials.json');
    return consoleConfigOf(this.config, this.config.NODE_ENV === 'production' ? {} : devApiKeysOf(file));
  }

  @Get('assets/:name')
  async asset(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    const type = ASSET_NAME.test(name) ? TYPES[name.slice(name.lastIndexOf('.'))] : undefined;
    if (!type) throw notFound(name);
    // Names are not content-hashed, so browsers revalidate rather than keep a stale build for long.
    await reply.header('cache-control', 'no-cache').type(type).send(await this.read(join('assets', name)));
  }

  private async read(file: string): Promise<Buffer> {
    try {
      return await readFile(join(this.dir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (file === 'index.html') {
        throw new AppError({
          code: 'CONSOLE.NOT_BUILT',
          kind: 'UNAVAILABLE',
          message: 'The console is not built: run "npx nx run console:build" (or set GATEWAY_CONSOLE_DIR)',
        });
      }
      throw notFound(file);
    }
  }
}

function notFound(name: string): AppError {
  return new AppError({ code: 'CONSOLE.ASSET_NOT_FOUND', kind: 'NOT_FOUND', message: 'No such console file', metadata: { name: name.slice(0, 64) } });
}
