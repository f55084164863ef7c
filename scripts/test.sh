#!/usr/bin/env bash
# The test command (README.md "Run the tests"): installs what it needs, builds, and runs every suite:
# Swift unit, in-process HTTP and process tests, then the Python suites (Microsoft's azure-storage-blob SDK
# against the Blob test server, the official mem0ai SDK against a running handler).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh --python
./scripts/fetch-minilm.sh

echo "== swift build (debug, with tests)"
swift build --build-tests

echo "== swift test"
swift test --skip-build

echo "== swift test: the storage engine's suites again, on the Azure Blob backend (against Tests/blob-server)"
MEMORY_TEST_BLOB=azure swift test --skip-build --filter MemoryStorageTests

echo "== python suites"
export MEMORY_LOCAL_BIN="$PWD/.build/debug/memory-local"
export MEM0_TELEMETRY=false
.venv/bin/python -m pytest -q Tests/blob-server Tests/sdk

echo "== python: the mem0ai SDK suite again, with the service on the Azure Blob backend (connection string)"
AGENTMEMORY_SDK_BACKEND=azure .venv/bin/python -m pytest -q Tests/sdk

echo "== api-fuzz: schemathesis over docs/openapi.yaml against a running handler with API keys"
./Tests/api-fuzz/run.sh

echo "== packaging: release binaries with --static-swift-stdlib, each started with no Swift toolchain around"
./scripts/package-functions.sh

