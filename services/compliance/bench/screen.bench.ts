/**
 * Screen latency, measured two ways in one run:
 *  1. the sanctions matcher alone vs a naive baseline (lowercased full-string Levenshtein ratio, no
 *     transliteration, no token alignment): time per query and how many known variants each catches;
 *  2. end-to-end Screen over gRPC against the local Postgres (tessera_compliance, migrated), p50/p99.
 * Run after building (Nest DI needs tsc's decorator metadata, which tsx/esbuild does not emit):
 *   npx tsc -b services/compliance/tsconfig.app.json && npx tsx services/compliance/bench/screen.bench.ts
 * Part 2 needs the local Postgres with tessera_compliance migrated (`npm run infra -- up`).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { complianceV1 } from '@tessera/contracts';
import { createGrpcClient, unaryCall } from '@tessera/grpc';
import { AppModule } from '../dist/app.module';
import { complianceConfigSchema } from '../dist/config';
import { GrpcServerHost } from '../dist/platform/grpc-server.host';
import { loadSanctionsFile } from '../dist/sanctions/sanctions-list';
import { SanctionsMatcher } from '../dist/sanctions/sanctions-matcher';

const VARIANTS = [
  'Volkonov Aleksandr',
  'Александр Волконов',
  'Muhammad Haddad',
  'Haddad Mohammed Abdelkarim',
  'KRUTOV, Yevgeniy Sergeevich',
  'Dmitry Zhukovsky',
  'Schukin Arkady',
  'Bjorn Lindqvist',
  'Ruslan Jabrailov',
  'Νικόλαος Παπαδημητρίου-Βλάχος',
];
const CLEAN = ['Anna Schmidt', 'John Smith', 'Maria Garcia Lopez', 'Mohammed Ali', 'Ivan Ivanov', 'Omar Hassan'];

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  const entries = loadSanctionsFile(path.resolve(__dirname, '../rules/sanctions.sample.csv'));
  const matcher = new SanctionsMatcher(entries);
  const names = entries.flatMap((e) => e.names.map((n) => n.toLowerCase()));
  const naive = (q: string) => Math.max(...names.map((n) => 1 - levenshtein(q.toLowerCase(), n) / Math.max(q.length, n.length)));

  for (const [label, score] of [
    ['matcher', (q: string) => matcher.bestMatch(q)?.score ?? 0],
    ['naive levenshtein', naive],
  ] as const) {
    const times: number[] = [];
    for (let round = 0; round < 200; round++) {
      for (const q of [...VARIANTS, ...CLEAN]) {
        const t = process.hrtime.bigint();
        score(q);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
    const hits = VARIANTS.filter((q) => score(q) >= 0.9).length;
    const falseHits = CLEAN.filter((q) => score(q) >= 0.9).length;
    console.log(
      `${label.padEnd(18)} p50 ${pct(times, 50).toFixed(3)} ms  p99 ${pct(times, 99).toFixed(3)} ms  variants caught ${hits}/${VARIANTS.length}  false hits ${falseHits}/${CLEAN.length}`,
    );
  }

  const config = complianceConfigSchema.parse({ ...process.env, COMPLIANCE_GRPC_PORT: '0', COMPLIANCE_MONITOR_ENABLED: 'false' });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error'] });
  await app.init();
  const client = createGrpcClient(complianceV1.ComplianceServiceClient, `127.0.0.1:${app.get(GrpcServerHost).port}`, { retry: 'none' });
  const times: number[] = [];
  for (let i = 0; i < 600; i++) {
    const req = complianceV1.ScreenRequest.fromPartial({
      idempotencyKey: `bench-${randomUUID()}`,
      subject: {
        referenceId: randomUUID(),
        sourceAccountId: randomUUID(),
        destinationAccountId: randomUUID(),
        ownerId: `bench-owner-${i % 50}`,
        amount: { amountMinor: 1_000n, currency: 'EUR' },
        counterpartyName: i % 2 ? 'Anna Schmidt' : 'Volkonov Aleksandr',
        counterpartyCountry: 'DE',
      },
    });
    const t = process.hrtime.bigint();
    await unaryCall(client, 'screen', req);
    if (i >= 100) times.push(Number(process.hrtime.bigint() - t) / 1e6); // first 100 warm the JIT and the pool
  }
  console.log(
    `Screen over gRPC    p50 ${pct(times, 50).toFixed(2)} ms  p99 ${pct(times, 99).toFixed(2)} ms  max ${Math.max(...times).toFixed(2)} ms  (n=${times.length})`,
  );
  client.close();
  await app.close();
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
