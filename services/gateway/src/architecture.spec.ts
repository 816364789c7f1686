import { describeArchitecture, type LayerRules } from '@tessera/testing';

/**
 * The gateway's dependency rules (docs/architecture.md; the checks: @tessera/testing layers.ts). A folder per API
 * concept (controller, DTOs, mapping) over the shared HTTP, auth and peer plumbing. `config.ts` composes the features'
 * schemas (rate limits) and `openapi/` documents every route: both are wiring, exempt like the module and main.
 */
const RULES: LayerRules = {
  src: __dirname,
  layers: [
    ['config.ts', 'rate-limit', 'peers'], // configuration; rate limiting; the gRPC clients of the services behind
    ['auth'], // who calls (JWT, API keys) and which route class it is
    ['http'], // problem+json, pipes, request ids, security headers
    ['accounts', 'audit', 'compliance', 'console', 'events', 'health', 'insights', 'pings', 'transfers'],
    ['holds', 'live'], // holds show their capture transfer; the live feed reuses the insights views
    ['openapi'],
  ],
  isEdge: (file) =>
    ['app.module.ts', 'main.ts', 'instrumentation.ts', 'config.ts', 'http/app-setup.ts'].includes(file) || file.startsWith('openapi/'),
};

describeArchitecture('gateway', RULES);
