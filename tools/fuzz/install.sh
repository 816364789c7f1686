#!/usr/bin/env bash
# Installs the HTTP API fuzzer (schemathesis, pinned in tools/fuzz/requirements.txt) into the project venv
# .cache/venv, so tests/e2e/fuzz.e2e-spec.ts can run .cache/venv/bin/schemathesis. Idempotent: a venv that
# already has the pinned version is left alone. Needs python3 (>= 3.10) with the venv module, and PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${TESSERA_VENV:-$ROOT/.cache/venv}"
REQUIREMENTS="$ROOT/tools/fuzz/requirements.txt"
WANT="$(sed -n 's/^schemathesis==//p' "$REQUIREMENTS")"

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "fuzz: $PYTHON not found; install Python 3.10+ (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "fuzz: schemathesis needs Python 3.10+, found $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi

if [ -x "$VENV/bin/schemathesis" ] && [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" = "$WANT" ]; then
  echo "fuzz: schemathesis $WANT already in $VENV"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "fuzz: creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "fuzz: installing schemathesis $WANT into $VENV (pip, quiet)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
echo "fuzz: $("$VENV/bin/schemathesis" --version)"
