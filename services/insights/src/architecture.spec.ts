import { describeArchitecture, type LayerRules } from '@tessera/testing';

/** This service's dependency rules (docs/architecture.md; the checks: @tessera/testing layers.ts). */
const RULES: LayerRules = {
  src: __dirname,
  layers: [
    ['config.ts', 'generated', 'platform'], // configuration, the Prisma client, infrastructure providers
    ['aggregates'], // the read model: windows, their revisions, queries
    ['live'], // the live feed of applied revisions
    ['auth'], // call policies
  ],
  isEdge: (file) =>
    ['app.module.ts', 'main.ts', 'instrumentation.ts', 'platform/grpc-server.host.ts'].includes(file) ||
    /\.(grpc|consumer|cli)\.ts$/.test(file),
};

describeArchitecture('insights', RULES);
