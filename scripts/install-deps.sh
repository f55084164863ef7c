#!/usr/bin/env bash
# Installs what building, running and testing AgentMemory needs on a Debian machine that already has the
# Swift toolchain: system packages (apt) and, with --python, a virtual environment with the test tools.
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libcurl4-openssl-dev libopenblas0 zip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${1:-}" = "--python" ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -r Tests/requirements.txt
fi
