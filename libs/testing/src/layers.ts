import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The folder rules of a service (docs/architecture.md), for its `src/architecture.spec.ts`:
 *  - a use case (a concept's sub-folder, e.g. transfers/create-transfer/) may use any concept's domain but never another
 *    use case, and domain files (a concept's top-level files) never import a use case;
 *  - a domain folder imports only its own layer or lower ones, and two folders of one layer never import each other
 *    both ways;
 *  - edges (transport adapters and wiring: `isEdge`) may import anything.
 */
export interface LayerRules {
  /** The service's src/ directory. */
  src: string;
  /** Top-level folders (and root files such as `config.ts`), lowest layer first. */
  layers: string[][];
  /** Files that wire or adapt (gRPC faces, consumers, the Nest module, main): exempt. Paths relative to `src`. */
  isEdge: (file: string) => boolean;
}

/** Source files under `dir` relative to `root`, without specs and generated code. */
export function sourceFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' || name === 'gen' ? [] : sourceFiles(root, path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [relative(root, path)] : [];
  });
}

const concept = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : file);
const isUseCase = (file: string) => file.split('/').length >= 3 && concept(file) !== 'generated';
const relativeImports = (src: string, file: string) =>
  [...readFileSync(join(src, file), 'utf8').matchAll(/from '(\.[^']+)'/g)].map(
    (m) => `${normalize(join(dirname(file), m[1] as string))}.ts`,
  );

/** Every import that breaks the rules, as `<file> -> <target>: <why>`; [] when they hold. */
export function layerViolations(rules: LayerRules): string[] {
  const layerOf = new Map(rules.layers.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
  const files = sourceFiles(rules.src).filter((f) => !rules.isEdge(f));
  const out: string[] = [];
  const pairs = new Set<string>();
  for (const file of files) {
    for (const target of relativeImports(rules.src, file)) {
      const [from, to] = [concept(file), concept(target)];
      if (isUseCase(target) && dirname(target) !== dirname(file)) out.push(`${file} -> ${target}: imports a use case`);
      else if (isUseCase(file) || from === to) continue;
      else if ((layerOf.get(to) ?? 99) > (layerOf.get(from) ?? 99)) out.push(`${file} -> ${target}: ${to} is above ${from}`);
      else if (layerOf.get(to) === layerOf.get(from)) pairs.add(`${from} -> ${to}`);
    }
  }
  for (const pair of pairs) {
    const [a, b] = pair.split(' -> ');
    if (pairs.has(`${b} -> ${a}`)) out.push(`${pair}: both ways within one layer`);
  }
  return out;
}

/** Top-level folders (and `config.ts`) of `src` that no layer names: a new one needs a place. */
export function unlayered(rules: LayerRules): string[] {
  const known = new Set(rules.layers.flat());
  return readdirSync(rules.src).filter((n) => (statSync(join(rules.src, n)).isDirectory() || n === 'config.ts') && !known.has(n));
}

/** `<file> -> <module>` for each import of the framework, Prisma or generated code in the files `domain` matches. */
export function frameworkImports(src: string, domain: RegExp): { files: string[]; leaks: string[] } {
  const files = sourceFiles(src).filter((f) => domain.test(f));
  const leaks = files.flatMap((file) =>
    [...readFileSync(join(src, file), 'utf8').matchAll(/from '([^']+)'/g)]
      .map((m) => m[1] as string)
      .filter((spec) => spec.startsWith('@nestjs/') || spec.startsWith('@prisma/') || spec.includes('generated/'))
      .map((spec) => `${file} -> ${spec}`),
  );
  return { files, leaks };
}
