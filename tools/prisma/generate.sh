#!/usr/bin/env bash
# Generates every service's Prisma client (one per services/*/prisma/prisma.config.ts). Works offline.
set -euo pipefail
cd "$(dirname "$0")/../.."
# `prisma generate` never runs the schema engine, but without this it tries to download one first and fails
# offline. The stand-in exists only to satisfy that check; see docs/prisma.md.
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/tools/prisma/no-schema-engine.sh}"
for config in services/*/prisma/prisma.config.ts; do
  npx prisma generate --config "$config"
done
