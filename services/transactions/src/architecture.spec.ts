import { describeArchitecture, type LayerRules } from '@tessera/testing';

/** This service's dependency rules (docs/architecture.md; the checks: @tessera/testing layers.ts). */
const RULES: LayerRules = {
  src: __dirname,
  layers: [
    ['config.ts', 'generated', 'platform'], // configuration, the Prisma client, infrastructure providers
    ['ledger', 'pii'], // primitives: the account and its funds rules, money, ids, postings, the write set; PII sealing
    ['audit', 'outbox'], // the hash-chained audit trail, the transactional outbox
    ['journal', 'idempotency'], // one way to write audit + outbox records; idempotent commands
    ['accounts', 'compliance-client'],
    ['holds', 'transfers'],
    ['auth'], // call policies and ownership checks over accounts and transfers
    ['diagnostics'],
  ],
  isEdge: (file) =>
    ['app.module.ts', 'main.ts', 'instrumentation.ts', 'platform/grpc-server.host.ts'].includes(file) ||
    /\.(grpc|consumer|cli)\.ts$/.test(file),
};

/** The domain models and rules: plain TypeScript, no framework, no Prisma. */
const DOMAIN =
  /^(ledger\/(ledger|account|ledger\.errors)|accounts\/account|holds\/(hold|hold\.rules)|transfers\/transfer|audit\/audit-chain)\.ts$/;

describeArchitecture('transactions', RULES, { files: DOMAIN, atLeast: 8 });
