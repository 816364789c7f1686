/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the spec checks the generated entry with the topology's own validation */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { logger, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parseTopology, REPO_ROOT } from '../../../../../infra/local/topology';
import { generatedFiles } from '../../../../../infra/local/compose';
import removeServiceGenerator from '../remove-service/generator';
import serviceGenerator from './generator';

/** The repository files the generators read or edit, copied into an in-memory tree (nothing on disk changes). */
const SHARED = [
  'infra/topology.yaml',
  'docker-compose.yml',
  'infra/victoria-metrics/scrape.compose.yml',
  'infra/grafana/provisioning/datasources/tessera.yml',
  '.env.example',
  'libs/contracts/src/index.ts',
  'libs/contracts/src/descriptor.ts',
  'scripts/env-example.ts',
  'libs/grpc/src/dev-pki.ts',
  'tests/project.json',
  '.prettierrc.json',
  '.prettierignore',
];

function repoTree(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  tree.delete('.oxfmtrc.json'); // the empty workspace's formatter; this repository formats with prettier
  // The root manifest too: formatFiles picks the workspace's formatter (prettier) from it.
  for (const file of [...SHARED, 'package.json']) tree.write(file, readFileSync(path.join(REPO_ROOT, file), 'utf8'));
  return tree;
}

const filesUnder = (tree: Tree, dir: string): string[] => {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const child of tree.children(d)) {
      const p = `${d}/${child}`;
      if (tree.isFile(p)) out.push(p.slice(dir.length + 1));
      else walk(p);
    }
  };
  walk(dir);
  return out.sort();
};

// The heap-budget warning is expected here (tools/plugin/README.md); keep the output to failures.
beforeAll(() => jest.spyOn(logger, 'warn').mockImplementation(() => undefined));

describe('serviceGenerator', () => {
  describe('with --grpc --kafka --db (the defaults)', () => {
    let tree: Tree;

    beforeAll(async () => {
      tree = repoTree();
      await serviceGenerator(tree, { name: 'loyalty' });
    }, 60_000);

    it('writes the house structure', () => {
      const files = filesUnder(tree, 'services/loyalty').map((f) =>
        f.replace(/^prisma\/migrations\/\d{14}_init\//, 'prisma/migrations/<ts>_init/'),
      );
      expect(files).toEqual([
        'README.md',
        'package.json',
        'prisma/migrations/<ts>_init/migration.sql',
        'prisma/migrations/migration_lock.toml',
        'prisma/prisma.config.ts',
        'prisma/schema.prisma',
        'project.json',
        'src/app.module.spec.ts',
        'src/app.module.ts',
        'src/architecture.spec.ts',
        'src/auth/auth.provider.ts',
        'src/auth/loyalty.policy.spec.ts',
        'src/auth/loyalty.policy.ts',
        'src/config.ts',
        'src/instrumentation.ts',
        'src/items/create-item/create-item.handler.ts',
        'src/items/get-item/get-item.handler.ts',
        'src/items/item-events.ts',
        'src/items/item-requests.consumer.ts',
        'src/items/item.codec.ts',
        'src/items/item.errors.ts',
        'src/items/item.repository.ts',
        'src/items/item.spec.ts',
        'src/items/item.ts',
        'src/items/items.grpc.ts',
        'src/main.ts',
        'src/outbox/outbox.relay.ts',
        'src/outbox/outbox.source.ts',
        'src/platform/grpc-server.host.ts',
        'src/platform/prisma.provider.ts',
        'test/loyalty.int-spec.ts',
        'test/support/harness.ts',
        'tsconfig.app.json',
        'tsconfig.json',
      ]);
      expect(tree.read('proto/tessera/loyalty/v1/loyalty.proto', 'utf8')).toMatch(
        /package tessera\.loyalty\.v1;[\s\S]*service LoyaltyService \{/,
      );
    });

    it('adds a valid topology entry: free ports, its database, its topics with the DLQ beside them, its ACL lists', () => {
      const topology = parseTopology(tree.read('infra/topology.yaml', 'utf8') ?? '');
      const before = parseTopology(readFileSync(path.join(REPO_ROOT, 'infra/topology.yaml'), 'utf8'));
      const service = topology.services.find((s) => s.name === 'loyalty');
      expect(service).toMatchObject({
        kind: 'grpc',
        runtime: 'node',
        database: 'tessera_loyalty',
        produces: ['loyalty.item.events.v1', 'loyalty.item.requests.v1.dlq'],
        consumes: ['loyalty.item.requests.v1'],
      });
      expect(before.services.map((s) => s.port)).not.toContain(service?.port);
      expect(before.services.map((s) => s.metricsPort)).not.toContain(service?.metricsPort);
      expect(topology.postgres.databases).toContainEqual({ name: 'tessera_loyalty', service: 'loyalty' });
      expect(topology.topics.find((t) => t.name === 'loyalty.item.requests.v1.dlq')).toMatchObject({ dlqFor: 'loyalty.item.requests.v1' });
      // Everything else stays as it was, line for line.
      expect(topology.services.filter((s) => s.name !== 'loyalty')).toEqual(before.services);
    });

    it('regenerates docker-compose.yml, its siblings and infra/k8s from the new topology', () => {
      const topology = parseTopology(tree.read('infra/topology.yaml', 'utf8') ?? '');
      for (const { file, content } of generatedFiles(topology)) expect(tree.read(path.relative(REPO_ROOT, file), 'utf8')).toBe(content);
      expect(tree.read('docker-compose.yml', 'utf8')).toMatch(/\n {2}loyalty:\n/);
      expect(tree.read('infra/k8s/base/loyalty.yaml', 'utf8')).toMatch(/kind: Deployment/);
      expect(tree.read('infra/k8s/base/kustomization.yaml', 'utf8')).toContain('loyalty.yaml');
    });

    it('wires the shared lists: contracts, event type names, .env.example and its check, mTLS identities', () => {
      expect(tree.read('libs/contracts/src/index.ts', 'utf8')).toContain("export * as loyaltyV1 from './gen/index.tessera.loyalty.v1';");
      expect(tree.read('libs/contracts/src/descriptor.ts', 'utf8')).toContain(
        "LoyaltyItemCreated: 'tessera.loyalty.v1.LoyaltyItemCreated',",
      );
      expect(tree.read('scripts/env-example.ts', 'utf8')).toContain("['loyalty', loyaltyConfigSchema],");
      expect(tree.read('.env.example', 'utf8')).toMatch(/## \[loyalty\][^\n]*\n# LOYALTY_GRPC_PORT=\d+\n/);
      expect(tree.read('libs/grpc/src/dev-pki.ts', 'utf8')).toContain("'insights', 'loyalty', 'loadgen']");
    });

    it('refuses a service that exists', async () => {
      await expect(serviceGenerator(tree, { name: 'loyalty' })).rejects.toThrow(/exists already/);
    });
  });

  describe('with --grpc=false --kafka=false --db=false', () => {
    it('writes a worker without proto, database or topics', async () => {
      const tree = repoTree();
      await serviceGenerator(tree, { name: 'fraud-score', grpc: false, kafka: false, db: false });
      const files = filesUnder(tree, 'services/fraud-score');
      expect(files).not.toContain('src/platform/grpc-server.host.ts');
      expect(files.filter((f) => f.startsWith('prisma/') || f.startsWith('src/outbox/'))).toEqual([]);
      expect(tree.exists('proto/tessera/fraud_score')).toBe(false);
      const service = parseTopology(tree.read('infra/topology.yaml', 'utf8') ?? '').services.find((s) => s.name === 'fraud-score');
      expect(service).toMatchObject({ kind: 'worker', produces: [], consumes: [] });
      expect(service?.port).toBeUndefined();
      expect(tree.read('services/fraud-score/src/config.ts', 'utf8')).toContain('export const fraudScoreConfigSchema');
    });
  });

  it('refuses a name that is not lower-case kebab', async () => {
    await expect(serviceGenerator(repoTree(), { name: 'Loyalty_Points' })).rejects.toThrow(/lower-case kebab/);
  });
});

describe('removeServiceGenerator', () => {
  it('puts every shared file back as it was', async () => {
    const tree = repoTree();
    await serviceGenerator(tree, { name: 'loyalty' });
    await removeServiceGenerator(tree, { name: 'loyalty' });
    for (const file of SHARED)
      expect({ file, text: tree.read(file, 'utf8') }).toEqual({ file, text: readFileSync(path.join(REPO_ROOT, file), 'utf8') });
    expect(tree.exists('services/loyalty')).toBe(false);
    expect(tree.exists('proto/tessera/loyalty')).toBe(false);
  }, 60_000);
});
