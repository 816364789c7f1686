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

# 3. Prisma clients.
# >>> Prisma
# Every services/*/prisma/prisma.config.ts -> services/<svc>/src/generated/prisma (committed; offline-safe, docs/prisma.md).
bash tools/prisma/generate.sh >/dev/null


echo "generate: done"
