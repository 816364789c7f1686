import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { findPgBin } from '../../../infra/local/postgres';
import { REPO_ROOT } from '../../../infra/local/topology';

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export interface MachineInfo {
  date: string;
  gitSha: string;
  gitDirty: boolean;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  versions: Record<string, string>;
}

/** The machine and versions a results folder records (BENCHMARKING.md, Reporting). */
export function describeMachine(): MachineInfo {
  const kafkaJar = (() => {
    try {
      return (
        readdirSync(join(REPO_ROOT, '.cache/kafka/libs'))
          .find((f) => /^kafka_2\.13-.*\.jar$/.test(f))
          ?.replace(/^kafka_2\.13-|\.jar$/g, '') ?? 'unknown'
      );
    } catch {
      return 'unknown';
    }
  })();
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let pg = 'unknown';
  try {
    pg = sh(join(findPgBin(), 'postgres'), ['--version']);
  } catch {
    /* not installed */
  }
  return {
    date: new Date().toISOString(),
    gitSha: sh('git', ['rev-parse', '--short', 'HEAD']),
    gitDirty: sh('git', ['status', '--porcelain', '--untracked-files=no']) !== '',
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: sh('uname', ['-r']),
    versions: {
      node: process.versions.node,
      postgresql: pg,
      kafka: kafkaJar,
      go: sh('go', ['version']),
      java: sh('sh', ['-c', 'java -version 2>&1 | head -1']),
      kafkajs: pkg('kafkajs'),
      '@platformatic/kafka': pkg('@platformatic/kafka'),
      fastify: pkg('fastify'),
      autocannon: pkg('autocannon'),
      '@grpc/grpc-js': pkg('@grpc/grpc-js'),
      '@nestjs/core': pkg('@nestjs/core'),
      '@prisma/client': pkg('@prisma/client'),
    },
  };
}
