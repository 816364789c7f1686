#!/usr/bin/env bash
# `npm run bench [-- <benchmark>...] [--smoke]`: every hot path beside its baseline in the same run (bench/README.md).
# Builds what changed (Nx cache), brings up whatever part of the platform is not running, runs the benchmarks and
# writes bench/results/<date>-<sha>/. Never part of `npm test` except its smoke mode (tests/e2e/bench-smoke.e2e-spec.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-runtime.sh
step() { printf '\n==> %s\n' "$*"; }
step "bootstrap (system packages, npm ci, Kafka jars; skips what is there)"
bash scripts/bootstrap.sh
step "generate + build (Nx cache: only what changed)"
bash scripts/generate.sh
npx nx run-many -t build --output-style=static
step "benchmarks"
exec npx tsx bench/src/cli.ts "$@"
