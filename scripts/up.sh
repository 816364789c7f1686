#!/usr/bin/env bash
# The README's run command (`npm run up`): from a fresh clone to a running platform with demo data.
# Idempotent: running it again re-checks everything, starts what is not running, restarts a service only when
# its build changed, and re-seeds with the same Idempotency-Keys (no duplicate accounts).
# Arguments go to the infra step, e.g. `npm run up -- --brokers 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node.js from .nvmrc first on PATH for everything below (installed into .cache/node when the machine's is older).
source scripts/node-runtime.sh
SECONDS=0
step() { printf '\n==> [%3ss] %s\n' "$SECONDS" "$*"; }

step "bootstrap (system packages, npm ci, Kafka jars)"
bash scripts/bootstrap.sh

step "generate (Prisma clients)"
bash scripts/generate.sh

step "build"
npx nx run-many -t build --output-style=static

step "dev credentials (idempotent): token issuer + demo API keys in .tessera/auth, dev CA + mTLS certs in .tessera/tls"
npx tsx libs/auth/src/cli.ts init
npx tsx infra/local/cli.ts certs

step "PostgreSQL + Kafka + Zipkin + VictoriaMetrics"
npx tsx infra/local/cli.ts up "$@"

step "database migrations"
npx tsx libs/db/src/cli.ts migrate --all

step "services (built ones, peers first; logs in .tessera/services/)"
npx tsx infra/local/cli.ts services up

step "demo data"
npx tsx scripts/seed-demo.ts

step "demo analytics traffic (5 s of the load generator through POST /v1/events, tenant demo's API key)"
npx tsx tools/loadgen/src/cli.ts --target http://127.0.0.1:8080 --tenants 1 --rate 100 --duration 5s --late 0.02 --duplicates 0.02 --malformed 0.01

# A working day's operator token and the demo tenants' API keys for the console link (the fragment never reaches the
# server or its logs; the gateway no longer hands keys to whoever asks, issue #13).
operator_token="$(npx tsx libs/auth/src/cli.ts token --sub demo-operator --role operator --ttl 8h)"
console_keys="$(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).apiKeys ?? {}; const k = (t) => c[t]?.key ?? ""; process.stdout.write(`apiKey=${k("demo")}&paymentsKey=${k("payments")}`)' "${TESSERA_AUTH_DIR:-.tessera/auth}/dev-credentials.json")"

cat <<MSG

Tessera is up (${SECONDS}s). Every call needs a credential; gRPC between services is mTLS (.tessera/tls).
  Console:   http://127.0.0.1:8080/console#token=${operator_token}&${console_keys}
             (operator token, 8 h, and the demo tenants' API keys; live aggregates, payments, alerts, consumer lag)
  Token:     npm run auth -- token --sub alice --role customer --customer demo-alice
             (roles: customer, operator, compliance-officer, auditor; then: curl -H "Authorization: Bearer \$TOKEN" ...)
  API keys:  .tessera/auth/dev-credentials.json (demo tenants)   new one: npm run auth -- apikey create --tenant acme
  Gateway:   http://127.0.0.1:8080/health   API docs: http://127.0.0.1:8080/docs   spec: http://127.0.0.1:8080/openapi.json
  Traffic:   npx tsx tools/loadgen/src/cli.ts --rate 200 --duration 60s --tenants 1
  Status:    npm run infra -- status
  Logs:      npm run infra -- logs gateway        (or transactions, postgres, kafka)
  Demo data: npx tsx scripts/seed-demo.ts          (safe to re-run)
  Stop:      npm run down

Observability (traces of the demo traffic above; a console row's trace link opens it in Zipkin):
  Traces:    http://127.0.0.1:9411/zipkin/          (Zipkin: search by serviceName=gateway, or paste a trace id)
  Metrics:   http://127.0.0.1:8428/vmui/            (VictoriaMetrics vmui, e.g. sum by (service) (rate(rpc_server_duration_count[1m])))
  Log level: curl -X PUT -d '{"level":"debug"}' http://127.0.0.1:9462/log-level   (transactions; ports in infra/topology.yaml)
  Dashboards (Grafana, docker-compose path): docker compose up grafana   then http://127.0.0.1:3000/
MSG
