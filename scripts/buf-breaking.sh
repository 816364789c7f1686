#!/usr/bin/env bash
# Guards wire compatibility: fails when the protos at HEAD break clients built against HEAD~1
# (rules: FILE category in buf.yaml, the strictest, since generated code is per file).
#
# Why HEAD~1 of the local git history rather than the BSR or a remote branch: the environment is
# offline (buf cannot reach buf.build or GitHub) and every change lands on main as its own commit,
# so "the previous commit" is the released contract the new commit must stay compatible with.
# On a feature branch, set BUF_BREAKING_AGAINST (e.g. '.git#branch=main') to compare with main.
# Skipped, with a message, when there is no previous commit or it has no buf module yet.
set -euo pipefail
cd "$(dirname "$0")/.."

against="${BUF_BREAKING_AGAINST:-}"
if [[ -z "$against" ]]; then
  if ! git rev-parse --verify --quiet HEAD~1 >/dev/null; then
    echo "buf-breaking: skipped, no previous commit (HEAD~1) to compare against"
    exit 0
  fi
  if ! git cat-file -e HEAD~1:buf.yaml 2>/dev/null || [[ -z "$(git ls-tree -r --name-only HEAD~1 -- proto | grep '\.proto$' || true)" ]]; then
    echo "buf-breaking: skipped, HEAD~1 has no buf module (contracts introduced by this commit)"
    exit 0
  fi
  # ref=HEAD~1 alone (not branch=main,ref=HEAD~1) so it also works on a detached HEAD in CI.
  against=".git#ref=HEAD~1"
fi

echo "buf-breaking: checking proto/ against ${against}"
npx buf breaking --against "$against"
echo "buf-breaking: no breaking changes"
