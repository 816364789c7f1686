import { execFileSync } from 'node:child_process';
import { formatFiles, type GeneratorCallback, logger, type Tree } from '@nx/devkit';
import { TOPOLOGY, writeTopologyAndDerived } from '../../lib/derived-files';
import { serviceNames } from '../../lib/service-names';
import { removeFromTopology } from '../../lib/topology-entry';
import { unwireService } from '../../lib/wiring';

/**
 * `nx g @tessera/plugin:remove-service <name>`: undoes the service generator: the service's folder, its proto package,
 * its topology entry (with its database and the topics only it used) and its lines in the shared lists; regenerates the
 * derived files. Data is not touched: drop the database and delete the topics on a running platform yourself.
 */
export default async function removeServiceGenerator(tree: Tree, options: { name: string }): Promise<GeneratorCallback> {
  const n = serviceNames(options.name);
  const root = `services/${n.name}`;
  if (!tree.exists(`${root}/project.json`)) throw new Error(`${root} is not a service (no project.json)`);

  const before = tree.read(TOPOLOGY, 'utf8');
  if (before === null) throw new Error(`${TOPOLOGY} is missing`);
  const { text, removedTopics } = removeFromTopology(before, n.name);
  writeTopologyAndDerived(tree, text);
  tree.delete(root);
  const protoDir = `proto/tessera/${n.snake}`;
  const hadProto = tree.exists(protoDir);
  if (hadProto) tree.delete(protoDir);
  unwireService(tree, n);
  await formatFiles(tree);

  return () => {
    if (hadProto) {
      execFileSync('npx', ['buf', 'generate'], { cwd: tree.root, stdio: 'inherit' });
      execFileSync('npx', ['buf', 'build', '-o', 'libs/contracts/src/gen/descriptor.binpb'], { cwd: tree.root, stdio: 'inherit' });
    }
    logger.info(
      [
        `${n.name} removed. Left to do by hand (data is never deleted by a generator):`,
        '  npm install                      # unlinks the workspace package (package-lock.json)',
        ...(removedTopics.length > 0
          ? [`  topics no longer declared: ${removedTopics.join(', ')} (delete them on a running broker if wanted)`]
          : []),
        `  DROP DATABASE ${n.database};     # if it had one and you want the data gone`,
      ].join('\n'),
    );
  };
}
