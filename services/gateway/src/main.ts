import 'reflect-metadata';
import { authFromEnv } from '@tessera/auth';
import { ConfigError, EX_CONFIG } from '@tessera/config';
import { createLogger } from '@tessera/telemetry';
import { loadGatewayConfig } from './config';
import { createGatewayApp } from './http/app-setup';

async function bootstrap(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway');
  const auth = authOrExit(logger);
  const app = await createGatewayApp(config, auth);
  // SIGTERM/SIGINT: stop accepting, drain in-flight requests (bounded by GATEWAY_SHUTDOWN_GRACE_MS), then close peers.
  app.enableShutdownHooks();
  await app.listen(config.GATEWAY_HTTP_PORT, config.GATEWAY_HTTP_HOST);
  logger.info(
    {
      port: config.GATEWAY_HTTP_PORT,
      issuer: auth.settings.issuer,
      jwks: 'file' in auth.settings.jwks ? auth.settings.jwks.file : auth.settings.jwks.url,
    },
    'gateway listening',
  );
}

/** Token and API key verification from TESSERA_AUTH_* / TESSERA_API_KEYS_FILE; a bad or missing setting stops the boot. */
function authOrExit(logger: ReturnType<typeof createLogger>): ReturnType<typeof authFromEnv> {
  try {
    return authFromEnv(process.env, {
      service: 'gateway',
      onApiKeysReloadError: (err) => logger.error({ err }, 'API key store reload failed; keeping the previous keys'),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return process.exit(EX_CONFIG);
  }
}

void bootstrap();
