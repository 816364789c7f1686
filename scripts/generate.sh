#!/usr/bin/env bash
# Regenerates every derived source from its schema. Output is committed, so a fresh clone builds
# without running this; scripts/check-generated.sh proves the committed output is current.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. Protobuf -> TypeScript (ts-proto, local plugin; options in buf.gen.yaml, rationale in
#    libs/contracts/README.md). buf.gen.yaml has `clean: true`, so deleted protos leave no stale files.
npx buf generate
# 2. Descriptor set (every proto + imports) for gRPC server reflection; see @tessera/contracts descriptorSetPath.
npx buf build -o libs/contracts/src/gen/descriptor.binpb
# 2b. Protobuf -> Go for services/stream-processor-go (buf.gen.go.yaml). protoc-gen-go is installed into
#     .cache/go/bin at the google.golang.org/protobuf version the service's go.mod pins (Go module proxy, cached).
GO_PROTOBUF_VERSION="$(cd services/stream-processor-go && go list -m -f '{{.Version}}' google.golang.org/protobuf)"
if [[ "$(.cache/go/bin/protoc-gen-go --version 2>/dev/null)" != "protoc-gen-go ${GO_PROTOBUF_VERSION}" ]]; then
  GOBIN="$PWD/.cache/go/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${GO_PROTOBUF_VERSION}"
fi
npx buf generate --template buf.gen.go.yaml

# 3. Prisma clients.
# >>> Prisma
# Every services/*/prisma/prisma.config.ts -> services/<svc>/src/generated/prisma (committed; offline-safe, docs/prisma.md).
bash tools/prisma/generate.sh >/dev/null


echo "generate: done"
