import { describeArchitecture, type LayerRules } from '@tessera/testing';

/** This service's dependency rules (docs/architecture.md; the checks: @tessera/testing layers.ts). */
const RULES: LayerRules = {
  src: __dirname,
  layers: [
    ['config.ts', 'platform'],
    ['events'], // what an accepted event is and how it is checked
    ['publishing', 'auth'], // the Kafka link and raw-topic records; call policies
    ['ingest'], // the ingest use cases (unary and streaming batches)
  ],
  isEdge: (file) =>
    ['app.module.ts', 'main.ts', 'instrumentation.ts', 'platform/grpc-server.host.ts'].includes(file) ||
    /\.(grpc|consumer|cli)\.ts$/.test(file),
};

describeArchitecture('ingest', RULES);
