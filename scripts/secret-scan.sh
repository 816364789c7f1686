#!/usr/bin/env bash
# Secret scan (issue #5 "a CI check that no secret-looking string is committed"), gitleaks with .gitleaks.toml:
#  1. every commit of the git history (`gitleaks git`): a secret committed once stays in the history;
#  2. the working tree as it would be committed: tracked + untracked-but-not-ignored files, copied to a temp dir
#     so node_modules/, .cache/ and .tessera/ (generated dev keys, never committed) are not scanned.
# gitleaks is pinned and built into .cache/go/bin like protoc-gen-go (scripts/generate.sh), from the Go module proxy.
# Usage: scripts/secret-scan.sh [--history-only|--tree-only]. Exit 0 clean, 1 leaks found, 2 scanner missing.
# SECRET_SCAN_SOURCE=<git checkout> scans another checkout with this repo's config (tests/contract uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE="$(cd "${SECRET_SCAN_SOURCE:-$PWD}" && pwd)"
GITLEAKS_VERSION="v8.30.1"
GITLEAKS="$PWD/.cache/go/bin/gitleaks"

installed_version() { go version -m "$GITLEAKS" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/zricethezav/gitleaks/v8" { print $3 }'; }
if [[ "$(installed_version)" != "$GITLEAKS_VERSION" ]]; then
  echo "secret-scan: installing gitleaks ${GITLEAKS_VERSION} into .cache/go/bin"
  GOBIN="$PWD/.cache/go/bin" go install "github.com/zricethezav/gitleaks/v8@${GITLEAKS_VERSION}" || {
    echo "secret-scan: could not install gitleaks ${GITLEAKS_VERSION} (Go module proxy reachable?)" >&2; exit 2; }
fi

mode="${1:-all}"
# --redact keeps the secret itself out of CI logs; the report names file, line, commit and rule.
args=(--no-banner --redact --config "$PWD/.gitleaks.toml" --exit-code 1 --log-level warn)
status=0

if [[ "$mode" != "--tree-only" ]]; then
  echo "secret-scan: git history ($(git -C "$SOURCE" rev-list --count HEAD) commits)"
  "$GITLEAKS" git "${args[@]}" --verbose "$SOURCE" || status=1
fi

if [[ "$mode" != "--history-only" ]]; then
  tree="$(mktemp -d)"
  trap 'rm -rf "$tree"' EXIT
  # -c lists tracked files (also deleted ones: skipped by the -f test), -o untracked ones not git-ignored.
  (cd "$SOURCE" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    if [[ -f "$f" ]]; then printf '%s\0' "$f"; fi
  done | xargs -0 -r cp --parents -t "$tree")
  echo "secret-scan: working tree ($(find "$tree" -type f | wc -l) files, as they would be committed)"
  # From inside the copy so findings name repo-relative paths.
  (cd "$tree" && "$GITLEAKS" dir "${args[@]}" --verbose .) || status=1
fi

if [[ $status -ne 0 ]]; then
  echo "secret-scan: FAILED, secret-looking strings found (above, redacted)." >&2
  echo "Remove the secret (and rotate it if it was real; history needs a rewrite). A documented test fixture" >&2
  echo "that only looks like a secret may be allow-listed in .gitleaks.toml with a comment saying why." >&2
  exit 1
fi
echo "secret-scan: no leaks found"
