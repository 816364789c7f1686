#!/bin/sh
# Stand-in for Prisma's native schema-engine on machines that cannot download it (see docs/prisma.md).
# `prisma generate`/`validate`/`format` only check that PRISMA_SCHEMA_ENGINE_BINARY exists; they never run it.
# Anything that does run it (migrate dev/deploy/diff, db pull/push) lands here and fails loudly.
echo "prisma: the native schema engine is not installed on this machine." >&2
echo "Apply migrations with: npx tsx libs/db/src/cli.ts migrate --service <name>  (docs/prisma.md)" >&2
exit 1
