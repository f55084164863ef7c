#!/usr/bin/env bash
# Assembles deployable Azure Functions custom-handler apps into dist/ (docs/functions.md):
#
#   dist/split/memory-search/   host.json, memory-search, search/function.json
#   dist/split/memory-add/      host.json, memory-add, add/function.json
#   dist/split/memory-compact/  host.json, memory-compact, compact/function.json, compact-now/function.json
#   dist/single/agentmemory/    host.json, memory-local, memory/function.json, compact/function.json
#   dist/mcp/agentmemory-mcp/   host.json (from host.mcp.json: "configurationProfile": "mcp-custom-handler"),
#                               memory-local: the self-hosted MCP server (/mcp), no function.json
#   dist/*.zip                  one zip per app (zip deploy / `az functionapp deployment source config-zip`)
#
# Binaries are release builds with --static-swift-stdlib, so a Functions Linux host needs no Swift runtime, and
# outgoing HTTPS is AsyncHTTPClient with BoringSSL built in, so no libcurl either (only the CA certificates).
# After packaging, every binary is checked: the shared libraries it names (`readelf -d`, NEEDED) must be among
# ALLOWED_LIBS below (glibc, libstdc++, libgcc_s and zlib: what README.md promises), and it must answer GET / when
# started with an empty environment and no Swift toolchain on PATH or LD_LIBRARY_PATH.
#
# Usage: scripts/package-functions.sh [--skip-build] [--no-check]
set -euo pipefail
cd "$(dirname "$0")/.."

SKIP_BUILD=0
CHECK=1
for arg in "$@"; do
  case "$arg" in
    --skip-build) SKIP_BUILD=1 ;;
    --no-check) CHECK=0 ;;
    *) echo "usage: $0 [--skip-build] [--no-check]" >&2; exit 2 ;;
  esac
done

PRODUCTS=(memory-search memory-add memory-compact memory-local)
# A separate scratch path, so a release build never waits on (or blocks) the debug build in .build.
BUILD_FLAGS=(-c release --static-swift-stdlib --scratch-path .build-release)
if [[ $SKIP_BUILD == 0 ]]; then
  for p in "${PRODUCTS[@]}"; do
    echo "==> swift build ${BUILD_FLAGS[*]} --product $p"
    swift build "${BUILD_FLAGS[@]}" --product "$p"
  done
fi
BIN=$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)

MODEL_DIR=models/all-MiniLM-L6-v2
./scripts/fetch-minilm.sh "$MODEL_DIR"

DIST=dist
rm -rf "$DIST"
mkdir -p "$DIST/split" "$DIST/single" "$DIST/mcp"

# host.json (or HOST_TEMPLATE) with the executable name substituted.
HOST_TEMPLATE=host.json
host_json() { sed "s/\"defaultExecutablePath\": \"[^\"]*\"/\"defaultExecutablePath\": \"$1\"/" "$HOST_TEMPLATE" > "$2/host.json"; }

# app <dir> <executable> <function>...
app() {
  local dir=$1 exe=$2; shift 2
  mkdir -p "$dir"
  host_json "$exe" "$dir"
  install -m 0755 "$BIN/$exe" "$dir/$exe"
  strip "$dir/$exe" 2>/dev/null || true
  # The embedded default embedder reads ./models/all-MiniLM-L6-v2 relative to the app root (the handler's
  # working directory); the compaction app never embeds.
  if [[ $exe != memory-compact ]]; then
    mkdir -p "$dir/models"
    cp -r "$MODEL_DIR" "$dir/models/"
  fi
  for f in "$@"; do
    mkdir -p "$dir/$f"
    cp "functions/$f/function.json" "$dir/$f/function.json"
  done
  (cd "$dir" && zip -qr "../../$(basename "$dir").zip" .)
  echo "packaged $dir ($(du -sh "$dir/$exe" | cut -f1) binary) -> $DIST/$(basename "$dir").zip"
}

app "$DIST/split/memory-search" memory-search search
app "$DIST/split/memory-add" memory-add add
app "$DIST/split/memory-compact" memory-compact compact compact-now
app "$DIST/single/agentmemory" memory-local memory compact
# The MCP app: the host proxies every request (/mcp, and the REST routes) to memory-local on customHandler.port;
# no function.json. Compaction is the compact app's job (or MEMORY_LOCAL_COMPACT_SECONDS).
HOST_TEMPLATE=host.mcp.json app "$DIST/mcp/agentmemory-mcp" memory-local

[[ $CHECK == 1 ]] || exit 0

echo "==> checking packaged binaries run without a Swift toolchain"
fail=0
ALLOWED_LIBS="libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1 libz.so.1 ld-linux-x86-64.so.2 libdl.so.2 libpthread.so.0 librt.so.1"
for exe in $DIST/split/*/memory-* $DIST/single/agentmemory/memory-local $DIST/mcp/agentmemory-mcp/memory-local; do
  needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  unexpected=""
  for lib in $needed; do
    case " $ALLOWED_LIBS " in *" $lib "*) ;; *) unexpected="$unexpected $lib" ;; esac
  done
  if [[ -n $unexpected ]]; then
    echo "FAIL: $exe needs shared libraries README.md does not promise:$unexpected" >&2; fail=1; continue
  fi
  echo "ok: $exe needs only: $needed"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  storage=$(mktemp -d)
  env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= FUNCTIONS_CUSTOMHANDLER_PORT="$port" MEMORY_STORAGE="$storage" \
      MEMORY_EMBEDDER=hash "$exe" > "$storage/out.log" 2>&1 &
  pid=$!
  ok=0
  for _ in $(seq 1 400); do
    if curl -sf "http://127.0.0.1:$port/" > "$storage/ready.json" 2>/dev/null; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.025
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ $ok == 1 ]] && grep -q '"status":"ok"' "$storage/ready.json"; then
    echo "ok: $exe answered GET / ($(cat "$storage/ready.json"))"
  else
    echo "FAIL: $exe did not answer GET /; its output:" >&2; cat "$storage/out.log" >&2; fail=1
  fi
  rm -rf "$storage"
done
exit $fail
