#!/usr/bin/env bash
# The README's run command (`npm run up`): from a fresh clone to a running platform with demo data.
# Idempotent: running it again re-checks everything, starts what is not running, restarts a service only when
# its build changed, and re-seeds with the same Idempotency-Keys (no duplicate accounts).
# Arguments go to the infra step, e.g. `npm run up -- --brokers 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
step() { printf '\n==> [%3ss] %s\n' "$SECONDS" "$*"; }

step "bootstrap (system packages, npm ci, Kafka jars)"
bash scripts/bootstrap.sh

step "generate (Prisma clients)"
bash scripts/generate.sh

step "build"
npx nx run-many -t build --output-style=static

step "PostgreSQL + Kafka"
npx tsx infra/local/cli.ts up "$@"

step "database migrations"
npx tsx libs/db/src/cli.ts migrate --all

step "services (built ones, peers first; logs in .tessera/services/)"
npx tsx infra/local/cli.ts services up

step "demo data"
npx tsx scripts/seed-demo.ts

step "demo analytics traffic (5 s of the load generator through POST /v1/events)"
npx tsx tools/loadgen/src/cli.ts --target http://127.0.0.1:8080 --api-key demo:demo-key --tenants 1 --rate 100 --duration 5s --late 0.02 --duplicates 0.02 --malformed 0.01

cat <<MSG

Tessera is up (${SECONDS}s).
  Console:   http://127.0.0.1:8080/console           (live aggregates, payments, alerts, consumer lag)
  Gateway:   http://127.0.0.1:8080/health   API: http://127.0.0.1:8080/openapi.json
  Traffic:   npx tsx tools/loadgen/src/cli.ts --rate 200 --duration 60s --api-key demo:demo-key --tenants 1
  Status:    npm run infra -- status
  Logs:      npm run infra -- logs gateway        (or transactions, postgres, kafka)
  Demo data: npx tsx scripts/seed-demo.ts          (safe to re-run)
  Stop:      npm run down
MSG
