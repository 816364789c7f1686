import { describeArchitecture, type LayerRules } from '@tessera/testing';

/** This service's dependency rules (docs/architecture.md; the checks: @tessera/testing layers.ts). */
const RULES: LayerRules = {
  src: __dirname,
  layers: [
    ['config.ts', 'generated', 'platform', 'rules'], // configuration, the Prisma client, providers; the rule set and reasons
    ['sanctions', 'outbox'], // the sanctions list matcher; the outbox relay (@tessera/outbox)
    ['alerts'], // the review queue: alerts, their events, four-eyes
    ['screening', 'monitoring'], // decisions on a movement (ScreenTransfer) and after the fact (the AML monitor)
    ['auth'], // call policies
  ],
  isEdge: (file) =>
    [
      'app.module.ts',
      'main.ts',
      'instrumentation.ts',
      'compliance.grpc.ts',
      'platform/grpc-server.host.ts',
      'platform/rules.provider.ts',
    ].includes(file) || /\.(grpc|consumer|cli)\.ts$/.test(file),
};

/** The domain models and rules: plain TypeScript, no framework, no Prisma. */
const DOMAIN = /^(alerts\/alert|rules\/(rule-set|reason)|screening\/screening|monitoring\/detectors|sanctions\/[a-z-]+)\.ts$/;

describeArchitecture('compliance', RULES, { files: DOMAIN, atLeast: 8 });
