/**
 * A PostgreSQL cluster of the chaos scenarios' own (port 55442, data under `.tessera-chaos/`), started with the same
 * code as the platform's (infra/local/postgres.ts), so a scenario can stop and restart it without touching the
 * database every other test and `npm run up` share.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- infra/local is repo tooling, not an Nx project: the test uses its Kafka credentials and topology as `npm run infra -- up` does */
import { LocalPostgres } from '../../../infra/local/postgres';
import { DEFAULT_TOPOLOGY_PATH, parseTopology } from '../../../infra/local/topology';

export const CHAOS_PG_PORT = 55442;

export class ChaosPostgres {
  readonly pg: LocalPostgres;
  readonly adminUrl: string;

  constructor() {
    const raw = parse(readFileSync(DEFAULT_TOPOLOGY_PATH, 'utf8')) as {
      stateDir: string;
      postgres: { port: number; user: string; password: string };
    };
    raw.stateDir = '.tessera-chaos';
    raw.postgres.port = CHAOS_PG_PORT;
    const topo = parseTopology(stringify(raw), 'chaos topology');
    this.pg = new LocalPostgres(topo);
    this.adminUrl = `postgresql://${raw.postgres.user}:${raw.postgres.password}@127.0.0.1:${CHAOS_PG_PORT}/postgres`;
  }

  up(): Promise<void> {
    return this.pg.up(60_000, () => undefined);
  }

  /** Fast shutdown: connections are terminated (57P01) and new ones refused until start. */
  stop(): Promise<void> {
    return this.pg.down(() => undefined);
  }

  running(): boolean {
    return this.pg.pid() !== undefined;
  }
}
