/**
 * Regenerates the committed OpenAPI snapshot services/gateway/openapi.json from the code:
 * `npx nx run gateway:openapi` (= build, then `node services/gateway/dist/openapi/write-openapi.js`). It runs the
 * compiled build, not tsx: Nest resolves constructor injection from emitted decorator metadata, which esbuild
 * does not emit. `--check` exits 1 when the snapshot is stale; the unit test openapi.document.spec.ts fails too.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from './openapi.document';
import { documentFromCode } from './openapi.setup';

export const OPENAPI_SNAPSHOT = join(__dirname, '..', '..', 'openapi.json');

async function main(): Promise<void> {
  const text = renderOpenApiDocument(await documentFromCode());
  if (process.argv.includes('--check')) {
    const current = readFileSync(OPENAPI_SNAPSHOT, 'utf8');
    if (current !== text) {
      process.stderr.write(`${OPENAPI_SNAPSHOT} is stale; run npx nx run gateway:openapi\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(OPENAPI_SNAPSHOT, text);
  process.stdout.write(`wrote ${OPENAPI_SNAPSHOT}\n`);
}

if (require.main === module) void main();
