#!/usr/bin/env bash
# The README's test command (`npm test`): everything CI checks, on a fresh machine, in order.
# Installs what is missing, generates, checks contracts, builds, lints, starts the local infrastructure
# (idempotent) and runs unit, integration and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)
mkdir -p .tessera/reports
# In-process services log at warn during tests (failure paths are exercised on purpose); LOG_LEVEL=info overrides.
export LOG_LEVEL="${LOG_LEVEL:-warn}"

step "bootstrap (system packages, npm ci, Kafka jars)"
bash scripts/bootstrap.sh

step "generate (Prisma clients) and check generated contracts for drift"
bash scripts/generate.sh
bash scripts/check-generated.sh

step "buf lint + buf breaking"
npx buf lint
bash scripts/buf-breaking.sh

step "build (tsc -b, type-checks every project)"
npx nx run-many -t build --output-style=static

step "type-check tests and tools (tsc --noEmit over every spec, test and infra file)"
npx tsc -p tsconfig.spec.json

step "lint (ESLint incl. Nx module boundaries)"
npx nx run-many -t lint --output-style=static

step "unit tests"
npx jest -c jest.config.cjs --selectProjects unit --ci --json --outputFile=.tessera/reports/unit.json

step "unit tests (Go: services/stream-processor-go; the Kafka test skips without KAFKA_BROKERS)"
(cd services/stream-processor-go && env -u KAFKA_BROKERS go test ./...)

step "local infrastructure up (PostgreSQL + Kafka, idempotent)"
npx tsx infra/local/cli.ts up

step "integration tests (real PostgreSQL + Kafka + gRPC)"
npx jest -c jest.config.cjs --selectProjects integration --ci --runInBand --json --outputFile=.tessera/reports/integration.json
# The Go processor's Kafka test (unique topics per run) against the same broker.
(cd services/stream-processor-go && KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:19092}" go test -count=1 -run Kafka ./internal/processor/)

step "end-to-end tests (every service as a real process)"
npx jest -c jest.config.cjs --selectProjects e2e --ci --runInBand --json --outputFile=.tessera/reports/e2e.json

echo
echo "All checks passed in $(( $(date +%s) - t0 ))s."
# One plain closing line over all three layers, for readers that do not parse Jest's summary.
node -e '
  const layers = ["unit", "integration", "e2e"].map((l) => require(`./.tessera/reports/${l}.json`));
  const sum = (k) => layers.reduce((n, r) => n + r[k], 0);
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
'

