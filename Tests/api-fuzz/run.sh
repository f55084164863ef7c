#!/usr/bin/env bash
# Fuzzes the HTTP API against its contract (issue #11 point 6): starts the built handler with API keys on a free
# loopback port, runs schemathesis over docs/openapi.yaml (every default check, a fixed seed, enough examples
# for more than 2,000 generated cases), prints the summary, stops the handler, exits non-zero on any failure.
#   MEMORY_LOCAL_BIN   the handler (default .build/debug/memory-local)
#   FUZZ_EXAMPLES      examples per operation (default 130)   FUZZ_SEED (default 1)
#   extra arguments go to `schemathesis run` (e.g. --include-operation-id searchMemories)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

bin="${MEMORY_LOCAL_BIN:-$root/.build/debug/memory-local}"
[ -x "$bin" ] || { echo "api-fuzz: $bin is not built (swift build --product memory-local)" >&2; exit 2; }
st="${SCHEMATHESIS:-$root/.venv/bin/schemathesis}"
[ -x "$st" ] || { echo "api-fuzz: $st not found (./scripts/install-deps.sh --python)" >&2; exit 2; }
examples="${FUZZ_EXAMPLES:-130}"
seed="${FUZZ_SEED:-1}"

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
admin_key="fuzz-admin-$(date +%s)-$$"
admin_hash="$("$bin" --hash-key "$admin_key")"
mkdir -p "$work/storage"

FUNCTIONS_CUSTOMHANDLER_PORT="$port" \
MEMORY_STORAGE="$work/storage" \
MEMORY_EMBEDDER=hash \
MEMORY_LOCAL_COMPACT_SECONDS=0 \
MEMORY_API_KEYS="fuzz:admin:$admin_hash" \
MEMORY_LOG_LEVEL=warning \
  "$bin" >"$work/handler.log" 2>&1 &
pid=$!

base="http://127.0.0.1:$port"
ready() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/", timeout=2)' "$base" >/dev/null 2>&1; }
for _ in $(seq 1 300); do
  ready && break
  kill -0 "$pid" 2>/dev/null || { echo "api-fuzz: the handler exited:" >&2; cat "$work/handler.log" >&2; exit 1; }
  sleep 0.1
done
ready || { echo "api-fuzz: the handler did not answer GET / on $base" >&2; exit 1; }

echo "== api-fuzz: schemathesis over docs/openapi.yaml against $base (seed $seed, $examples examples per operation)"
started=$(date +%s)
{
PYTHONPATH="$root/Tests/api-fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=fuzz_hooks \
"$st" --no-color --config-file "$root/Tests/api-fuzz/schemathesis.toml" run "$root/docs/openapi.yaml" \
  --url "$base" \
  --header "Authorization: Token $admin_key" \
  --seed "$seed" \
  --max-examples "$examples" \
  --workers 1 \
  --generation-database none \
  "$@" && echo 0 >"$work/status" || echo $? >"$work/status"
} 2>&1 | tee "$work/schemathesis.out"
status="$(cat "$work/status")"
echo "== api-fuzz: schemathesis exited $status after $(( $(date +%s) - started ))s"

if ! kill -0 "$pid" 2>/dev/null; then
  echo "api-fuzz: the handler died during the run:" >&2
  tail -50 "$work/handler.log" >&2
  status=1
fi
# The contract is checked over at least 2,000 generated cases (summary line "N generated, …").
generated="$(sed -n 's/^ *\([0-9][0-9]*\) generated.*/\1/p' "$work/schemathesis.out" | tail -1)"
if [ "$status" -eq 0 ] && [ $# -eq 0 ] && [ "${generated:-0}" -lt 2000 ]; then
  echo "api-fuzz: only ${generated:-0} cases were generated; at least 2000 are required (raise FUZZ_EXAMPLES)" >&2
  status=1
fi
exit "$status"
