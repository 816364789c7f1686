/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the generator validates the topology and renders what derives from it with the same code as `infra/local/compose.ts --write` and `infra/local/k8s.ts --write` */
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { generatedFiles } from '../../../../infra/local/compose';
import { renderK8s } from '../../../../infra/local/k8s';
import { parseTopology, REPO_ROOT } from '../../../../infra/local/topology';

export const TOPOLOGY = 'infra/topology.yaml';
const K8S = 'infra/k8s';

/** Every file under `dir` in the tree (relative to `dir`). */
function filesIn(tree: Tree, dir: string): string[] {
  if (!tree.exists(dir)) return [];
  return tree.children(dir).flatMap((child) => {
    const p = `${dir}/${child}`;
    return tree.isFile(p) ? [child] : filesIn(tree, p).map((f) => `${child}/${f}`);
  });
}

/**
 * Validates the topology text (infra/local/topology.ts: every rule `npm run infra` applies) and rewrites what derives
 * from it in the tree: docker-compose.yml, its VictoriaMetrics scrape config and Grafana's datasources
 * (infra/local/compose.ts), and the Kubernetes base and overlays under infra/k8s (infra/local/k8s.ts; a file it no
 * longer renders, such as a removed service's, is deleted).
 */
export function writeTopologyAndDerived(tree: Tree, text: string): void {
  const topology = parseTopology(text, TOPOLOGY); // throws TopologyError listing every problem
  tree.write(TOPOLOGY, text);
  for (const { file, content } of generatedFiles(topology)) tree.write(path.relative(REPO_ROOT, file), content);
  const k8s = renderK8s(topology);
  for (const part of ['base', 'overlays']) {
    for (const rel of filesIn(tree, `${K8S}/${part}`)) if (!k8s.has(`${part}/${rel}`)) tree.delete(`${K8S}/${part}/${rel}`);
  }
  for (const [rel, content] of k8s) tree.write(`${K8S}/${rel}`, content);
}
