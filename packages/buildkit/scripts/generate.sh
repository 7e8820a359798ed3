#!/usr/bin/env bash
# Regenerates src/gen/ from proto/ with protoc (Debian's protobuf-compiler) and Buf's
# protoc-gen-es (a devDependency). The output is committed; a test checks that this script
# reproduces it byte for byte. Usage: scripts/generate.sh [OUT_DIR] (default: src/gen).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-src/gen}
plugin=$(node -p 'require.resolve("@bufbuild/protoc-gen-es/bin/protoc-gen-es")')
# google/protobuf/*.proto: Debian's libprotobuf-dev (a dependency of protobuf-compiler).
include=${PROTOC_INCLUDE:-/usr/include}

rm -rf "$out"
mkdir -p "$out"
# Every file the services need, imports included. wire.proto imports stat.proto by its bare
# name, hence the second -I (stat.proto is named by that path alone, so it is passed as such).
protoc \
  --plugin=protoc-gen-es="$plugin" \
  --es_out="$out" \
  --es_opt=target=ts,import_extension=js \
  -I proto -I proto/github.com/tonistiigi/fsutil/types -I "$include" \
  proto/github.com/moby/buildkit/api/services/control/control.proto \
  proto/github.com/moby/buildkit/api/types/worker.proto \
  proto/github.com/moby/buildkit/solver/pb/ops.proto \
  proto/github.com/moby/buildkit/sourcepolicy/pb/policy.proto \
  proto/github.com/gogo/protobuf/gogoproto/gogo.proto \
  proto/github.com/gogo/googleapis/google/rpc/status.proto \
  proto/github.com/tonistiigi/fsutil/types/wire.proto \
  stat.proto \
  proto/github.com/moby/buildkit/session/filesync/filesync.proto \
  proto/github.com/moby/buildkit/session/secrets/secrets.proto \
  proto/github.com/moby/buildkit/session/auth/auth.proto \
  proto/grpc/health/v1/health.proto
