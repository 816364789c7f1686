/**
 * Replay: `npx tsx services/stream-processor/src/replay.cli.ts dlq [--include-late] [--dry-run]`
 * re-drives dead letters (original bytes) back to the raw topic; `range --from ISO --to ISO`
 * re-publishes the raw records whose timestamp falls in [from, to). Replayed records keep their
 * event ids, so the processor's dedupe makes a replay of already-counted events a no-op; re-driven
 * dead letters count once a fix (e.g. a schema change) makes them valid. LATE letters are skipped
 * unless asked for (they were recorded as seen and would be deduplicated anyway).
 * The work is in ./replay/replay.ts (tested against the real broker); this file parses arguments.
 */
import { parseArgs } from 'node:util';
import { createKafka } from '@tessera/kafka';
import { createLogger } from '@tessera/telemetry';
import { loadStreamProcessorConfig } from './config';
import { replayDeadLetters, replayRange, type ReplayResult } from './replay/replay';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'include-late': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const mode = positionals[0];
  if (mode !== 'dlq' && mode !== 'range') {
    process.stderr.write('usage: replay.cli.ts dlq [--include-late] [--dry-run] | range --from ISO --to ISO [--dry-run]\n');
    process.exit(2);
  }
  const config = loadStreamProcessorConfig();
  const kafka = createKafka({ clientId: 'stream-processor-replay', brokers: config.KAFKA_BROKERS, logger: createLogger('ReplayCli') });
  const target = { kafka, rawTopic: config.STREAM_PROCESSOR_RAW_TOPIC, dryRun: values['dry-run'] };
  let result: ReplayResult;
  if (mode === 'dlq') {
    result = await replayDeadLetters({ ...target, dlqTopic: config.STREAM_PROCESSOR_DLQ_TOPIC, includeLate: values['include-late'] });
  } else {
    result = await replayRange({ ...target, fromMs: Date.parse(values.from ?? ''), toMs: Date.parse(values.to ?? '') });
  }
  process.stdout.write(
    `${values['dry-run'] ? 'would replay' : 'replayed'} ${result.replayed} record(s) to ${config.STREAM_PROCESSOR_RAW_TOPIC} (${result.skipped} skipped)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`replay failed: ${(err as Error).message}\n`);
  process.exit(1);
});
