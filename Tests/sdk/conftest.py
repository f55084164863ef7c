"""Starts `memory-local` the way a developer runs it, for the mem0ai SDK tests.

The executable is `$MEMORY_LOCAL_BIN` (or `$AGENTMEMORY_BIN`) if set, else `.build/debug/memory-local` from the repository root.
"""
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

os.environ["MEM0_TELEMETRY"] = "false"

ROOT = Path(__file__).resolve().parents[2]
WRITE_KEY = "sdk-write-key"
READ_KEY = "sdk-read-key"
OTHER_KEY = "sdk-other-tenant-key"


def _binary() -> str:
    path = os.environ.get("MEMORY_LOCAL_BIN") or os.environ.get("AGENTMEMORY_BIN") or str(ROOT / ".build" / "debug" / "memory-local")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: run `swift build` first (or set AGENTMEMORY_BIN)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture(scope="session")
def server():
    port = _free_port()
    storage = tempfile.mkdtemp(prefix="agentmemory-sdk-")
    env = {
        "PATH": "/usr/bin:/bin",
        "FUNCTIONS_CUSTOMHANDLER_PORT": str(port),
        "MEMORY_STORAGE": storage,
        "MEMORY_EMBEDDER": "hash",
        "MEMORY_API_KEYS": f"sdk:write:{_sha(WRITE_KEY)};sdk:read:{_sha(READ_KEY)};other:write:{_sha(OTHER_KEY)}",
    }
    log = open(os.path.join(storage, "handler.log"), "wb")
    proc = subprocess.Popen([_binary()], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"memory-local exited with {proc.returncode}: {open(log.name).read()}")
        try:
            with urllib.request.urlopen(url + "/", timeout=1) as r:
                json.load(r)
                break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                pytest.fail("memory-local did not answer GET / within 60 s")
            time.sleep(0.025)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
