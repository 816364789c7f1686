#!/usr/bin/env bash
# `npm run chaos [-- --publish]`: every fault scenario of tests/chaos on real processes (loopback only, bounded in
# count and time), then one markdown report (.tessera/reports/chaos.md; --publish also writes
# docs/reliability/chaos-report.md). `npm test` runs the same scenarios as its last layer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-runtime.sh
step() { printf '\n==> %s\n' "$*"; }
step "bootstrap, generate + build (skips what is there; Nx cache)"
bash scripts/bootstrap.sh
bash scripts/generate.sh
npx nx run-many -t build --output-style=static
step "local infrastructure up (Kafka is shared; the scenarios start their own PostgreSQL and services)"
npx tsx infra/local/cli.ts up --no-observability
exec npx tsx tests/chaos/report.ts "$@"
