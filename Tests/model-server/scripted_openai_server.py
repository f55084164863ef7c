#!/usr/bin/env python3
"""A scripted OpenAI-compatible HTTP server for the model client tests (Python standard library only).

Start:  python3 scripted_openai_server.py --port 0        (prints the bound port on the first stdout line)

It serves the three URL styles the clients use:
  POST /openai/deployments/{deployment}/embeddings?api-version=V      (Azure, dated)
  POST /openai/deployments/{deployment}/chat/completions?api-version=V
  POST /openai/v1/embeddings, /openai/v1/chat/completions             (Azure v1: model in the body)
  POST /v1/embeddings, /v1/chat/completions                           (OpenAI-compatible: model in the body)

Every request is checked (path, headers, api-version, body shape; see `check_request`) and recorded. A request
that breaks a rule gets 400 {"error":{"code":"scripted_server_violation",...}} and is listed in `violations`.
Otherwise the next scripted response is popped from the queue and sent.

Admin endpoints (JSON):
  POST /_admin/script   {"expect": {...}, "responses": [entry, ...]}   expect replaces, responses append
  GET  /_admin/requests -> {"requests": [...], "violations": [...], "remaining": n}
  POST /_admin/reset    clears everything

expect (all optional): style ("azure-deployment" | "azure-v1" | "openai"), deployment, model, api_version,
  auth ({"api-key": "k"} | {"authorization": "Bearer t"} | "none"), max_batch (int),
  reject_formats: {kind: {"status": 500, "json": {...}}} where kind is the chat request's output mode,
    "json_schema", "json_object+schema" (json_object with a "schema"), "json_object" or "none" (no
    response_format). A chat request of a listed kind gets that answer without using the script, the way a
    server that cannot do that mode answers (llama-cpp-python: 500 naming response_format).

Response entries:
  {"status": 429, "headers": {"Retry-After": "2"}, "json": {...}}    any status, JSON body
  {"status": 200, "raw": "not json"}                                 raw body text
  {"chat": {"content": "...", "finish_reason": "stop", "refusal": null, "usage": {"prompt_tokens": 1, ...}}}
  {"chat_json": {...}, "usage": {...}}                               content = that object serialised
  {"embeddings": "auto", "order": "reversed" | "forward", "dim": 8}  vectors [len(text), 1, 1, ...]
  optional in any entry: "repeat": n (use it n times), "delay": seconds (sleep before answering),
  "reset": true (close the connection without answering),
  "stall_body": seconds (send the head and half the body, then sleep before the rest)
"""
import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATE_LOCK = threading.Lock()
STATE = {"expect": {}, "queue": [], "requests": [], "violations": []}

DEPLOYMENT_PATH = re.compile(r"^/openai/deployments/([^/]+)/(embeddings|chat/completions)$")
AZURE_V1_PATH = re.compile(r"^/openai/v1/(embeddings|chat/completions)$")
OPENAI_PATH = re.compile(r"^(?:/.*)?/v1/(embeddings|chat/completions)$")
SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def classify(path):
    """Returns (style, operation, deployment) or None."""
    m = DEPLOYMENT_PATH.match(path)
    if m:
        return "azure-deployment", m.group(2), m.group(1)
    m = AZURE_V1_PATH.match(path)
    if m:
        return "azure-v1", m.group(1), None
    m = OPENAI_PATH.match(path)
    if m:
        return "openai", m.group(1), None
    return None


def strict_schema_problems(schema, where="schema"):
    """OpenAI strict mode: every object lists all properties in `required` and sets additionalProperties false."""
    problems = []
    if not isinstance(schema, dict):
        return [f"{where} is not an object"]
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            problems.append(f"{where}: additionalProperties must be false in strict mode")
        if sorted(schema.get("required", [])) != sorted(props.keys()):
            problems.append(f"{where}: required must list every property in strict mode")
        for name, sub in props.items():
            problems += strict_schema_problems(sub, f"{where}.{name}")
    if schema.get("type") == "array" and "items" in schema:
        problems += strict_schema_problems(schema["items"], f"{where}[]")
    return problems


def check_request(path, query, headers, body, expect):
    problems = []
    kind = classify(path)
    if kind is None:
        return [f"unknown path {path}"], None
    style, operation, deployment = kind
    if expect.get("style") and expect["style"] != style:
        problems.append(f"expected {expect['style']} URL style, got {style} ({path})")
    if style == "azure-deployment":
        versions = query.get("api-version", [])
        if len(versions) != 1 or not versions[0]:
            problems.append("azure deployment URL without exactly one api-version query parameter")
        elif expect.get("api_version") and versions[0] != expect["api_version"]:
            problems.append(f"api-version {versions[0]} != expected {expect['api_version']}")
        if expect.get("deployment") and deployment != expect["deployment"]:
            problems.append(f"deployment {deployment} != expected {expect['deployment']}")
    elif "api-version" in query:
        problems.append(f"{style} URL must not carry api-version")
    if not headers.get("content-type", "").startswith("application/json"):
        problems.append("Content-Type is not application/json")
    auth = expect.get("auth")
    if auth == "none":
        if "api-key" in headers or "authorization" in headers:
            problems.append("credentials sent although none are configured")
    elif isinstance(auth, dict):
        for name, value in auth.items():
            if headers.get(name.lower()) != value:
                problems.append(f"header {name} is {headers.get(name.lower())!r}, expected {value!r}")
        other = {"api-key", "authorization"} - {k.lower() for k in auth}
        for name in other:
            if name in headers:
                problems.append(f"unexpected credential header {name}")
    if not isinstance(body, dict):
        return problems + ["body is not a JSON object"], kind
    if style == "azure-deployment":
        if "model" in body:
            problems.append("model in the body of an Azure deployment URL request")
    else:
        if not isinstance(body.get("model"), str) or not body["model"]:
            problems.append("model missing from the body")
        elif expect.get("model") and body["model"] != expect["model"]:
            problems.append(f"model {body['model']} != expected {expect['model']}")
    if operation == "embeddings":
        problems += check_embeddings(body, expect)
    else:
        problems += check_chat(body)
    return problems, kind


def check_embeddings(body, expect):
    problems = []
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs:
        return ["input must be a string or a non-empty array of strings"]
    if not all(isinstance(x, str) and x for x in inputs):
        problems.append("input contains a non-string or an empty string")
    max_batch = expect.get("max_batch", 2048)
    if len(inputs) > max_batch:
        problems.append(f"batch of {len(inputs)} inputs exceeds {max_batch}")
    if "dimensions" in body and (not isinstance(body["dimensions"], int) or body["dimensions"] <= 0):
        problems.append("dimensions must be a positive integer")
    if "encoding_format" in body and body["encoding_format"] not in ("float", "base64"):
        problems.append("encoding_format must be float or base64")
    allowed = {"input", "model", "dimensions", "encoding_format", "user"}
    extra = set(body) - allowed
    if extra:
        problems.append(f"unknown embeddings fields {sorted(extra)}")
    return problems


def check_chat(body):
    problems = []
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ["messages must be a non-empty array"]
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "developer") \
                or not isinstance(m.get("content"), str):
            problems.append(f"bad message {m!r}")
    if "temperature" in body and not isinstance(body["temperature"], (int, float)):
        problems.append("temperature must be a number")
    for field in ("max_tokens", "max_completion_tokens"):
        if field in body and (not isinstance(body[field], int) or body[field] <= 0):
            problems.append(f"{field} must be a positive integer")
    fmt = body.get("response_format")
    if fmt is not None:
        if not isinstance(fmt, dict):
            problems.append("response_format must be an object")
        elif fmt.get("type") == "json_schema":
            js = fmt.get("json_schema")
            if not isinstance(js, dict) or not SCHEMA_NAME.match(str(js.get("name", ""))) \
                    or not isinstance(js.get("schema"), dict):
                problems.append("json_schema needs a valid name and a schema object")
            elif js.get("strict") is True:
                problems += strict_schema_problems(js["schema"])
        elif fmt.get("type") == "json_object":
            if not any("json" in str(m.get("content", "")).lower() for m in messages if isinstance(m, dict)):
                problems.append("json_object mode needs the word JSON in the messages")
            if "schema" in fmt and not isinstance(fmt["schema"], dict):
                problems.append("response_format.schema must be a JSON schema object")
        else:
            problems.append(f"unknown response_format type {fmt.get('type')!r}")
    return problems


def output_mode(body):
    """The structured-output kind of a chat request body (see reject_formats in the module docstring)."""
    fmt = body.get("response_format") if isinstance(body, dict) else None
    if not isinstance(fmt, dict):
        return "none"
    if fmt.get("type") == "json_object" and "schema" in fmt:
        return "json_object+schema"
    return str(fmt.get("type"))


def chat_completion(content, finish_reason="stop", refusal=None, usage=None):
    usage = usage or {"prompt_tokens": 10, "completion_tokens": 5}
    usage = dict(usage)
    usage.setdefault("total_tokens", usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
        "model": "scripted",
        "choices": [{"index": 0, "finish_reason": finish_reason,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": usage,
    }


def auto_embeddings(body, entry):
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    dim = body.get("dimensions") or entry.get("dim", 8)
    data = [{"object": "embedding", "index": i, "embedding": [float(len(t))] + [1.0] * (dim - 1)}
            for i, t in enumerate(inputs)]
    if entry.get("order", "reversed") == "reversed":
        data.reverse()
    return {"object": "list", "data": data, "model": body.get("model", "scripted"),
            "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stdout for the port line; log to stderr quietly
        sys.stderr.write("scripted-server: " + (fmt % args) + "\n")

    def send_json(self, status, obj, headers=None):
        self.send_raw(status, json.dumps(obj).encode(), headers)

    def send_raw(self, status, data, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req-scripted")
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        stall = getattr(self, "stall_body", 0)
        if stall:
            self.stall_body = 0
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            time.sleep(stall)
            data = data[len(data) // 2:]
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if urlsplit(self.path).path == "/_admin/requests":
            with STATE_LOCK:
                self.send_json(200, {"requests": STATE["requests"], "violations": STATE["violations"],
                                     "remaining": len(STATE["queue"])})
            return
        self.send_json(404, {"error": {"code": "NotFound", "message": "no such path"}})

    def do_POST(self):
        parts = urlsplit(self.path)
        raw = self.read_body()
        if parts.path == "/_admin/script":
            script = json.loads(raw or b"{}")
            with STATE_LOCK:
                if "expect" in script:
                    STATE["expect"] = script["expect"]
                for entry in script.get("responses", []):
                    STATE["queue"] += [entry] * int(entry.get("repeat", 1))
            self.send_json(200, {"ok": True})
            return
        if parts.path == "/_admin/reset":
            with STATE_LOCK:
                STATE.update({"expect": {}, "queue": [], "requests": [], "violations": []})
            self.send_json(200, {"ok": True})
            return
        self.serve_model(parts, raw)

    def serve_model(self, parts, raw):
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with STATE_LOCK:
            expect = dict(STATE["expect"])
            problems, kind = check_request(parts.path, query, headers, body, expect)
            STATE["requests"].append({"method": "POST", "path": parts.path,
                                      "query": {k: v[0] for k, v in query.items()},
                                      "headers": headers, "body": body, "problems": problems})
            rejection = None
            if kind is not None and kind[1] == "chat/completions":
                rejection = (expect.get("reject_formats") or {}).get(output_mode(body))
            if problems:
                STATE["violations"] += [f"{parts.path}: {p}" for p in problems]
                entry = None
            elif rejection is not None:
                entry = rejection
            elif not STATE["queue"]:
                STATE["violations"].append(f"{parts.path}: script exhausted")
                problems = ["script exhausted"]
                entry = None
            else:
                entry = STATE["queue"].pop(0)
        if entry is None:
            status = 404 if kind is None else 418 if problems == ["script exhausted"] else 400
            self.send_json(status, {"error": {"code": "scripted_server_violation", "message": "; ".join(problems)}})
            return
        if entry.get("delay"):
            time.sleep(float(entry["delay"]))
        self.stall_body = float(entry.get("stall_body") or 0)
        if entry.get("reset"):
            # Lose the answer: close the (kept-alive) connection without sending a byte.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if "chat" in entry:
            c = entry["chat"]
            self.send_json(200, chat_completion(c.get("content"), c.get("finish_reason", "stop"),
                                                c.get("refusal"), c.get("usage")))
        elif "chat_json" in entry:
            self.send_json(200, chat_completion(json.dumps(entry["chat_json"]), usage=entry.get("usage")))
        elif entry.get("embeddings") == "auto":
            self.send_json(200, auto_embeddings(body, entry))
        elif "raw" in entry:
            self.send_raw(entry.get("status", 200), entry["raw"].encode(), entry.get("headers"))
        else:
            self.send_json(entry.get("status", 200), entry.get("json", {}), entry.get("headers"))


def exit_with_parent(parent):
    """Stop when the process that started us is gone (a killed test run must not leave servers behind)."""
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


def main():
    # A test runner may start us with SIGTERM blocked (the mask is inherited); unblock it so stopping works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
