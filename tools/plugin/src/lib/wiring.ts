import type { Tree } from '@nx/devkit';
import { features, type ServiceNames, type ServiceOptions } from './service-names';

/**
 * The shared files that list every service by hand, and the line each holds for one service. Each edit is exact and
 * reversible (remove-service undoes it); a file that no longer has its anchor fails loudly with the file's name.
 */

const CONTRACTS_INDEX = 'libs/contracts/src/index.ts';
const EVENT_TYPES = 'libs/contracts/src/descriptor.ts';
const ENV_EXAMPLE_SCRIPT = 'scripts/env-example.ts';
const ENV_EXAMPLE = '.env.example';
const DEV_PKI = 'libs/grpc/src/dev-pki.ts';
const E2E_PROJECT = 'tests/project.json';

function read(tree: Tree, file: string): string {
  const text = tree.read(file, 'utf8');
  if (text === null) throw new Error(`${file} is missing`);
  return text;
}

function insertAfterLast(text: string, file: string, match: RegExp, line: string): string {
  const lines = text.split('\n');
  const at = lines
    .map((l, i) => (match.test(l) ? i : -1))
    .filter((i) => i >= 0)
    .pop();
  if (at === undefined) throw new Error(`${file}: no line matches ${match} to insert after`);
  lines.splice(at + 1, 0, line);
  return lines.join('\n');
}

function withoutLines(text: string, drop: (line: string) => boolean): string {
  return text
    .split('\n')
    .filter((l) => !drop(l))
    .join('\n');
}

const contractsExport = (n: ServiceNames) => `export * as ${n.contractsNs} from './gen/index.${n.protoPackage}';`;
const eventTypeLines = (n: ServiceNames) => [
  `  ${n.className}ItemRequested: '${n.protoPackage}.${n.className}ItemRequested',`,
  `  ${n.className}ItemCreated: '${n.protoPackage}.${n.className}ItemCreated',`,
];
const envImport = (n: ServiceNames) => `import { ${n.propertyName}ConfigSchema } from '../services/${n.name}/src/config';`;
const envEntry = (n: ServiceNames) => `    ['${n.name}', ${n.propertyName}ConfigSchema],`;

/** The `.env.example` section of the service: every variable its config schema and the runtime read, with defaults. */
export function envExampleSection(n: ServiceNames, options: ServiceOptions, ports: { grpcPort?: number }): string {
  const f = features(options);
  const c = n.constantName;
  return [
    `## [${n.name}] services/${n.name} (scaffolded by @tessera/plugin:service)`,
    ...(f.grpc ? [`# ${c}_GRPC_PORT=${ports.grpcPort}`, `# ${c}_GRPC_HOST=127.0.0.1`] : []),
    ...(f.db
      ? ['# [secret]', `# ${c}_DATABASE_URL=postgresql://tessera:<password>@127.0.0.1:55432/${n.database}`, `# ${c}_DB_POOL_MAX=5`]
      : []),
    ...(f.kafka
      ? [
          `# ${c}_CONSUMER_ENABLED=true`,
          `# ${c}_CONSUMER_GROUP=${n.consumerGroup}`,
          `# ${c}_REQUESTS_TOPIC=${n.requestsTopic}`,
          `# ${c}_EVENTS_TOPIC=${n.eventsTopic}`,
        ]
      : []),
    ...(f.outbox ? [`# ${c}_OUTBOX_POLL_MS=500`, `# ${c}_OUTBOX_RETENTION_MS=86400000`] : []),
    `# ${c}_METRICS_PORT=`,
    `# ${c}_METRICS_HOST=`,
    ...(f.grpc ? [`# ${c}_TLS_CERT_FILE=`, '# [secret]', `# ${c}_TLS_KEY_FILE=<path to ${n.name}.key>`] : []),
    '',
  ].join('\n');
}

/** Adds the service to every shared list: contracts, event type names, .env.example and its check, mTLS identities, e2e deps. */
export function wireService(tree: Tree, n: ServiceNames, options: ServiceOptions, ports: { grpcPort?: number }): void {
  const f = features(options);
  if (f.grpc || f.kafka) {
    tree.write(
      CONTRACTS_INDEX,
      insertAfterLast(read(tree, CONTRACTS_INDEX), CONTRACTS_INDEX, /^export \* as \w+V\d+ from /, contractsExport(n)),
    );
  }
  if (f.kafka) {
    const text = read(tree, EVENT_TYPES);
    const end = text.indexOf('} as const;');
    if (end < 0) throw new Error(`${EVENT_TYPES}: eventTypeName's closing "} as const;" not found`);
    tree.write(EVENT_TYPES, `${text.slice(0, end)}${eventTypeLines(n).join('\n')}\n${text.slice(end)}`);
  }

  let script = insertAfterLast(
    read(tree, ENV_EXAMPLE_SCRIPT),
    ENV_EXAMPLE_SCRIPT,
    /^import \{ \w+ConfigSchema \} from '\.\.\/services\//,
    envImport(n),
  );
  script = insertAfterLast(script, ENV_EXAMPLE_SCRIPT, /^ {4}\['[a-z0-9-]+', \w+ConfigSchema\],$/, envEntry(n));
  tree.write(ENV_EXAMPLE_SCRIPT, script);

  const env = read(tree, ENV_EXAMPLE);
  const tools = env.indexOf('## [tools]');
  const section = envExampleSection(n, options, ports);
  tree.write(ENV_EXAMPLE, tools < 0 ? `${env.replace(/\n*$/, '\n\n')}${section}` : `${env.slice(0, tools)}${section}\n${env.slice(tools)}`);

  if (f.grpc) {
    const pki = read(tree, DEV_PKI);
    const next = pki.replace(/(export const DEV_TLS_IDENTITIES = \[[^\]]*?)(, 'loadgen'\] as const;)/, `$1, '${n.name}'$2`);
    if (next === pki) throw new Error(`${DEV_PKI}: DEV_TLS_IDENTITIES (ending in 'loadgen') not found`);
    tree.write(DEV_PKI, next);
  }

  // The e2e project builds every service first (a line edit keeps the file's own layout).
  if (tree.exists(E2E_PROJECT)) {
    const text = read(tree, E2E_PROJECT);
    if (!text.includes(`"${n.name}"`)) tree.write(E2E_PROJECT, text.replace(/("implicitDependencies": \[[^\]]*)\]/, `$1, "${n.name}"]`));
  }
}

/** Undoes wireService (whatever of it is present). */
export function unwireService(tree: Tree, n: ServiceNames): void {
  if (tree.exists(CONTRACTS_INDEX))
    tree.write(
      CONTRACTS_INDEX,
      withoutLines(read(tree, CONTRACTS_INDEX), (l) => l === contractsExport(n)),
    );
  if (tree.exists(EVENT_TYPES)) {
    const drop = new Set(eventTypeLines(n));
    tree.write(
      EVENT_TYPES,
      withoutLines(read(tree, EVENT_TYPES), (l) => drop.has(l)),
    );
  }
  if (tree.exists(ENV_EXAMPLE_SCRIPT))
    tree.write(
      ENV_EXAMPLE_SCRIPT,
      withoutLines(read(tree, ENV_EXAMPLE_SCRIPT), (l) => l === envImport(n) || l === envEntry(n)),
    );
  if (tree.exists(ENV_EXAMPLE)) {
    const env = read(tree, ENV_EXAMPLE);
    const start = env.indexOf(`## [${n.name}] `);
    if (start >= 0) {
      const next = env.indexOf('\n## [', start + 1);
      tree.write(ENV_EXAMPLE, next < 0 ? env.slice(0, start).replace(/\n+$/, '\n') : env.slice(0, start) + env.slice(next + 1));
    }
  }
  if (tree.exists(DEV_PKI)) tree.write(DEV_PKI, read(tree, DEV_PKI).replace(new RegExp(`, '${n.name}'(?=[,\\]])`), ''));
  if (tree.exists(E2E_PROJECT)) tree.write(E2E_PROJECT, read(tree, E2E_PROJECT).replace(`, "${n.name}"`, ''));
}
