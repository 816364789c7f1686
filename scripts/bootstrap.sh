#!/usr/bin/env bash
# Idempotent machine setup for a fresh Debian box (or CI): system packages only when missing, npm ci only
# when node_modules is missing or older than package-lock.json, Kafka jars only when infra/kafka/pom.xml
# changed, the Zipkin jar and VictoriaMetrics only when their pinned versions changed. A second run on a ready machine does nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo" || SUDO="__need_root__"
fi

# --- system packages -----------------------------------------------------------------------------------
have_pg() { ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1; }
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\.*.*/\1/p' | head -1; }
have_java() { command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; }
have_mvn() { command -v mvn >/dev/null 2>&1; }
# The console's browser test drives Debian's Chromium through playwright-core (no browser download).
have_chromium() { [ -x /usr/bin/chromium ]; }
# The API fuzzer (schemathesis, tools/fuzz/install.sh) lives in a venv; Debian splits venv/ensurepip out of python3.
# kcat: the Kafka auth test proves a client without credentials is refused (issue #13); handy for operators too.
have_kcat() { command -v kcat >/dev/null 2>&1; }
have_python_venv() { command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' >/dev/null 2>&1; }

# Go builds the polyglot stream-processor-go and generates its contracts. Debian's golang is older than the
# go.mod needs, so it is a prerequisite (https://go.dev/dl), not an apt package; GOTOOLCHAIN=auto fetches the
# exact toolchain from the Go module proxy when an older go is found.
if ! command -v go >/dev/null 2>&1; then
  die "Go is missing: install Go 1.22+ from https://go.dev/dl (the toolchain go.mod pins is then fetched automatically)"
fi

missing=()
have_pg || missing+=(postgresql)
have_java || missing+=(java)
have_mvn || missing+=(maven)
have_chromium || missing+=(chromium)
have_python_venv || missing+=(python3-venv)
have_kcat || missing+=(kcat)

if [ ${#missing[@]} -eq 0 ]; then
  say "system packages present (postgresql, java $(java_major), maven, chromium, python3-venv, kcat): skipping apt"
else
  [ "$SUDO" = "__need_root__" ] && die "need root (or sudo) to install: ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ${missing[*]} with your package manager"
  say "installing missing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  pkgs=()
  for m in "${missing[@]}"; do
    case "$m" in
      postgresql)
        # Tessera runs its own cluster under .tessera/; keep Debian from creating (and starting) a system one.
        $SUDO mkdir -p /etc/postgresql-common/createcluster.d
        echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.d/tessera.conf >/dev/null
        pkgs+=(postgresql) ;;
      java)
        # Kafka 4 needs Java 17+; newer Debian releases only ship 21.
        if apt-cache show openjdk-17-jre-headless >/dev/null 2>&1; then pkgs+=(openjdk-17-jre-headless); else pkgs+=(openjdk-21-jre-headless); fi ;;
      maven) pkgs+=(maven) ;;
      chromium) pkgs+=(chromium) ;;
      python3-venv) pkgs+=(python3 python3-venv) ;;
      kcat) pkgs+=(kcat) ;;
    esac
  done
  $SUDO apt-get install -y --no-install-recommends "${pkgs[@]}"
fi

# --- node modules --------------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install; older than package-lock.json means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund
else
  say "node_modules up to date with package-lock.json: skipping npm ci"
  # npm ci runs the root postinstall (patch-package); re-apply here for a patch added since (no-op when applied).
  npx --no-install patch-package --error-on-fail >/dev/null
fi

# --- Kafka jars ----------------------------------------------------------------------------------------
# Same stamp as infra/local/kafka-runtime.ts: sha256 of the pom the jars were resolved from.
libs=.cache/kafka/libs
stamp=.cache/kafka/pom.sha256
want="$(sha256sum infra/kafka/pom.xml | cut -d' ' -f1)"
if ls "$libs"/kafka_2.13-*.jar >/dev/null 2>&1 && [ -f "$stamp" ] && [ "$(cut -d' ' -f1 "$stamp")" = "$want" ]; then
  say "Kafka jars up to date in $libs: skipping Maven"
elif pgrep -f -- "-cp $PWD/$libs/\*" >/dev/null 2>&1; then
  # A running broker loads classes lazily from these jars; replacing them under it would break it.
  say "Kafka jars are stale but a local broker is running: run 'npm run infra -- down' and bootstrap again"
else
  say "resolving Kafka jars from Maven Central into $libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  mvn -B -Dstyle.color=never -f infra/kafka/pom.xml dependency:copy-dependencies
  echo "$want  infra/kafka/pom.xml" > "$stamp"
  say "Kafka jars: $(ls "$libs" | wc -l) files, $(du -sh "$libs" | cut -f1)"
fi

# --- observability backends (issue #6) ---------------------------------------------------------------------
# Zipkin server exec jar (traces + UI) from Maven Central, same stamp as infra/local/zipkin.ts.
zjar=.cache/zipkin/zipkin-server.jar
zstamp=.cache/zipkin/pom.sha256
zwant="$(sha256sum infra/zipkin/pom.xml | cut -d' ' -f1)"
if [ -f "$zjar" ] && [ -f "$zstamp" ] && [ "$(cut -d' ' -f1 "$zstamp")" = "$zwant" ]; then
  say "Zipkin jar up to date in .cache/zipkin: skipping Maven"
else
  say "resolving the Zipkin server jar from Maven Central into .cache/zipkin"
  mkdir -p .cache/zipkin
  mvn -B -q -Dstyle.color=never -f infra/zipkin/pom.xml dependency:copy
  echo "$zwant  infra/zipkin/pom.xml" > "$zstamp"
fi
# VictoriaMetrics single-node (metrics store + vmui, embedded in the module) at the version infra/topology.yaml pins.
VM_VERSION="$(sed -n 's/^ *version: \(v1\.[0-9]*\.[0-9]*\).*/\1/p' infra/topology.yaml | head -1)"
[ -n "$VM_VERSION" ] || die "no observability.victoriaMetrics.version in infra/topology.yaml"
if [[ "$(go version -m .cache/go/bin/victoria-metrics 2>/dev/null | awk '$1 == "mod" { print $3 }')" == "$VM_VERSION" ]]; then
  say "victoria-metrics $VM_VERSION present in .cache/go/bin: skipping"
else
  say "building victoria-metrics $VM_VERSION into .cache/go/bin (Go module proxy; ~30 s, ~300 MB RAM)"
  GOBIN="$PWD/.cache/go/bin" go install "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@${VM_VERSION}"
fi

# --- security tooling ------------------------------------------------------------------------------------
# gitleaks (secret scan in `npm test`, scripts/secret-scan.sh) is built into .cache/go/bin at a pinned version,
# like protoc-gen-go in scripts/generate.sh; the module proxy caches it, so a ready machine skips this.
GITLEAKS_VERSION="v8.30.1"
if [[ "$(go version -m .cache/go/bin/gitleaks 2>/dev/null | awk '$1 == "mod" { print $3 }')" == "$GITLEAKS_VERSION" ]]; then
  say "gitleaks $GITLEAKS_VERSION present in .cache/go/bin: skipping"
else
  say "installing gitleaks $GITLEAKS_VERSION into .cache/go/bin (Go module proxy)"
  GOBIN="$PWD/.cache/go/bin" go install "github.com/zricethezav/gitleaks/v8@${GITLEAKS_VERSION}"
fi
# kustomize + kubeconform: infra/local/k8s.spec.ts builds the Kubernetes overlays and validates them strictly against the
# schemas vendored in infra/k8s/schemas (issue #18); built into .cache/go/bin at pinned versions like gitleaks.
KUSTOMIZE_VERSION="v5.8.1"
KUBECONFORM_VERSION="v0.8.0"
if [[ "$(go version -m .cache/go/bin/kustomize 2>/dev/null | awk '$1 == "mod" { print $3 }')" == "$KUSTOMIZE_VERSION" ]]; then
  say "kustomize $KUSTOMIZE_VERSION present in .cache/go/bin: skipping"
else
  say "installing kustomize $KUSTOMIZE_VERSION into .cache/go/bin (Go module proxy)"
  GOBIN="$PWD/.cache/go/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"
fi
if [[ "$(go version -m .cache/go/bin/kubeconform 2>/dev/null | awk '$1 == "mod" { print $3 }')" == "$KUBECONFORM_VERSION" ]]; then
  say "kubeconform $KUBECONFORM_VERSION present in .cache/go/bin: skipping"
else
  say "installing kubeconform $KUBECONFORM_VERSION into .cache/go/bin (Go module proxy)"
  GOBIN="$PWD/.cache/go/bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}"
fi
# schemathesis (OpenAPI-driven HTTP fuzzing in the e2e layer) into the .cache/venv Python venv, pinned and idempotent.
bash tools/fuzz/install.sh

say "bootstrap done"
