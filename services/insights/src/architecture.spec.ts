import { type LayerRules, layerViolations, unlayered } from '@tessera/testing';

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

describe('insights dependency rules (docs/architecture.md)', () => {
  it('holds for every import under src/', () => {
    expect(layerViolations(RULES)).toEqual([]);
  });

  it('knows every top-level folder (a new one needs a layer)', () => {
    expect(unlayered(RULES)).toEqual([]);
  });
});
