import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
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

/**
 * What the page needs to know from the server, served to anyone: no credential ever. It used to carry the demo
 * tenants' API keys outside production, so `GET /console/config.json` without a credential handed out working keys
 * (issue #13). The keys now reach the page only in the address fragment `npm run up` prints to the operator
 * (`#token=...&apiKey=...&paymentsKey=...`: a fragment never reaches a server or its logs), or typed by the user.
 */
export interface ConsoleConfigView {
  tenantId: string;
  paymentsTenantId: string;
  traceUrlTemplate: string | null;
  refreshMs: number;
}

export function consoleConfigOf(config: GatewayConfig): ConsoleConfigView {
  return {
    tenantId: config.GATEWAY_CONSOLE_TENANT,
    paymentsTenantId: config.GATEWAY_CONSOLE_PAYMENTS_TENANT,
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
    await reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(await this.read('index.html'));
  }

  @Get('config.json')
  configJson(): ConsoleConfigView {
    return consoleConfigOf(this.config);
  }

  @Get('assets/:name')
  async asset(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    const type = ASSET_NAME.test(name) ? TYPES[name.slice(name.lastIndexOf('.'))] : undefined;
    if (!type) throw notFound(name);
    // Names are not content-hashed, so browsers revalidate rather than keep a stale build for long.
    await reply
      .header('cache-control', 'no-cache')
      .type(type)
      .send(await this.read(join('assets', name)));
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
  return new AppError({
    code: 'CONSOLE.ASSET_NOT_FOUND',
    kind: 'NOT_FOUND',
    message: 'No such console file',
    metadata: { name: name.slice(0, 64) },
  });
}
