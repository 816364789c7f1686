/**
 * Local infrastructure without Docker: `npm run infra -- <command>` (or `npx tsx infra/local/cli.ts <command>`).
 *   up [--brokers 1|3] [--only <component>] [--no-observability] [--timeout <s>]
 *                                                                start (idempotent) and create dbs/topics (+ mTLS certs);
 *                                                                components: postgres, kafka, observability (Zipkin +
 *                                                                VictoriaMetrics, skipped with --no-observability)
 *   certs [--force]                                              dev CA + per-service mTLS certificates in .tessera/tls,
 *                                                                Kafka SCRAM passwords in .tessera/kafka/auth (for Compose)
 *   down [--only <component>]                                    stop services (unless --only), then the rest
 *   status                                                       table of components and services (exit 3 if unhealthy)
 *   logs [postgres|kafka|kafka-<id>|zipkin|victoria-metrics|<service>] [-f]   show or follow logs
 *   services up|down [<service>...] [--timeout <s>]              built services as Node processes, peers first
 *   services status | services logs <service> [-f]
 *   reset [--only <component>]                                   down + wipe Tessera's state dir (.tessera/)
 *   env <service>                                                print the env a service needs (KEY=value)
 *   kafka-env [principal]                                        the Kafka client env of a principal (default tessera-admin):
 *                                                                `set -a; source <(npm run -s infra -- kafka-env); set +a`
 *   kafka-properties [principal]                                 write its Java client config (kafka-tools --command-config)
 *   faults <service> [list | off <fault> | <fault> k=v...]       runtime fault toggles of a running service (faults.ts)
 *   compare-stages                                               TESSERA_AGGREGATE_STAGE=both: the TS and Go stages' final windows,
 *                                                                field by field (compare-stages.ts; exit 1 if any differs)
 * TESSERA_TOPOLOGY=<file> selects another topology (default infra/topology.yaml).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { ensureCerts } from './certs';
import { InfraError, TopologyError } from './errors';
import { ensureAdminToken, faultsCommand } from './faults';
import { LocalKafka } from './kafka';
import {
  ensurePassword,
  KAFKA_ADMIN_PRINCIPAL,
  kafkaAuthDir,
  kafkaClientEnv,
  kafkaPrincipals,
  passwordFile,
  writeJavaClientProperties,
} from './kafka-auth';
import { LocalPostgres } from './postgres';
import { LocalServices } from './services';
import { LocalVictoriaMetrics } from './victoria-metrics';
import { LocalZipkin } from './zipkin';
import { formatStatusTable } from './status';
import { reserveListenPorts } from './proc';
import { allListenPorts, kafkaBrokers, layoutForBrokers, loadTopology, REPO_ROOT, serviceEnv, type Topology } from './topology';

const COMPONENTS = ['postgres', 'kafka', 'observability'] as const;
type Component = (typeof COMPONENTS)[number];

interface Args {
  command: string;
  positional: string[];
  brokers: number;
  only?: Component;
  follow: boolean;
  force: boolean;
  /** `up --no-observability`: Postgres and Kafka only (saves ~300 MB when traces and metrics are not needed). */
  observability: boolean;
  timeoutMs: number;
}

const USAGE =
  'usage: npm run infra -- <up [--brokers 1|3] [--only postgres|kafka|observability] [--no-observability] | down | certs [--force] | status | logs [component|service] [-f] | reset [--only postgres|kafka|observability] | env <service> | kafka-env [principal] | kafka-properties [principal] | faults <service> [list|off <fault>|<fault> delayMs= errorRate= match= durationSec=] | compare-stages | services up|down|status|logs [service...]>';

function parseArgs(argv: string[]): Args {
  const args: Args = {
    command: argv[0] ?? 'help',
    positional: [],
    brokers: 1,
    follow: false,
    force: false,
    observability: true,
    timeoutMs: 120_000,
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new InfraError(`${a} needs a value`, USAGE);
      return v;
    };
    if (a === '--brokers') args.brokers = Number(value());
    else if (a === '--only') {
      const v = value();
      if (!(COMPONENTS as readonly string[]).includes(v)) throw new InfraError(`--only takes ${COMPONENTS.join(', ')}, not ${v}`, USAGE);
      args.only = v as Component;
    } else if (a === '--timeout') args.timeoutMs = Number(value()) * 1000;
    else if (a === '-f' || a === '--follow') args.follow = true;
    else if (a === '--force') args.force = true;
    else if (a === '--no-observability') args.observability = false;
    else if (a.startsWith('-')) throw new InfraError(`unknown option ${a}`, USAGE);
    else args.positional.push(a);
  }
  if (!Number.isFinite(args.timeoutMs) || args.timeoutMs <= 0) throw new InfraError('--timeout takes a positive number of seconds', USAGE);
  return args;
}

const log = (line: string) => console.log(`==> ${line}`);
const wants = (args: Args, c: Component) => args.only === undefined || args.only === c;

async function up(topo: Topology, args: Args): Promise<void> {
  const layout = layoutForBrokers(args.brokers);
  const started = Date.now();
  // Before anything listens: a client's outgoing connection must not take a platform port as its source port.
  reserveListenPorts(allListenPorts(topo), log);
  // Cheap and idempotent; services refuse to start without certificates (unless TESSERA_GRPC_PLAINTEXT=true).
  // Kafka's listeners use them too (the kafka-broker leaf), so `--only kafka` makes them as well.
  if (args.only === undefined || args.only === 'kafka') ensureCerts(topo, log);
  // The services' admin token (fault toggles, `faults`): made once, read by them via TESSERA_ADMIN_TOKEN_FILE.
  if (args.only === undefined) ensureAdminToken(path.join(REPO_ROOT, topo.stateDir));
  if (wants(args, 'postgres')) await new LocalPostgres(topo).up(args.timeoutMs, log);
  if (wants(args, 'kafka')) await new LocalKafka(topo).up(layout, args.timeoutMs, log);
  if (wants(args, 'observability') && (args.observability || args.only === 'observability')) {
    // Zipkin's JVM takes ~10 s to boot: start it first and build/start VictoriaMetrics while it warms up.
    const zipkin = new LocalZipkin(topo);
    const zipkinUp = zipkin.up(args.timeoutMs, log);
    await Promise.all([zipkinUp, new LocalVictoriaMetrics(topo).up(args.timeoutMs, log)]);
  }
  log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  await status(topo);
}

async function down(topo: Topology, args: Args): Promise<void> {
  // Services first: they would otherwise log connection errors (and retry) while Kafka and Postgres go away.
  if (args.only === undefined) await new LocalServices(topo).down([], log);
  if (wants(args, 'observability')) await Promise.all([new LocalZipkin(topo).down(log), new LocalVictoriaMetrics(topo).down(log)]);
  if (wants(args, 'kafka')) await new LocalKafka(topo).down(log);
  if (wants(args, 'postgres')) await new LocalPostgres(topo).down(log);
  log('down');
}

async function status(topo: Topology): Promise<number> {
  const infra = [await new LocalPostgres(topo).status(), ...(await new LocalKafka(topo).status())];
  const observability = [await new LocalZipkin(topo).status(), await new LocalVictoriaMetrics(topo).status()];
  const services = await new LocalServices(topo).status();
  const rows = [...infra, ...observability, ...services];
  console.log(formatStatusTable(rows));
  const total = rows.reduce((sum, r) => sum + (r.pssKb ?? 0), 0);
  if (total > 0) console.log(`total memory (PSS): ${Math.round(total / 1024)} MB`);
  // A stopped service or backend is a normal state (infra only, --no-observability); an unhealthy running one is not.
  return infra.every((r) => r.state === 'healthy') && [...observability, ...services].every((r) => r.state !== 'unhealthy') ? 0 : 3;
}

async function services(topo: Topology, args: Args): Promise<number> {
  const [sub, ...names] = args.positional;
  const local = new LocalServices(topo);
  switch (sub) {
    case 'up':
      ensureCerts(topo, log);
      ensureAdminToken(path.join(REPO_ROOT, topo.stateDir));
      await local.up(names, args.timeoutMs, log);
      return 0;
    case 'down':
      await local.down(names, log);
      log('services down');
      return 0;
    case 'status': {
      const rows = await local.status();
      console.log(formatStatusTable(rows));
      return rows.every((r) => r.state !== 'unhealthy') ? 0 : 3;
    }
    case 'logs': {
      const [name] = names;
      if (name === undefined)
        throw new InfraError('services logs needs a service name', `one of: ${topo.services.map((s) => s.name).join(', ')}`);
      tail([local.logFile(name)], args.follow, name);
      return 0;
    }
    default:
      throw new InfraError(`unknown services command ${sub ?? '(none)'}`, 'npm run infra -- services up|down|status|logs <service>');
  }
}

function tail(files: string[], follow: boolean, what: string): void {
  const present = follow ? files : files.filter((f) => existsSync(f));
  if (present.length === 0) throw new InfraError(`no logs yet for ${what}`, 'npm run up');
  spawnSync('tail', ['-n', '100', ...(follow ? ['-F'] : []), ...present], { stdio: 'inherit' });
}

function logs(topo: Topology, args: Args): void {
  const which = args.positional[0];
  const pg = new LocalPostgres(topo);
  const kafka = new LocalKafka(topo);
  let files: string[];
  if (which === undefined) files = [pg.logFile, ...kafka.logFiles()];
  else if (which === 'postgres') files = [pg.logFile];
  else if (which === 'kafka') files = kafka.logFiles();
  else if (/^kafka-\d+$/.test(which)) files = kafka.logFiles(Number(which.slice('kafka-'.length)));
  else if (which === 'zipkin') files = [new LocalZipkin(topo).logFile];
  else if (which === 'victoria-metrics') files = [new LocalVictoriaMetrics(topo).logFile];
  else if (topo.services.some((s) => s.name === which)) files = [new LocalServices(topo).logFile(which)];
  else
    throw new InfraError(
      `unknown component ${which}`,
      `use postgres, kafka, kafka-<id>, zipkin, victoria-metrics or a service: ${topo.services.map((s) => s.name).join(', ')}`,
    );
  tail(files, args.follow, which ?? 'any component');
}

async function reset(topo: Topology, args: Args): Promise<void> {
  await down(topo, args);
  const stateDir = path.join(REPO_ROOT, topo.stateDir);
  // Only ever Tessera's own folder inside this checkout; the topology schema forbids paths like ../ or /.
  const folders = args.only === undefined ? [''] : args.only === 'observability' ? ['zipkin', 'victoria-metrics'] : [args.only];
  const targets = folders.map((f) => path.join(stateDir, f));
  for (const target of targets) {
    if (!target.startsWith(`${REPO_ROOT}${path.sep}.`))
      throw new InfraError(`refusing to delete ${target}: not inside the repo's state dir`);
  }
  if (wants(args, 'postgres')) new LocalPostgres(topo).wipe();
  for (const target of targets) {
    rmSync(target, { recursive: true, force: true });
    log(`wiped ${path.relative(REPO_ROOT, target)}`);
  }
}

function env(topo: Topology, args: Args): void {
  const service = args.positional[0];
  if (!service) throw new InfraError('env needs a service name', `one of: ${topo.services.map((s) => s.name).join(', ')}`);
  for (const [k, v] of Object.entries(serviceEnv(topo, service))) console.log(`${k}=${v}`);
}

/** `compare-stages`: 0 when every window final in both stages' outputs is equal, 1 when one differs, 3 when none is yet. */
async function compareStagesCommand(topo: Topology): Promise<number> {
  // Loaded lazily: they resolve to libs/*/dist, which a fresh clone does not have before its first build.
  const { compareStages, formatComparison, newestRevisions } = await import('./compare-stages.js');
  const { createKafka, kafkaSecurityFromEnv } = await import('@tessera/kafka');
  const go = topo.services.find((s) => s.compareEnv !== undefined);
  const goTopic = go?.compareEnv?.['STREAM_PROCESSOR_GO_AGGREGATES_TOPIC'];
  const tsTopic =
    topo.services.find((s) => s.name === 'stream-processor')?.env['STREAM_PROCESSOR_AGGREGATES_TOPIC'] ?? 'analytics.aggregates.v1';
  if (!go || !goTopic)
    throw new InfraError(
      'no service in the topology runs side by side',
      'give stream-processor-go a compareEnv with STREAM_PROCESSOR_GO_AGGREGATES_TOPIC (infra/topology.yaml)',
    );
  const stateDir = path.join(REPO_ROOT, topo.stateDir);
  if (!existsSync(passwordFile(stateDir, KAFKA_ADMIN_PRINCIPAL)))
    throw new InfraError('Kafka is not set up yet', 'TESSERA_AGGREGATE_STAGE=both npm run up');
  const kafka = createKafka({
    clientId: 'tessera-compare-stages',
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (o: unknown, m?: string) => console.error(m ?? o),
      error: (o: unknown, m?: string) => console.error(m ?? o),
    },
    brokers: kafkaBrokers(topo, new LocalKafka(topo).formattedLayout() ?? 'single'),
    config: kafkaSecurityFromEnv({ ...process.env, ...kafkaClientEnv(stateDir, KAFKA_ADMIN_PRINCIPAL) }),
  });
  const groupPrefix = `${KAFKA_ADMIN_PRINCIPAL}.compare-stages-`;
  log(`reading the newest revision of every window: ${tsTopic} (TS stage), ${goTopic} (Go stage beside it)`);
  const [ts, goOut] = await Promise.all([newestRevisions(kafka, tsTopic, groupPrefix), newestRevisions(kafka, goTopic, groupPrefix)]);
  const result = compareStages(ts, goOut);
  for (const line of formatComparison(result, { a: 'TS', b: 'Go' })) console.log(line);
  if (result.compared === 0) {
    console.log(
      goOut.size === 0
        ? `nothing from the Go stage yet: is it running beside the TS one? TESSERA_AGGREGATE_STAGE=both npm run up`
        : 'no window is final in both yet: windows close ~35 s after their end (allowed lateness + watermark delay); run again',
    );
    return 3;
  }
  return result.differ.length === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  // TESSERA_TOPOLOGY points at another topology file (other ports and state dir), e.g. for a second stack.
  const topo = loadTopology(process.env['TESSERA_TOPOLOGY'] || undefined);
  switch (args.command) {
    case 'up':
      return up(topo, args).then(() => 0);
    case 'down':
      return down(topo, args).then(() => 0);
    case 'status':
      return status(topo);
    case 'logs':
      logs(topo, args);
      return 0;
    case 'reset':
      return reset(topo, args).then(() => 0);
    case 'env':
      env(topo, args);
      return 0;
    case 'certs': {
      ensureCerts(topo, log, args.force);
      // docker-compose mounts them too (the native `up` makes them with the cluster).
      const stateDir = path.join(REPO_ROOT, topo.stateDir);
      for (const principal of kafkaPrincipals(topo)) ensurePassword(stateDir, principal);
      log(`Kafka SCRAM passwords in ${path.relative(REPO_ROOT, kafkaAuthDir(stateDir))} (${kafkaPrincipals(topo).join(', ')})`);
      return 0;
    }
    case 'faults': {
      const [service, ...words] = args.positional;
      const spec = topo.services.find((s) => s.name === service);
      if (!spec || spec.metricsPort === undefined)
        throw new InfraError(
          `faults needs a running service with an admin port`,
          `one of: ${topo.services
            .filter((s) => s.metricsPort !== undefined)
            .map((s) => s.name)
            .join(', ')}`,
        );
      const token = ensureAdminToken(path.join(REPO_ROOT, topo.stateDir));
      console.log(JSON.stringify(await faultsCommand(`http://127.0.0.1:${spec.metricsPort}`, token, words), null, 2));
      return 0;
    }
    case 'kafka-env':
    case 'kafka-properties': {
      const principal = args.positional[0] ?? KAFKA_ADMIN_PRINCIPAL;
      const stateDir = path.join(REPO_ROOT, topo.stateDir);
      if (!kafkaPrincipals(topo).includes(principal))
        throw new InfraError(`unknown Kafka principal ${principal}`, `one of: ${kafkaPrincipals(topo).join(', ')}`);
      if (!existsSync(passwordFile(stateDir, principal)))
        throw new InfraError(`no Kafka credentials for ${principal} yet`, 'npm run infra -- up   (creates the users with the cluster)');
      if (args.command === 'kafka-env') for (const [k, v] of Object.entries(kafkaClientEnv(stateDir, principal))) console.log(`${k}=${v}`);
      else console.log(writeJavaClientProperties(stateDir, principal));
      return 0;
    }
    case 'services':
      return services(topo, args);
    case 'compare-stages':
      return compareStagesCommand(topo);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new InfraError(`unknown command ${args.command}`, USAGE);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof InfraError) {
      console.error(`✖ ${err.message}`);
      if (err.details) console.error(err.details.replace(/^/gm, '  | '));
      if (err.fix) console.error(`  fix: ${err.fix}`);
    } else if (err instanceof TopologyError) {
      console.error(`✖ ${err.message}\n  fix: edit infra/topology.yaml`);
    } else {
      console.error('✖ unexpected failure:', err);
    }
    process.exit(1);
  },
);
