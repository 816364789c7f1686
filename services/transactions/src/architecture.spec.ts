import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The dependency rules of this service (docs/architecture.md), checked on every import under src/:
 *  - use cases (a concept's sub-folder, e.g. transfers/create-transfer/) may use any concept's domain, never another
 *    use case; domain files (a concept's top-level files) never import a use case;
 *  - domain folders import only their own layer or lower ones (and never both ways within a layer);
 *  - the edges (the gRPC faces `*.grpc.ts`, Kafka consumers `*.consumer.ts`, operator CLIs `*.cli.ts`, the Nest
 *    module, main, instrumentation and the gRPC server host) may import anything: they are where it is all wired.
 */
const LAYERS: string[][] = [
  ['config.ts', 'generated', 'platform'], // configuration, the Prisma client, infrastructure providers
  ['ledger', 'pii'], // primitives: money, ids, funds rules, postings, the write set; PII sealing
  ['audit', 'outbox'], // the hash-chained audit trail, the transactional outbox
  ['journal', 'idempotency'], // one way to write audit + outbox records; idempotent commands
  ['accounts', 'compliance-client'],
  ['holds', 'transfers'],
  ['auth'], // call policies and ownership checks over accounts and transfers
  ['diagnostics'],
];
const layerOf = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
const SRC = __dirname;
const isEdge = (file: string) =>
  ['app.module.ts', 'main.ts', 'instrumentation.ts', 'platform/grpc-server.host.ts'].includes(file) ||
  /\.(grpc|consumer|cli)\.ts$/.test(file);
const concept = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : file);
const isUseCase = (file: string) => file.split('/').length >= 3 && concept(file) !== 'generated';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [relative(SRC, path)] : [];
  });
}

function violations(): string[] {
  const out: string[] = [];
  for (const file of sources(SRC)) {
    if (isEdge(file)) continue;
    for (const [, spec] of readFileSync(join(SRC, file), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = `${normalize(join(dirname(file), spec as string))}.ts`;
      const [from, to] = [concept(file), concept(target)];
      if (isUseCase(target) && dirname(target) !== dirname(file)) out.push(`${file} -> ${target}: imports a use case`);
      else if (isUseCase(file) || from === to) continue;
      else if ((layerOf.get(to) ?? 99) > (layerOf.get(from) ?? 99)) out.push(`${file} -> ${target}: ${to} is above ${from}`);
    }
  }
  // Within a layer, folders may depend on each other one way only.
  const pairs = new Set<string>();
  for (const file of sources(SRC).filter((f) => !isEdge(f) && !isUseCase(f))) {
    for (const [, spec] of readFileSync(join(SRC, file), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = concept(`${normalize(join(dirname(file), spec as string))}.ts`);
      if (to !== concept(file) && layerOf.get(to) === layerOf.get(concept(file))) pairs.add(`${concept(file)} -> ${to}`);
    }
  }
  for (const pair of pairs) {
    const [a, b] = pair.split(' -> ');
    if (pairs.has(`${b} -> ${a}`)) out.push(`${pair}: both ways within one layer`);
  }
  return out;
}

/** The domain models and rules: plain TypeScript, no framework, no Prisma. */
const DOMAIN =
  /^(ledger\/(ledger|account|ledger\.errors)|accounts\/account|holds\/(hold|hold\.rules)|transfers\/transfer|audit\/audit-chain)\.ts$/;

describe('transactions dependency rules (docs/architecture.md)', () => {
  it('keeps the framework and Prisma out of the domain models and rules', () => {
    const domain = sources(SRC).filter((f) => DOMAIN.test(f));
    expect(domain.length).toBeGreaterThanOrEqual(8);
    const leaks = domain.flatMap((file) =>
      [...readFileSync(join(SRC, file), 'utf8').matchAll(/from '([^']+)'/g)]
        .map((m) => m[1] as string)
        .filter((spec) => spec.startsWith('@nestjs/') || spec.startsWith('@prisma/') || spec.includes('generated/'))
        .map((spec) => `${file} -> ${spec}`),
    );
    expect(leaks).toEqual([]);
  });

  it('holds for every import under src/', () => {
    expect(violations()).toEqual([]);
  });

  it('knows every top-level folder (a new one needs a layer)', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory() || n === 'config.ts');
    expect(folders.filter((f) => !layerOf.has(f))).toEqual([]);
  });
});
