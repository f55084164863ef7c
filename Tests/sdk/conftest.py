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
ADMIN_KEY = "sdk-admin-key"
# Bound to one user_id (the optional fourth field of MEMORY_API_KEYS): reaches only that user's memories.
BOUND_KEY = "sdk-bound-key"
BOUND_USER = "mcp-bound-user"


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


AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="session")
def blob_storage():
    """The `MEMORY_STORAGE` value for the handler: a temporary folder, or (with
    `AGENTMEMORY_SDK_BACKEND=azure`) a connection string to the Blob-protocol test server started here."""
    if os.environ.get("AGENTMEMORY_SDK_BACKEND", "folder") != "azure":
        yield tempfile.mkdtemp(prefix="agentmemory-sdk-")
        return
    server = ROOT / "Tests" / "blob-server" / "blob_server.py"
    proc = subprocess.Popen(["python3", str(server), "--port", "0", "--exit-on-stdin-eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().strip())
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
           f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def server(blob_storage):
    port = _free_port()
    storage = tempfile.mkdtemp(prefix="agentmemory-sdk-")
    env = {
        "PATH": "/usr/bin:/bin",
        "FUNCTIONS_CUSTOMHANDLER_PORT": str(port),
        "MEMORY_STORAGE": blob_storage,
        "MEMORY_EMBEDDER": "hash",
        "MEMORY_API_KEYS": (f"sdk:write:{_sha(WRITE_KEY)};sdk:read:{_sha(READ_KEY)};other:write:{_sha(OTHER_KEY)};"
                            f"sdk:admin:{_sha(ADMIN_KEY)};sdk:write:{_sha(BOUND_KEY)}:{BOUND_USER}"),
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
