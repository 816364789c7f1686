import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { formatFiles, generateFiles, type GeneratorCallback, logger, type Tree } from '@nx/devkit';
import { TOPOLOGY, writeTopologyAndDerived } from '../../lib/derived-files';
import { features, serviceNames, type ServiceOptions } from '../../lib/service-names';
import { addToTopology, heapSum } from '../../lib/topology-entry';
import { wireService } from '../../lib/wiring';

/** Template folders (tools/plugin/files/service/<part>), resolved from this file so src and a compiled copy both find them. */
const FILES = path.resolve(__dirname, '../../../files/service');
/** infra/local/topology.spec.ts: services' heaps + broker heap + shared buffers stay within this (MB). */
const HEAP_BUDGET_MB = 1700;

/** `20261205041500`: Prisma's migration folder prefix (UTC). */
function migrationTimestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * `nx g @tessera/plugin:service <name> [--grpc] [--kafka] [--db]`: a service in the house structure (docs/architecture.md),
 * wired into the topology, the contracts, the derived files and every shared list; see tools/plugin/README.md.
 */
export default async function serviceGenerator(tree: Tree, options: ServiceOptions): Promise<GeneratorCallback> {
  const n = serviceNames(options.name);
  const f = features(options);
  const root = `services/${n.name}`;
  if (tree.exists(root)) throw new Error(`${root} exists already`);
  if ((f.grpc || f.kafka) && tree.exists(n.protoFile)) throw new Error(`${n.protoFile} exists already`);

  const before = tree.read(TOPOLOGY, 'utf8');
  if (before === null) throw new Error(`${TOPOLOGY} is missing`);
  const { text, entry } = addToTopology(before, n, f);
  writeTopologyAndDerived(tree, text);

  const vars = {
    ...n,
    ...f,
    grpcPort: entry.grpcPort ?? 0,
    metricsPort: entry.metricsPort,
    migrationTs: migrationTimestamp(),
    configImports: [
      ...(f.kafka ? ['bool', 'brokers'] : []),
      ...(f.outbox ? ['durationMs'] : []),
      'loadConfigOrExit',
      ...(f.grpc ? ['port'] : []),
      ...(f.db ? ['postgresUrl'] : []),
    ].join(', '),
    lowestLayer: ["'config.ts'", ...(f.db ? ["'generated'"] : []), ...(f.grpc || f.db ? ["'platform'"] : [])].join(', '),
    edgeFiles: ["'app.module.ts'", "'main.ts'", "'instrumentation.ts'", ...(f.grpc ? ["'platform/grpc-server.host.ts'"] : [])].join(', '),
    probeClass: f.grpc ? 'GrpcServerHost' : f.kafka ? 'ItemRequestsConsumer' : 'GetItemHandler',
    probeImport: f.grpc ? './platform/grpc-server.host' : f.kafka ? './items/item-requests.consumer' : './items/get-item/get-item.handler',
    tmpl: '',
  };
  const parts = [
    'base',
    ...(f.grpc ? ['grpc'] : []),
    ...(f.kafka ? ['kafka'] : []),
    ...(f.db ? ['db'] : []),
    ...(f.outbox ? ['outbox'] : []),
  ];
  for (const part of parts) generateFiles(tree, path.join(FILES, part), root, vars);
  if (f.grpc || f.kafka) generateFiles(tree, path.join(FILES, 'proto'), 'proto', vars);
  // Files of one combination only.
  if (!f.grpc && !f.kafka) tree.delete(`${root}/src/items/item.codec.ts`);
  if (f.db) tree.delete(`${root}/src/items/item-events.producer.ts`);

  wireService(tree, n, options, entry);
  await formatFiles(tree);

  const heaps = heapSum(text);
  if (heaps > HEAP_BUDGET_MB)
    logger.warn(
      `${TOPOLOGY}: the services' heap caps now sum to ${heaps} MB with Kafka and PostgreSQL, over the ${HEAP_BUDGET_MB} MB ` +
        `budget infra/local/topology.spec.ts checks: lower ${n.name}'s heapMb or another service's, or measure and raise the budget.`,
    );

  return () => {
    // Generated code is committed (scripts/check-generated.sh): the new contract's TypeScript and the Prisma client.
    const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
      execFileSync('npx', args, { cwd: tree.root, stdio: 'inherit', env });
    if (f.grpc || f.kafka) {
      run(['buf', 'generate']);
      run(['buf', 'build', '-o', 'libs/contracts/src/gen/descriptor.binpb']);
    }
    if (f.db) {
      const stub = path.join(tree.root, 'tools/prisma/no-schema-engine.sh');
      run(['prisma', 'generate', '--config', `${root}/prisma/prisma.config.ts`], {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ?? stub,
      });
    }
    logger.info(
      [
        `${n.name}: next steps (tools/plugin/README.md)`,
        '  npm install                                  # links the new workspace package (package-lock.json)',
        '  npm run infra -- certs                       # its mTLS certificate, when it speaks gRPC',
        `  npx nx run ${n.name}:build && npx nx run ${n.name}:lint`,
        `  npx jest -c jest.config.cjs --selectProjects unit --testPathPatterns services/${n.name}`,
      ].join('\n'),
    );
  };
}
