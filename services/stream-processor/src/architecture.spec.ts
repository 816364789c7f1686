import { describeArchitecture, type LayerRules } from '@tessera/testing';

/** This service's dependency rules (docs/architecture.md; the checks: @tessera/testing layers.ts). */
const RULES: LayerRules = {
  src: __dirname,
  layers: [
    ['sketches'], // DDSketch and HyperLogLog, the reference of both stages
    ['windowing', 'config.ts'], // window specs, keys and state
    ['processing'], // decoding, dedupe, partition state
    ['payments', 'replay'], // payment metrics; the DLQ / time-range replay
    ['kafka'], // the exactly-once runner, changelog, metrics and tracing
  ],
  isEdge: (file) => ['composition.ts', 'main.ts', 'instrumentation.ts'].includes(file) || /\.(grpc|consumer|cli)\.ts$/.test(file),
};

describeArchitecture('stream-processor', RULES);
