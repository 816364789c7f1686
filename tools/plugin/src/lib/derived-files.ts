/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the generator validates the topology and renders docker-compose.yml with the same code as `npx tsx infra/local/compose.ts --write` */
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { generatedFiles } from '../../../../infra/local/compose';
import { parseTopology, REPO_ROOT } from '../../../../infra/local/topology';

export const TOPOLOGY = 'infra/topology.yaml';

/**
 * Validates the topology text (infra/local/topology.ts: every rule `npm run infra` applies) and rewrites what derives
 * from it (docker-compose.yml, its VictoriaMetrics scrape config, Grafana's datasources) in the tree.
 */
export function writeTopologyAndDerived(tree: Tree, text: string): void {
  const topology = parseTopology(text, TOPOLOGY); // throws TopologyError listing every problem
  tree.write(TOPOLOGY, text);
  for (const { file, content } of generatedFiles(topology)) tree.write(path.relative(REPO_ROOT, file), content);
}
