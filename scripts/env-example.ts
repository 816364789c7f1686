/**
 * Keeps .env.example honest: every variable a service reads is documented there, under its section, exactly
 * once, and nothing stale is. Variables come from the services' zod config schemas (services/<svc>/src/config.ts),
 * @tessera/auth's authEnvSchema, libs/grpc's mTLS variables, libs/telemetry's and the Go processor's config.go,
 * so a new config key without a line in .env.example fails `npm test` (tests/contract/env-example.spec.ts).
 * Documented defaults must equal the schema's; values of `[secret]` variables must be placeholders (`<...>`).
 *
 * `node --conditions=@tessera/source node_modules/tsx/dist/cli.mjs scripts/env-example.ts [--list] [--file <path>]`
 * (`--list` prints what the sources read; `--file` checks another file, for the tests). Exit 1 lists each problem.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authEnvSchema } from '@tessera/auth';
import { DEV_TLS_IDENTITIES } from '@tessera/grpc';
import { kafkaSecurityEnvSchema } from '@tessera/kafka';
import { complianceConfigSchema } from '../services/compliance/src/config';
import { gatewayConfigSchema } from '../services/gateway/src/config';
import { ingestConfigSchema } from '../services/ingest/src/config';
import { insightsConfigSchema } from '../services/insights/src/config';
import { streamProcessorConfigSchema } from '../services/stream-processor/src/config';
import { transactionsConfigSchema } from '../services/transactions/src/config';

const ROOT = join(__dirname, '..');

interface ZodLike {
  def: { type: string; defaultValue?: unknown; in?: ZodLike; innerType?: ZodLike };
}
interface ObjectLike {
  shape: Record<string, ZodLike>;
}

/** A schema's default as it would be written in the environment, when it is a plain value. */
function defaultOf(schema: ZodLike): string | undefined {
  const { def } = schema;
  if (def.type === 'default') {
    const v = def.defaultValue;
    if (Array.isArray(v)) return v.join(',');
    // Paths inside the checkout differ per machine: documented as <repo>/...
    return ['string', 'number', 'boolean'].includes(typeof v) ? String(v).replace(ROOT, '<repo>') : undefined;
  }
  if (def.type === 'pipe' && def.in) return defaultOf(def.in);
  return undefined;
}

interface Variable {
  name: string;
  default?: string;
}
/** Where a variable is read; `section` is the .env.example heading it belongs under. */
interface Source {
  section: string;
  vars: Variable[];
}

const prefixOf = (service: string) => service.toUpperCase().replace(/-/g, '_');
const fromSchema = (schema: unknown, except: ReadonlySet<string>): Variable[] =>
  Object.entries((schema as ObjectLike).shape)
    .filter(([name]) => !except.has(name))
    .map(([name, s]) => ({ name, default: defaultOf(s) }));
const names = (...list: string[]): Variable[] => list.map((name) => ({ name }));

const AUTH = new Set(Object.keys(authEnvSchema.shape));
const TLS_SHARED = ['TESSERA_TLS_DIR', 'TESSERA_TLS_CA_FILE', 'TESSERA_GRPC_PLAINTEXT'];
/** Read by several services: documented once, in the shared section. */
const SHARED = new Set(['NODE_ENV', 'KAFKA_BROKERS', ...AUTH]);
const perServiceRuntime = (service: string): Variable[] => {
  const p = prefixOf(service);
  const tls = (DEV_TLS_IDENTITIES as readonly string[]).includes(service) ? names(`${p}_TLS_CERT_FILE`, `${p}_TLS_KEY_FILE`) : [];
  return [...names(`${p}_METRICS_PORT`, `${p}_METRICS_HOST`), ...tls];
};

/** Variables of the Go processor: `Prefix+"NAME"` and plain `"KAFKA_BROKERS"` lookups in its config.go. */
function goProcessorVars(): Variable[] {
  const src = readFileSync(join(ROOT, 'services/stream-processor-go/internal/config/config.go'), 'utf8');
  const found = new Set([...src.matchAll(/Prefix\s*\+\s*"([A-Z0-9_]+)"/g)].map((m) => `STREAM_PROCESSOR_GO_${m[1]}`));
  return [...found].map((name) => ({ name }));
}

export function sources(): Source[] {
  const services: Array<[string, unknown]> = [
    ['gateway', gatewayConfigSchema],
    ['transactions', transactionsConfigSchema],
    ['compliance', complianceConfigSchema],
    ['ingest', ingestConfigSchema],
    ['insights', insightsConfigSchema],
    ['stream-processor', streamProcessorConfigSchema],
  ];
  return [
    {
      section: 'shared',
      vars: [
        ...names('NODE_ENV', 'LOG_LEVEL', 'KAFKA_BROKERS'),
        ...fromSchema(kafkaSecurityEnvSchema, new Set()),
        ...fromSchema(authEnvSchema, new Set()),
        ...names('TESSERA_AUTH_DIR', 'TESSERA_ADMIN_TOKEN_FILE'),
        ...names(...TLS_SHARED),
        ...names(
          'OTEL_SERVICE_NAME',
          'OTEL_EXPORTER_OTLP_ENDPOINT',
          'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
          'OTEL_TRACES_SAMPLER',
          'OTEL_TRACES_SAMPLER_ARG',
          'TESSERA_TRACES_KEEP_PER_SECOND',
          'TESSERA_TRACES_SLOW_MS',
          'OTEL_EXPORTER_PROMETHEUS_PORT',
          'OTEL_EXPORTER_PROMETHEUS_HOST',
          'DEPLOYMENT_ENVIRONMENT',
        ),
      ],
    },
    ...services.map(([service, schema]) => ({ section: service, vars: [...fromSchema(schema, SHARED), ...perServiceRuntime(service)] })),
    { section: 'stream-processor-go', vars: goProcessorVars() },
    {
      section: 'tools',
      vars: [
        ...names('GATEWAY_URL', 'LOADGEN_TARGET', 'TESSERA_TOPOLOGY'),
        ...perServiceRuntime('loadgen').filter((v) => v.name.includes('_TLS_')),
      ],
    },
  ];
}

interface Documented {
  name: string;
  section: string;
  value: string;
  secret: boolean;
  line: number;
}

/** `## [section] Title` opens a section; `# NAME=value` or `NAME=value` documents a variable; `[secret]` in the comment above marks it. */
export function parseEnvExample(text: string): Documented[] {
  const out: Documented[] = [];
  let section = '';
  let comment: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const heading = /^##\s*\[([a-z0-9-]+)\]/.exec(line);
    const variable = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (heading) {
      section = heading[1] ?? '';
      comment = [];
    } else if (variable) {
      out.push({
        name: variable[1] ?? '',
        section,
        value: (variable[2] ?? '').trim(),
        secret: comment.some((c) => c.includes('[secret]')),
        line: i + 1,
      });
      comment = [];
    } else if (line.startsWith('#')) {
      comment.push(line);
    } else {
      comment = [];
    }
  });
  return out;
}

export function check(text: string, from: Source[]): string[] {
  const problems: string[] = [];
  const documented = parseEnvExample(text);
  const expected = new Map<string, { sections: Set<string>; default?: string }>();
  for (const source of from) {
    for (const v of source.vars) {
      const entry = expected.get(v.name) ?? { sections: new Set<string>() };
      entry.sections.add(source.section);
      entry.default ??= v.default;
      expected.set(v.name, entry);
    }
  }
  const seen = new Map<string, Documented>();
  for (const d of documented) {
    const want = expected.get(d.name);
    if (seen.has(d.name)) problems.push(`${d.name} (line ${d.line}) is documented twice (first on line ${seen.get(d.name)?.line})`);
    seen.set(d.name, d);
    if (!want) {
      problems.push(`${d.name} (line ${d.line}) is read by nothing: remove it, or add its source to scripts/env-example.ts`);
      continue;
    }
    if (!want.sections.has(d.section))
      problems.push(`${d.name} (line ${d.line}) belongs under ## [${[...want.sections].join('] or [')}], not [${d.section}]`);
    if (d.secret && d.value !== '' && !/<[^>]+>/.test(d.value))
      problems.push(`${d.name} (line ${d.line}) is [secret]: leave it empty or use a <placeholder>, never a value`);
    if (!d.secret && want.default !== undefined && d.value !== want.default)
      problems.push(`${d.name} (line ${d.line}) shows "${d.value}" but the default is "${want.default}"`);
  }
  for (const [name, want] of expected) {
    if (!seen.has(name))
      problems.push(
        `${name} is missing: document it under ## [${[...want.sections][0]}]${want.default === undefined ? '' : ` (default ${want.default})`}`,
      );
  }
  return problems;
}

function main(): number {
  const from = sources();
  if (process.argv.includes('--list')) {
    for (const s of from) console.log(`## [${s.section}]\n${s.vars.map((v) => `# ${v.name}=${v.default ?? ''}`).join('\n')}\n`);
    return 0;
  }
  const fileArg = process.argv.indexOf('--file');
  const file = fileArg > 0 ? (process.argv[fileArg + 1] ?? '') : join(ROOT, '.env.example');
  const problems = check(readFileSync(file, 'utf8'), from);
  if (problems.length) {
    console.error(`env-example: .env.example is out of date with the config schemas:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.log('env-example: .env.example documents every variable the services read');
  return 0;
}

if (require.main === module) process.exitCode = main();
