/**
 * Regenerates the committed OpenAPI snapshot: `npx tsx services/gateway/src/openapi/write-openapi.ts`
 * (or `npx nx run gateway:openapi`). `--check` exits 1 when the snapshot is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from './openapi.document';

export const OPENAPI_SNAPSHOT = join(__dirname, '..', '..', 'openapi.json');

function main(): void {
  const text = renderOpenApiDocument();
  if (process.argv.includes('--check')) {
    const current = readFileSync(OPENAPI_SNAPSHOT, 'utf8');
    if (current !== text) {
      process.stderr.write(`${OPENAPI_SNAPSHOT} is stale; run npx tsx services/gateway/src/openapi/write-openapi.ts\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(OPENAPI_SNAPSHOT, text);
  process.stdout.write(`wrote ${OPENAPI_SNAPSHOT}\n`);
}

if (require.main === module) main();
