/**
 * The service generator end to end, in a throwaway copy of the repository (tracked and new files, node_modules linked):
 * `nx g @tessera/plugin:service gift-cards` there, then what `npm test` would ask of the new service: it builds (tsc -b)
 * and lints, its unit specs and the repository's topology/compose/env-example checks pass, and its integration spec runs
 * green against the real PostgreSQL and Kafka (gRPC over the generated contract, a consumed event handled, a poison
 * record dead-lettered, the outbox publishing). The real checkout is never touched.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startTestAuth } from '@tessera/auth';
import { kafkaSecurityFromEnv } from '@tessera/kafka';
import { freePort, throwawayDatabase } from '@tessera/testing';
import { Kafka, logLevel } from 'kafkajs';
/* eslint-disable @nx/enforce-module-boundaries -- tools/labs is repo tooling, not an Nx project: workshop lab 5 runs on the generated service */
import { lab5 } from '../../labs/src/lab5-add-a-service';
import type { LabTarget } from '../../labs/src/target';
/* eslint-enable @nx/enforce-module-boundaries */
import { serviceNames } from '../src/lib/service-names';

const REPO = path.resolve(__dirname, '../../..');
const NAME = 'gift-cards';
const STEP_MS = 240_000;

let copy: string;
/** Files the generator edits (and remove-service must restore), as they were in the copy before generating. */
const SHARED = [
  'infra/topology.yaml',
  'docker-compose.yml',
  'infra/victoria-metrics/scrape.compose.yml',
  'infra/k8s/base/kustomization.yaml',
  'infra/k8s/base/kafka.yaml',
  'infra/k8s/base/postgres.yaml',
  'infra/k8s/base/certificates.yaml',
  'infra/k8s/base/network-policies.yaml',
  '.env.example',
  'scripts/env-example.ts',
  'libs/contracts/src/index.ts',
  'libs/contracts/src/descriptor.ts',
  'libs/contracts/src/gen/index.tessera.ts',
  'libs/contracts/src/gen/descriptor.binpb',
  'libs/grpc/src/dev-pki.ts',
  'tests/project.json',
];
const before = new Map<string, Buffer>();

/** Runs `npx <args>` in the copy and returns its stdout and stderr; a failure throws with the end of both. */
function npx(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync('npx', args, {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', CI: 'true', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`npx ${args.join(' ')} exited ${result.status ?? result.signal}:\n${output.slice(-8000)}`);
  return output;
}

/**
 * The checkout's files (git's view: tracked and untracked-but-not-ignored) without node_modules, dist or state; and a
 * node_modules whose entries link to the real one's, except @tessera/*, which point at the copy's own workspaces (a
 * wholesale link would resolve @tessera/contracts to the real checkout, without the new contract).
 */
function copyRepository(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-plugin-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && existsSync(path.join(REPO, f)));
  for (const file of new Set(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(REPO, file), path.join(dir, file), { verbatimSymlinks: true });
  }
  const modules = path.join(dir, 'node_modules');
  mkdirSync(path.join(modules, '@tessera'), { recursive: true });
  for (const entry of readdirSync(path.join(REPO, 'node_modules'))) {
    if (entry !== '@tessera') symlinkSync(path.join(REPO, 'node_modules', entry), path.join(modules, entry));
  }
  const workspaces = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  for (const pattern of workspaces) {
    const folders = pattern.endsWith('/*')
      ? readdirSync(path.join(dir, pattern.slice(0, -2))).map((f) => `${pattern.slice(0, -2)}/${f}`)
      : [pattern];
    for (const folder of folders) {
      const manifest = path.join(dir, folder, 'package.json');
      if (!existsSync(manifest)) continue;
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name;
      symlinkSync(path.join(dir, folder), path.join(modules, name));
    }
  }
  return dir;
}

beforeAll(() => {
  copy = copyRepository();
  for (const file of SHARED) before.set(file, readFileSync(path.join(copy, file)));
  npx(['nx', 'g', '@tessera/plugin:service', NAME, '--no-interactive']);
}, STEP_MS);

afterAll(() => {
  if (copy && !process.env['TESSERA_KEEP_PLUGIN_COPY']) rmSync(copy, { recursive: true, force: true });
});

describe(`nx g @tessera/plugin:service ${NAME} (in a copy of the repository)`, () => {
  it('generates the contract, the Prisma client and a project Nx builds and lints', () => {
    expect(existsSync(path.join(copy, 'libs/contracts/src/gen/tessera/gift_cards/v1/gift_cards.ts'))).toBe(true);
    expect(existsSync(path.join(copy, `services/${NAME}/src/generated/prisma/client.ts`))).toBe(true);
    const project = JSON.parse(/\{[\s\S]*\}/.exec(npx(['nx', 'show', 'project', NAME, '--json']))?.[0] ?? '{}') as {
      tags: string[];
      targets: Record<string, unknown>;
    };
    expect(project.tags).toEqual(expect.arrayContaining([`scope:${NAME}`, 'type:service']));
    expect(Object.keys(project.targets)).toEqual(expect.arrayContaining(['build', 'lint', 'test', 'migrate', 'serve']));
  });

  it(
    'passes buf lint, builds (tsc -b, with the libraries it references) and lints',
    () => {
      npx(['buf', 'lint']);
      npx(['tsc', '-b', `services/${NAME}/tsconfig.app.json`]);
      expect(existsSync(path.join(copy, `services/${NAME}/dist/main.js`))).toBe(true);
      npx(['eslint', `services/${NAME}`, 'libs/contracts/src/index.ts', 'libs/contracts/src/descriptor.ts', 'scripts/env-example.ts']);
    },
    STEP_MS,
  );

  it(
    'keeps the topology, docker-compose.yml, infra/k8s and .env.example checks green',
    () => {
      expect(npx(['tsx', 'infra/local/compose.ts', '--check'])).toMatch(/match infra\/topology\.yaml/);
      expect(npx(['tsx', 'infra/local/k8s.ts', '--check'])).toMatch(/matches infra\/topology\.yaml/);
      expect(npx(['tsx', '--conditions=@tessera/source', 'scripts/env-example.ts'])).toMatch(/documents every variable/);
      expect(execFileSync('git', ['status', '--porcelain'], { cwd: REPO, encoding: 'utf8' })).not.toMatch(new RegExp(NAME));
    },
    STEP_MS,
  );

  it(
    'has a first migration that produces its schema.prisma exactly (migrate, then no drift and no diff)',
    async () => {
      const database = await throwawayDatabase('tessera_plugintest');
      try {
        const env = { GIFT_CARDS_DATABASE_URL: database.url };
        expect(npx(['tsx', 'libs/db/src/cli.ts', 'migrate', '--service', NAME], env)).toMatch(/1 migration\(s\) applied/);
        expect(npx(['tsx', 'libs/db/src/cli.ts', 'drift', '--service', NAME], env)).toMatch(/matches schema\.prisma/);
        expect(npx(['tsx', 'libs/db/src/cli.ts', 'diff', '--service', NAME], env)).toMatch(/nothing to write/);
      } finally {
        await database.drop();
      }
    },
    STEP_MS,
  );

  it(
    "runs the new service's unit specs and the repository's specs it touches",
    () => {
      // The heap-budget specs are left out: a seventh Node service does not fit the 1.7 GB heap budget (tools/plugin/README.md).
      npx([
        'jest',
        '-c',
        'jest.config.cjs',
        '--selectProjects',
        'unit',
        '--ci',
        '--testNamePattern',
        '^(?!.*(platform budget|within 2 GB)).*$',
        '--testPathPatterns',
        `services/${NAME}/`,
        'libs/contracts/',
        'infra/local/(topology|compose|kafka-auth)\\.spec',
        'tests/contract/env-example',
      ]);
    },
    STEP_MS,
  );

  it(
    'runs its integration spec against the real PostgreSQL and Kafka',
    () => {
      // The Kafka credentials (tests/support/kafka-client.setup.ts) and plaintext gRPC of this process carry over.
      const out = npx(
        ['jest', '-c', 'jest.config.cjs', '--selectProjects', 'integration', '--ci', '--runInBand', `services/${NAME}/test`],
        {
          TESSERA_GRPC_PLAINTEXT: 'true',
        },
      );
      expect(out).toMatch(/Tests: +\d+ passed, \d+ total/);
    },
    STEP_MS,
  );

  it(
    'runs as a process and passes workshop lab 5: a request published to it is handled and its event published',
    async () => {
      // What a learner does in docs/workshops/05-add-a-service.md, against this copy: the built service as a process on
      // its own database and the topics the topology gives it, then `npm run lab -- publish` and `check 5`.
      const n = serviceNames(NAME);
      const database = await throwawayDatabase('tessera_pluginlab', path.join(copy, `services/${NAME}/prisma/migrations`));
      const kafka = new Kafka({
        ...kafkaSecurityFromEnv(),
        clientId: 'plugin-lab5',
        brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','),
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      const topics = [n.requestsTopic, n.dlqTopic, n.eventsTopic];
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
      const [grpcPort, metricsPort] = [await freePort(), await freePort()];
      const auth = await startTestAuth();
      const dist = path.join(copy, `services/${NAME}/dist`);
      const child = spawn(process.execPath, ['-r', path.join(dist, 'instrumentation.js'), path.join(dist, 'main.js')], {
        cwd: copy,
        env: {
          ...process.env,
          ...auth.env,
          TESSERA_GRPC_PLAINTEXT: 'true',
          GIFT_CARDS_GRPC_PORT: String(grpcPort),
          GIFT_CARDS_METRICS_PORT: String(metricsPort),
          GIFT_CARDS_DATABASE_URL: database.url,
          GIFT_CARDS_CONSUMER_GROUP: `${n.consumerGroup}-lab5-${process.pid}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      const target = {
        kafka,
        labService: NAME,
        generatedService: (name: string) =>
          name === NAME
            ? {
                root: copy,
                databaseUrl: database.url,
                adminUrl: `http://127.0.0.1:${metricsPort}`,
                requestsTopic: n.requestsTopic,
                eventsTopic: n.eventsTopic,
              }
            : undefined,
      } as unknown as LabTarget;
      try {
        expect((await lab5.check(target, { service: NAME, item: 'nothing published yet' })).some((f) => !f.ok)).toBe(true);
        const flags = await lab5
          .solve(target, () => undefined)
          .catch((error: unknown) => {
            throw new Error(`${(error as Error).message}\nservice output:\n${output.slice(-4000)}`);
          });
        expect((await lab5.check(target, flags)).filter((f) => !f.ok)).toEqual([]);
      } finally {
        child.kill('SIGTERM');
        await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once('exit', done)));
        await admin.deleteTopics({ topics }).catch(() => undefined);
        await admin.disconnect();
        await database.drop();
        auth.close();
      }
    },
    STEP_MS,
  );

  it(
    'is undone by remove-service: the folder, the contract and every shared file as before',
    () => {
      npx(['nx', 'g', '@tessera/plugin:remove-service', NAME, '--no-interactive']);
      expect(existsSync(path.join(copy, `services/${NAME}`))).toBe(false);
      expect(existsSync(path.join(copy, 'libs/contracts/src/gen/tessera/gift_cards'))).toBe(false);
      expect(existsSync(path.join(copy, `infra/k8s/base/${NAME}.yaml`))).toBe(false);
      const changed = SHARED.filter((file) => !readFileSync(path.join(copy, file)).equals(before.get(file) ?? Buffer.alloc(0)));
      expect(changed).toEqual([]);
    },
    STEP_MS,
  );

  it(
    'makes every other option combination a service that builds, lints and passes its unit and integration specs',
    () => {
      const variants: Array<[string, string[]]> = [
        ['no-grpc', ['--grpc=false']],
        ['no-kafka', ['--kafka=false']],
        ['no-db', ['--db=false']],
        ['bare', ['--grpc=false', '--kafka=false', '--db=false']],
      ];
      for (const [name, flags] of variants) npx(['nx', 'g', '@tessera/plugin:service', name, ...flags, '--no-interactive']);
      const names = variants.map(([name]) => name);
      npx(['tsc', '-b', ...names.map((name) => `services/${name}/tsconfig.app.json`)]);
      npx(['eslint', ...names.map((name) => `services/${name}`)]);
      const folders = `services/(${names.join('|')})/`;
      expect(npx(['jest', '-c', 'jest.config.cjs', '--selectProjects', 'unit', '--ci', '--testPathPatterns', folders])).toMatch(
        /Tests: +\d+ passed, \d+ total/,
      );
      expect(
        npx(
          [
            'jest',
            '-c',
            'jest.config.cjs',
            '--selectProjects',
            'integration',
            '--ci',
            '--runInBand',
            '--testPathPatterns',
            `${folders}test/`,
          ],
          {
            TESSERA_GRPC_PLAINTEXT: 'true',
          },
        ),
      ).toMatch(/Tests: +\d+ passed, \d+ total/);
    },
    STEP_MS,
  );
});
