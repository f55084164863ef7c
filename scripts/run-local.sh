#!/usr/bin/env bash
# The local run (README.md "Run it locally"): every route on 127.0.0.1:${FUNCTIONS_CUSTOMHANDLER_PORT:-7071}
# with the embedded defaults: memories in ./.memory, the in-process MiniLM embedder, no API keys.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/fetch-minilm.sh
swift build -c release --product memory-local
exec .build/release/memory-local "$@"
