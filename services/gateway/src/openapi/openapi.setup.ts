import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule, CONTROLLERS } from '../app.module';
import { refusingAuthenticators } from '../auth/auth.guard';
import { gatewayConfigSchema } from '../config';
import { OpenApiController } from './openapi.controller';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.document';

/** Where the swagger-ui docs are served (public, like /openapi.json). */
export const DOCS_PATH = 'docs';

export interface DocsOptions {
  /** Serve the swagger-ui page at /docs (default true); /openapi.json is always served. */
  ui?: boolean;
}

/**
 * Builds the OpenAPI document from the application (see buildOpenApiDocument), hands it to GET /openapi.json
 * and serves swagger-ui at /docs. Call before `listen`/`init`: it registers Fastify routes, and it throws when a
 * Nest route is undocumented, so such a gateway does not boot.
 */
export function setupDocs(app: INestApplication, options: DocsOptions = {}): OpenApiDocument {
  const document = buildOpenApiDocument(app, CONTROLLERS);
  app.get(OpenApiController).serve(document);
  if (options.ui ?? true) {
    // swagger-ui (bundled by @nestjs/swagger, assets via @fastify/static): external scripts and inline styles
    // only, so helmet's default CSP (script-src 'self', style-src 'unsafe-inline') lets it run. The document
    // is embedded in /docs/swagger-ui-init.js; raw definitions stay at /openapi.json alone.
    SwaggerModule.setup(DOCS_PATH, app, document, {
      raw: false,
      customSiteTitle: 'Tessera gateway API',
      swaggerOptions: { persistAuthorization: false, tryItOutEnabled: false },
    });
  }
  return document;
}

/**
 * The gateway's modules and routes without serving anything: Nest's preview mode resolves them but instantiates
 * no provider, so no gRPC, Kafka or key files are touched. For the snapshot and tests.
 */
export function previewApp(): Promise<INestApplication> {
  return NestFactory.create(AppModule.forRoot(gatewayConfigSchema.parse({}), refusingAuthenticators()), new FastifyAdapter(), {
    preview: true,
    logger: ['error'],
    abortOnError: false,
  });
}

/** The document of the code as it stands, without a running gateway. */
export async function documentFromCode(): Promise<OpenApiDocument> {
  const app = await previewApp();
  try {
    return buildOpenApiDocument(app, CONTROLLERS);
  } finally {
    await app.close();
  }
}
