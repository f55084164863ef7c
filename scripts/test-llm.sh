#!/usr/bin/env bash
# The real-model suite (Tests/llm): `add` with `infer: true` through a running memory-local whose chat model
# is Gemma 3 270M served by llama-cpp-python on loopback, over raw HTTP and through the mem0ai SDK.
#
# Installs everything itself into ignored folders of the clone:
#   .venv-llm/    a virtual environment with Tests/llm/requirements.txt. llama-cpp-python comes as source
#                 only: the first install builds llama.cpp (CPU, no multimodal part) with CMake, which takes
#                 minutes on 2 cores; pip keeps the wheel in ~/.cache/pip, so a later fresh venv takes seconds.
#   .llm-cache/   the assembled model file, the model server's log and the add latencies of the last run.
# Builds .build/debug/memory-local when it is missing (MEMORY_LOCAL_BIN overrides the binary).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-llm
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# Only what the server needs: no llava/mtmd, examples, tests or llama.cpp's own server and tools.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
started=$(date +%s)
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r Tests/llm/requirements.txt
echo "test-llm: python packages ready in $(( $(date +%s) - started )) s"

if [ -z "${MEMORY_LOCAL_BIN:-}" ] && [ ! -x .build/debug/memory-local ]; then
  echo "== swift build --product memory-local"
  swift build --product memory-local
fi

echo "== python: Tests/llm (real model)"
export MEM0_TELEMETRY=false
"$VENV/bin/python" -m pytest -q -p no:cacheprovider Tests/llm
