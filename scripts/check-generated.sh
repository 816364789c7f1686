#!/usr/bin/env bash
# Fails when regenerating would change committed generated code, i.e. someone edited a .proto
# without running `npm run generate`, edited generated code by hand, or upgraded the generator.
set -euo pipefail
cd "$(dirname "$0")/.."

# Paths whose content is fully derived by scripts/generate.sh and committed.
GENERATED_PATHS=(libs/contracts/src/gen services/*/src/generated services/stream-processor-go/gen)

bash scripts/generate.sh >/dev/null

# --porcelain also lists untracked files, so a new proto whose output was never committed fails too.
drift="$(git status --porcelain --untracked-files=all -- "${GENERATED_PATHS[@]}")"
if [[ -n "$drift" ]]; then
  echo "check-generated: FAILED, generated code is out of date with its sources:" >&2
  echo "$drift" >&2
  git --no-pager diff --stat -- "${GENERATED_PATHS[@]}" >&2 || true
  echo >&2
  echo "Fix: run 'npm run generate' and commit the result (never edit files under src/gen by hand)." >&2
  exit 1
fi
echo "check-generated: generated code is up to date"
