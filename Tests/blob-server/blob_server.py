#!/usr/bin/env python3
"""A Blob Storage protocol test server (Python standard library only).

It speaks the subset of the Azure Blob REST API (x-ms-version 2021-08-06 semantics) that AgentMemory's
`AzureBlobStore` uses, faithfully enough that Microsoft's `azure-storage-blob` SDK works against it
(`test_fidelity.py` proves that): containers, block and append blobs, whole and ranged GET (`x-ms-range` wins
over `Range`), HEAD, ETags and conditional headers, `x-ms-blob-condition-appendpos` / `maxsize`, seal, paged
listing with prefix, maxresults and opaque markers, delete, and Azure-shaped errors (`x-ms-error-code` header
plus an XML body, no body on HEAD).

Authentication: SharedKey (the signature is recomputed from the request as received and compared; a mismatch
is `403 AuthenticationFailed` with the server's string-to-sign in the message, as Azure does), account SAS
(signature recomputed, expiry, permissions, services, resource types and protocol checked), and Bearer tokens
issued by the built-in managed-identity endpoint.

Test-only endpoints (never authenticated, never logged):
  GET  /__identity/token?resource=...&api-version=2019-08-01   managed-identity token endpoint
                                                               (needs header X-IDENTITY-HEADER = the secret)
  POST /__admin/identity   {"secret": "...", "lifetime": 3600, "revoke": false}  configure it (revoke: refuse every
                           token issued so far); GET returns {"fetches": n}
  POST /__admin/faults     {"op": "appendblock", "mode": "status"|"drop-before"|"drop-after"|"reset-before"|
                            "reset-after"|"incomplete-after"|"truncate-after"|"delay",
                            "status": 503, "code": "ServerBusy", "count": 1, "probability": 0.1, "delay": 2.0}
                           add a fault rule for operation `op` ("*" = any). Without `probability` it hits the next
                           `count` matching requests (queued rules, oldest first); with it, each matching request
                           draws and is hit with that probability (`count`, if given, caps the hits). Modes:
                             status            answer `status` with `code` (nothing applied)
                             drop-before/after lose the answer before / after applying the request: the start of
                                               the status line, then the connection closes, so every client and
                                               method (HEAD too) sees an answer cut short
                             reset-before/after close the connection without sending a byte
                             incomplete-after  apply, then answer the real status without what the protocol
                                               promises (ETag, x-ms-blob-append-offset, Content-MD5)
                             truncate-after    apply, then send the real headers and half of the body (a bodiless
                                               answer is lost as with drop-after)
                             delay             answer `delay` seconds late
  GET  /__admin/faults     the rules: [{"op","mode","count","probability","hits"}] (hits = requests faulted so far)
  DELETE /__admin/faults   remove every fault rule (blobs, containers and the request log stay)
  GET  /__admin/requests   the log of blob requests: [{"method","op","path","status"}]
  POST /__admin/reset      forget all blobs, containers, faults and the request log

Usage: python3 blob_server.py [--port 0] [--host 127.0.0.1] [--account NAME=BASE64KEY ...]
The first line on stdout is the port number actually bound. With --exit-on-stdin-eof the server exits when
its standard input closes (so a test run that dies never leaves it behind).
"""

from __future__ import annotations

import argparse
import base64
import calendar
import email.utils
import hashlib
import hmac
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MAX_APPEND_BLOCK_OLD = 4 * 1024 * 1024        # before x-ms-version 2022-11-02
MAX_APPEND_BLOCK_NEW = 100 * 1024 * 1024      # from 2022-11-02
MAX_APPEND_BLOCKS = 50_000
MAX_LIST_RESULTS = 5000
CLOCK_SKEW_SECONDS = 15 * 60

SIGNED_HEADERS = [
    "content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
    "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
]


class BlobError(Exception):
    """An Azure-shaped error response."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def strip_etag(value: str) -> str:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    return v


@dataclass
class Blob:
    kind: str                      # "BlockBlob" | "AppendBlob"
    data: bytearray
    etag: str                      # without quotes
    created: float
    modified: float
    content_type: str = "application/octet-stream"
    sealed: bool = False
    blocks: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Container:
    created: float
    etag: str
    blobs: dict[str, Blob] = field(default_factory=dict)


FAULT_MODES = ("status", "drop-before", "drop-after", "reset-before", "reset-after", "incomplete-after",
               "truncate-after", "delay")
PROMISED_HEADERS = ("ETag", "x-ms-blob-append-offset", "Content-MD5")


@dataclass
class Fault:
    op: str
    mode: str
    count: int | None                  # hits left; None = unlimited (probability rules only)
    status: int = 503
    code: str = "ServerBusy"
    delay: float = 0.0
    probability: float | None = None   # None = hit every matching request while count lasts
    hits: int = 0

    def describe(self) -> dict:
        return {"op": self.op, "mode": self.mode, "count": self.count, "probability": self.probability,
                "hits": self.hits, "status": self.status, "code": self.code, "delay": self.delay}


class State:
    """Everything the server holds, behind one lock."""

    def __init__(self, accounts: dict[str, bytes]):
        self.lock = threading.Lock()
        self.accounts = accounts
        self.containers: dict[tuple[str, str], Container] = {}
        self.faults: list[Fault] = []
        self.random = random.Random(os.environ.get("BLOB_SERVER_FAULT_SEED"))
        self.requests: list[dict] = []
        self.etag_counter = 0x8DC0C1A0000000
        self.identity_secret = "test-identity-secret"
        self.identity_lifetime = 3600
        self.identity_fetches = 0
        self.tokens: dict[str, float] = {}

    def new_etag(self) -> str:
        self.etag_counter += 1
        return f"0x{self.etag_counter:X}"

    def reset(self) -> None:
        self.containers.clear()
        self.faults.clear()
        self.requests.clear()
        self.identity_fetches = 0
        self.tokens.clear()

    def take_fault(self, op: str) -> Fault | None:
        """The fault rule that hits this request, if any: the first matching rule with hits left whose draw (for a
        probability rule) succeeds."""
        for f in self.faults:
            if f.op not in ("*", op) or (f.count is not None and f.count <= 0):
                continue
            if f.probability is not None and self.random.random() >= f.probability:
                continue
            if f.count is not None:
                f.count -= 1
            f.hits += 1
            return f
        return None


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Splits a raw query string as Azure does: `&`, first `=`, percent-decoding without `+` → space."""
    pairs = []
    if not raw:
        return pairs
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def sign(key: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AgentMemoryBlobTestServer/1.0"
    state: State  # set on the class by main()
    verbose = False

    # ----- plumbing -------------------------------------------------------------------------------------

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (BaseHTTPRequestHandler's signature)
        if self.verbose:
            sys.stderr.write("blob-server: " + (format % args) + "\n")

    def do_GET(self): self.dispatch("GET")
    def do_PUT(self): self.dispatch("PUT")
    def do_HEAD(self): self.dispatch("HEAD")
    def do_DELETE(self): self.dispatch("DELETE")
    def do_POST(self): self.dispatch("POST")

    def header(self, name: str) -> str | None:
        values = self.headers.get_all(name)
        if not values:
            return None
        return ",".join(v for v in values)

    def read_body(self) -> bytes:
        if (self.header("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.header("Content-Length") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        request_id = str(uuid.uuid4())
        self.send_header("x-ms-request-id", request_id)
        self.send_header("x-ms-version", self.header("x-ms-version") or "2021-08-06")
        client_id = self.header("x-ms-client-request-id")
        if client_id:
            self.send_header("x-ms-client-request-id", client_id)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_error_response(self, err: BlobError) -> None:
        headers = {"x-ms-error-code": err.code, **err.headers}
        if self.command == "HEAD":
            headers["Content-Length"] = "0"
            self.send(err.status, headers)
            return
        body = ('<?xml version="1.0" encoding="utf-8"?>\n<Error><Code>%s</Code><Message>%s\nRequestId:%s\nTime:%s'
                '</Message></Error>' % (escape(err.code), escape(err.message), uuid.uuid4(),
                                        time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))).encode()
        headers["Content-Type"] = "application/xml"
        self.send(err.status, headers, body)

    def send_json(self, status: int, obj) -> None:
        self.send(status, {"Content-Type": "application/json"}, json.dumps(obj).encode())

    # ----- routing --------------------------------------------------------------------------------------

    def dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        self.raw_path = split.path
        self.query_pairs = parse_query(split.query)
        self.query = {}
        for k, v in self.query_pairs:
            self.query.setdefault(k.lower(), v)
        if self.raw_path.startswith("/__admin/"):
            self.handle_admin(method)
            return
        if self.raw_path.startswith("/__identity/"):
            self.handle_identity()
            return
        body = self.read_body() if method in ("PUT", "POST") else b""
        if self.verbose:
            sys.stderr.write(f"blob-server: {method} {self.path} headers={dict(self.headers.items())} "
                             f"body={len(body)} bytes\n")
        op = "unknown"
        status = 500
        self.logged = False
        try:
            account, container, blob, resource_path = self.locate()
            op = self.operation(method, container, blob)
            with self.state.lock:
                fault = self.state.take_fault(op)
            if fault and fault.mode == "delay":
                self.record_request(method, op, -1)   # logged on arrival: the answer comes late
                time.sleep(fault.delay)
            if fault and fault.mode in ("drop-before", "reset-before"):
                self.drop(method, op, fault.mode)
                return
            if fault and fault.mode == "status":
                raise BlobError(fault.status, fault.code, f"Injected fault for operation {op}.")
            self.authenticate(method, account, resource_path, op, container, blob)
            with self.state.lock:
                status, headers, payload = self.execute(method, op, account, container, blob, body)
            if fault and fault.mode in ("drop-after", "reset-after"):
                self.drop(method, op, fault.mode)
                return
            if fault and fault.mode == "incomplete-after":
                headers = {k: v for k, v in headers.items() if k not in PROMISED_HEADERS}
            if fault and fault.mode == "truncate-after":
                self.truncate(method, op, status, headers, payload)
                return
            self.send(status, headers, payload)
        except BlobError as err:
            status = err.status
            try:
                self.send_error_response(err)
            except OSError:   # the client gave up (timed out) before the answer: nothing to tell it
                self.close_connection = True
        finally:
            if not self.logged:
                self.record_request(method, op, status)

    def record_request(self, method: str, op: str, status: int) -> None:
        self.logged = True
        with self.state.lock:
            self.state.requests.append({"method": method, "op": op, "path": self.path, "status": status})

    def drop(self, method: str, op: str, mode: str) -> None:
        """Loses the answer. `drop-*` sends the start of the status line and closes the connection: every client and
        method, HEAD included, sees an answer cut short (a client may end a header block at EOF, so the cut is
        inside the status line). `reset-*` closes
        without sending a byte (an HTTP client may then silently resend the request on a new connection, as
        libcurl does for reused connections)."""
        self.record_request(method, op, 0)
        self.close_connection = True
        try:
            if mode.startswith("drop"):
                self.wfile.write(b"HTTP/1.1 2")
                self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def truncate(self, method: str, op: str, status: int, headers: dict[str, str], payload: bytes) -> None:
        """Sends the real status and headers, then half of the body, and closes (a short body). An answer without
        a body is lost as `drop-after` loses it."""
        body = payload if method != "HEAD" else b""
        if len(body) < 2:
            self.drop(method, op, "drop-after")
            return
        self.record_request(method, op, status)
        self.close_connection = True
        try:
            self.send_response(status)
            for k, v in headers.items():
                if k != "Content-Length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def locate(self) -> tuple[str, str | None, str | None, str]:
        """Returns (account, container, blob, path for the canonicalized resource)."""
        host = (self.header("Host") or "").split(":")[0]
        first_label = host.split(".")[0]
        is_ip = host.replace(".", "").isdigit() or host in ("localhost", "") or host.startswith("[")
        segments = self.raw_path.split("/")[1:]
        if not is_ip and first_label in self.state.accounts:
            account = first_label            # virtual-host style: account.blob.<suffix>
            rest = segments
        else:
            if not segments or not segments[0]:
                raise BlobError(400, "InvalidUri", "The request URI does not name an account.")
            account = unquote(segments[0])   # path style: /{account}/{container}/{blob}
            rest = segments[1:]
        if account not in self.state.accounts:
            raise BlobError(400, "InvalidUri", f"Unknown account '{account}'.")
        container = unquote(rest[0]) if rest and rest[0] else None
        blob = unquote("/".join(rest[1:])) if len(rest) > 1 and "/".join(rest[1:]) else None
        return account, container, blob, self.raw_path

    def operation(self, method: str, container: str | None, blob: str | None) -> str:
        comp = self.query.get("comp", "")
        restype = self.query.get("restype", "")
        if blob is None:
            if restype == "container" and comp == "list" and method == "GET":
                return "list"
            if restype == "container":
                return {"PUT": "createcontainer", "GET": "containerprops", "HEAD": "containerprops",
                        "DELETE": "deletecontainer"}.get(method, "unknown")
            if comp == "list" and method == "GET":
                return "listcontainers"
            return "unknown"
        if method == "PUT":
            return {"": "putblob", "appendblock": "appendblock", "seal": "seal"}.get(comp, "unsupported")
        return {"GET": "get", "HEAD": "head", "DELETE": "delete"}.get(method, "unsupported")

    # ----- authentication -------------------------------------------------------------------------------

    def authenticate(self, method, account, resource_path, op, container, blob) -> None:
        auth = self.header("Authorization")
        if "sig" in self.query:
            self.check_sas(account, op, container, blob)
        elif auth and auth.startswith("SharedKey "):
            self.check_shared_key(method, account, resource_path, auth[len("SharedKey "):])
        elif auth and auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
            expiry = self.state.tokens.get(token)
            if expiry is None or expiry < time.time():
                raise BlobError(401, "InvalidAuthenticationInfo", "Server failed to authenticate the request. "
                                "The bearer token is unknown or expired.")
        else:
            raise BlobError(401, "NoAuthenticationInformation", "Server failed to authenticate the request. "
                            "Please refer to the information in the www-authenticate header.")
        if not self.header("x-ms-version"):
            raise BlobError(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request "
                            "is not specified: x-ms-version.")
        self.check_date()

    def check_date(self) -> None:
        raw = self.header("x-ms-date") or self.header("Date")
        if not raw:
            raise BlobError(403, "AuthenticationFailed", "Server failed to authenticate the request. "
                            "x-ms-date or Date is required.")
        try:
            ts = email.utils.parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError):
            raise BlobError(403, "AuthenticationFailed", f"The date '{raw}' is not an RFC 1123 date.")
        if abs(ts - time.time()) > CLOCK_SKEW_SECONDS:
            raise BlobError(403, "AuthenticationFailed", "Request date header too old or too new: "
                            f"'{raw}' is more than 15 minutes from the server time.")

    def string_to_sign(self, method: str, account: str, resource_path: str) -> str:
        values = []
        for name in SIGNED_HEADERS:
            v = self.header(name) or ""
            if name == "content-length" and v == "0":
                v = ""
            values.append(v)
        xms: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            lname = name.lower()
            if lname.startswith("x-ms-"):
                xms.setdefault(lname, []).append(value.strip())
        canonical_headers = "".join(f"{n}:{','.join(xms[n])}\n" for n in sorted(xms))
        resource = f"/{account}{resource_path}"
        grouped: dict[str, list[str]] = {}
        for k, v in self.query_pairs:
            grouped.setdefault(k.lower(), []).append(v)
        for name in sorted(grouped):
            resource += f"\n{name}:{','.join(sorted(grouped[name]))}"
        return method + "\n" + "\n".join(values) + "\n" + canonical_headers + resource

    def check_shared_key(self, method: str, account: str, resource_path: str, credential: str) -> None:
        claimed_account, _, signature = credential.partition(":")
        if claimed_account != account:
            raise BlobError(403, "AuthenticationFailed", f"Server failed to authenticate the request. The "
                            f"signature is for account '{claimed_account}', the request addresses '{account}'.")
        text = self.string_to_sign(method, account, resource_path)
        expected = sign(self.state.accounts[account], text)
        if not hmac.compare_digest(expected, signature.strip()):
            raise BlobError(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure "
                            "the value of Authorization header is formed correctly including the signature.\n"
                            f"The MAC signature found in the HTTP request '{signature}' is not the same as any "
                            f"computed signature. Server used following string to sign: '{text}'.")

    def check_sas(self, account: str, op: str, container, blob) -> None:
        q = self.query
        if "sr" in q:
            raise BlobError(403, "AuthenticationFailed", "Service SAS is not supported by this test server; "
                            "use an account SAS.")
        text = "\n".join([account, q.get("sp", ""), q.get("ss", ""), q.get("srt", ""), q.get("st", ""),
                          q.get("se", ""), q.get("sip", ""), q.get("spr", ""), q.get("sv", ""),
                          q.get("ses", "")]) + "\n"
        if not hmac.compare_digest(sign(self.state.accounts[account], text), q.get("sig", "")):
            raise BlobError(403, "AuthenticationFailed", "Server failed to authenticate the request. "
                            f"Signature did not match. String to sign used was {text!r}.")
        expiry = q.get("se", "")
        try:
            expires = calendar.timegm(time.strptime(expiry.replace("Z", "")[:19], "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            raise BlobError(403, "AuthenticationFailed", f"Invalid SAS expiry '{expiry}'.")
        if expires < time.time():
            raise BlobError(403, "AuthenticationFailed", f"Signed expiry time [{expiry}] must be after signed "
                            "start time and the current time.")
        if "b" not in q.get("ss", ""):
            raise BlobError(403, "AuthorizationServiceMismatch", "This request is not authorized to perform "
                            "this operation using this service (the SAS has no 'b' in ss).")
        needed_type = "o" if blob is not None else ("c" if container is not None else "s")
        if needed_type not in q.get("srt", ""):
            raise BlobError(403, "AuthorizationResourceTypeMismatch", "This request is not authorized to "
                            f"perform this operation using this resource type (needs '{needed_type}' in srt).")
        if q.get("spr", "https,http") == "https":
            raise BlobError(403, "AuthorizationProtocolMismatch", "This request is not authorized to perform "
                            "this operation using this protocol (the SAS allows https only).")
        needed = {"get": "r", "head": "r", "containerprops": "r", "list": "l", "listcontainers": "l",
                  "putblob": "cw", "createcontainer": "c", "appendblock": "aw", "seal": "w",
                  "delete": "d", "deletecontainer": "d"}.get(op, "w")
        if not any(letter in q.get("sp", "") for letter in needed):
            raise BlobError(403, "AuthorizationPermissionMismatch", "This request is not authorized to "
                            f"perform this operation using this permission (needs one of '{needed}').")

    # ----- operations (called with the lock held) -------------------------------------------------------

    def execute(self, method, op, account, container, blob, body):
        if op == "createcontainer":
            key = (account, container)
            if key in self.state.containers:
                raise BlobError(409, "ContainerAlreadyExists", "The specified container already exists.")
            c = Container(created=time.time(), etag=self.state.new_etag())
            self.state.containers[key] = c
            return 201, {"ETag": f'"{c.etag}"', "Last-Modified": http_date(c.created)}, b""
        if op in ("containerprops", "deletecontainer"):
            c = self.container(account, container)
            if op == "deletecontainer":
                del self.state.containers[(account, container)]
                return 202, {}, b""
            return 200, {"ETag": f'"{c.etag}"', "Last-Modified": http_date(c.created)}, b""
        if op == "list":
            return self.list_blobs(account, container)
        if op == "putblob":
            return self.put_blob(account, container, blob, body)
        if op == "appendblock":
            return self.append_block(account, container, blob, body)
        if op == "seal":
            return self.seal(account, container, blob)
        if op in ("get", "head"):
            return self.get_blob(method, account, container, blob)
        if op == "delete":
            return self.delete_blob(account, container, blob)
        raise BlobError(400, "UnsupportedHttpVerb" if op == "unknown" else "NotImplemented",
                        f"The test server does not implement this request ({method} {self.path}).")

    def container(self, account, container) -> Container:
        c = self.state.containers.get((account, container))
        if c is None:
            raise BlobError(404, "ContainerNotFound", "The specified container does not exist.")
        return c

    def check_conditions(self, blob: Blob | None, creating: bool, reading: bool = False) -> None:
        if_match = self.header("If-Match")
        if_none_match = self.header("If-None-Match")
        if if_match is not None:
            if "," in if_match:
                raise BlobError(400, "MultipleConditionHeadersNotSupported",
                                "Multiple condition headers are not supported.")
            if blob is None or (if_match.strip() != "*" and strip_etag(if_match) != blob.etag):
                raise BlobError(412, "ConditionNotMet", "The condition specified using HTTP conditional "
                                "header(s) is not met.")
        if if_none_match is not None and blob is not None:
            if if_none_match.strip() == "*":
                if creating:
                    raise BlobError(409, "BlobAlreadyExists", "The specified blob already exists.")
                raise BlobError(412, "ConditionNotMet", "The condition specified using HTTP conditional "
                                "header(s) is not met.")
            if strip_etag(if_none_match) == blob.etag:
                if reading:
                    raise BlobError(304, "ConditionNotMet", "Not modified.")
                raise BlobError(412, "ConditionNotMet", "The condition specified using HTTP conditional "
                                "header(s) is not met.")
        for name, after in (("If-Modified-Since", True), ("If-Unmodified-Since", False)):
            raw = self.header(name)
            if raw and blob is not None:
                try:
                    ts = email.utils.parsedate_to_datetime(raw).timestamp()
                except (TypeError, ValueError):
                    continue
                if (after and int(blob.modified) <= ts) or (not after and int(blob.modified) > ts):
                    raise BlobError(412, "ConditionNotMet", "The condition specified using HTTP "
                                    "conditional header(s) is not met.")

    def blob_headers(self, b: Blob) -> dict[str, str]:
        h = {"ETag": f'"{b.etag}"', "Last-Modified": http_date(b.modified),
             "x-ms-creation-time": http_date(b.created), "x-ms-blob-type": b.kind,
             "x-ms-lease-state": "available", "x-ms-lease-status": "unlocked", "x-ms-server-encrypted": "true",
             "Accept-Ranges": "bytes", "Content-Type": b.content_type}
        if b.kind == "AppendBlob":
            h["x-ms-blob-committed-block-count"] = str(b.blocks)
            h["x-ms-blob-sealed"] = "true" if b.sealed else "false"
        for k, v in b.metadata.items():
            h[f"x-ms-meta-{k}"] = v
        return h

    def put_blob(self, account, container, name, body):
        c = self.container(account, container)
        if self.header("Content-Length") is None and (self.header("Transfer-Encoding") or "") == "":
            raise BlobError(411, "MissingContentLengthHeader", "Content-Length HTTP header is missing.")
        kind = self.header("x-ms-blob-type")
        if kind not in ("BlockBlob", "AppendBlob"):
            raise BlobError(400, "MissingRequiredHeader" if kind is None else "InvalidHeaderValue",
                            "x-ms-blob-type must be BlockBlob or AppendBlob for this test server.")
        if kind == "AppendBlob" and body:
            raise BlobError(400, "InvalidHeaderValue", "Content-Length must be 0 for Create Append Blob request.")
        existing = c.blobs.get(name)
        self.check_conditions(existing, creating=True)
        md5 = self.header("Content-MD5")
        if md5 and base64.b64encode(hashlib.md5(body).digest()).decode() != md5:
            raise BlobError(400, "Md5Mismatch", "The MD5 value specified in the request did not match with "
                            "the MD5 value calculated by the server.")
        now = time.time()
        b = Blob(kind=kind, data=bytearray(body), etag=self.state.new_etag(),
                 created=existing.created if existing else now, modified=now,
                 content_type=self.header("x-ms-blob-content-type") or self.header("Content-Type")
                 or "application/octet-stream",
                 metadata={k[len("x-ms-meta-"):]: v for k, v in self.headers.items()
                           if k.lower().startswith("x-ms-meta-")})
        c.blobs[name] = b
        headers = {"ETag": f'"{b.etag}"', "Last-Modified": http_date(now), "x-ms-request-server-encrypted": "true"}
        if kind == "BlockBlob":
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        return 201, headers, b""

    def append_block(self, account, container, name, body):
        version = self.header("x-ms-version") or ""
        limit = MAX_APPEND_BLOCK_NEW if version >= "2022-11-02" else MAX_APPEND_BLOCK_OLD
        if len(body) > limit:
            raise BlobError(413, "RequestEntityTooLarge", f"The request body is too large: {len(body)} bytes "
                            f"exceeds the append block limit of {limit} bytes for version {version}.")
        if not body:
            raise BlobError(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the "
                            "correct format (Content-Length must be greater than 0).")
        c = self.container(account, container)
        b = c.blobs.get(name)
        if b is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        if b.kind != "AppendBlob":
            raise BlobError(409, "InvalidBlobType", "The blob type is invalid for this operation.")
        if b.blocks >= MAX_APPEND_BLOCKS:
            raise BlobError(409, "BlockCountExceedsLimit", "The committed block count cannot exceed the "
                            "maximum limit of 50,000 blocks.")
        self.check_conditions(b, creating=False)
        if b.sealed:
            raise BlobError(409, "BlobIsSealed", "The blob is sealed and its contents cannot be modified.")
        pos = self.header("x-ms-blob-condition-appendpos")
        if pos is not None and int(pos) != len(b.data):
            raise BlobError(412, "AppendPositionConditionNotMet", "The append position condition specified "
                            "was not met.")
        maxsize = self.header("x-ms-blob-condition-maxsize")
        if maxsize is not None and len(b.data) + len(body) > int(maxsize):
            raise BlobError(412, "MaxBlobSizeConditionNotMet", "The max blob size condition specified was "
                            "not met.")
        md5 = self.header("Content-MD5")
        if md5 and base64.b64encode(hashlib.md5(body).digest()).decode() != md5:
            raise BlobError(400, "Md5Mismatch", "The MD5 value specified in the request did not match with "
                            "the MD5 value calculated by the server.")
        offset = len(b.data)
        b.data.extend(body)
        b.blocks += 1
        b.etag = self.state.new_etag()
        b.modified = time.time()
        return 201, {"ETag": f'"{b.etag}"', "Last-Modified": http_date(b.modified),
                     "x-ms-blob-append-offset": str(offset), "x-ms-blob-committed-block-count": str(b.blocks),
                     "x-ms-request-server-encrypted": "true"}, b""

    def seal(self, account, container, name):
        c = self.container(account, container)
        b = c.blobs.get(name)
        if b is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        if b.kind != "AppendBlob":
            raise BlobError(409, "InvalidBlobType", "The blob type is invalid for this operation.")
        self.check_conditions(b, creating=False)
        pos = self.header("x-ms-blob-condition-appendpos")
        if pos is not None and int(pos) != len(b.data):
            raise BlobError(412, "AppendPositionConditionNotMet", "The append position condition specified "
                            "was not met.")
        if not b.sealed:
            b.sealed = True
            b.etag = self.state.new_etag()
            b.modified = time.time()
        return 200, {"ETag": f'"{b.etag}"', "Last-Modified": http_date(b.modified),
                     "x-ms-blob-sealed": "true"}, b""

    def get_blob(self, method, account, container, name):
        c = self.container(account, container)
        b = c.blobs.get(name)
        if b is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        self.check_conditions(b, creating=False, reading=True)
        headers = self.blob_headers(b)
        size = len(b.data)
        range_header = self.header("x-ms-range") or self.header("Range")
        if method == "GET" and range_header:
            spec = range_header.strip()
            if not spec.startswith("bytes=") or "," in spec:
                raise BlobError(400, "InvalidHeaderValue", f"Invalid range '{spec}'.")
            first, _, last = spec[len("bytes="):].partition("-")
            try:
                start = int(first)
                end = int(last) if last else size - 1
            except ValueError:
                raise BlobError(400, "InvalidHeaderValue", f"Invalid range '{spec}'.")
            if end < start:
                raise BlobError(400, "InvalidHeaderValue", f"Invalid range '{spec}'.")
            if start >= size:
                raise BlobError(416, "InvalidRange", "The range specified is invalid for the current size of "
                                "the resource.", {"Content-Range": f"bytes */{size}"})
            end = min(end, size - 1)
            payload = bytes(b.data[start:end + 1])
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            headers["Content-Length"] = str(len(payload))
            if (self.header("x-ms-range-get-content-md5") or "").lower() == "true":
                headers["Content-MD5"] = base64.b64encode(hashlib.md5(payload).digest()).decode()
            return 206, headers, payload
        headers["Content-Length"] = str(size)
        if b.kind == "BlockBlob":
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(bytes(b.data)).digest()).decode()
        return 200, headers, (bytes(b.data) if method == "GET" else b"")

    def delete_blob(self, account, container, name):
        c = self.container(account, container)
        b = c.blobs.get(name)
        if b is None and self.header("If-Match") is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        self.check_conditions(b, creating=False)
        del c.blobs[name]
        return 202, {"x-ms-delete-type-permanent": "true"}, b""

    def list_blobs(self, account, container):
        c = self.container(account, container)
        prefix = self.query.get("prefix", "")
        marker = self.query.get("marker", "")
        try:
            max_results = int(self.query.get("maxresults", str(MAX_LIST_RESULTS)))
        except ValueError:
            raise BlobError(400, "InvalidQueryParameterValue", "maxresults must be an integer.")
        if max_results <= 0:
            raise BlobError(400, "OutOfRangeQueryParameterValue", "maxresults must be at least 1.")
        max_results = min(max_results, MAX_LIST_RESULTS)
        start_after = ""
        if marker:
            try:
                start_after = base64.b64decode(marker.encode(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                raise BlobError(400, "OutOfRangeInput", "One of the request inputs is out of range "
                                "(the marker is not one this server issued).")
        names = sorted(n for n in c.blobs if n.startswith(prefix) and n >= start_after)
        page, rest = names[:max_results], names[max_results:]
        next_marker = base64.b64encode(rest[0].encode()).decode() if rest else ""
        host = self.header("Host") or "127.0.0.1"
        parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<EnumerationResults ServiceEndpoint='
                 f'{quoteattr(f"http://{host}/{account}/")} ContainerName={quoteattr(container)}>']
        if "prefix" in self.query:
            parts.append(f"<Prefix>{escape(prefix)}</Prefix>")
        if marker:
            parts.append(f"<Marker>{escape(marker)}</Marker>")
        if "maxresults" in self.query:
            parts.append(f"<MaxResults>{max_results}</MaxResults>")
        parts.append("<Blobs>")
        for n in page:
            b = c.blobs[n]
            props = [f"<Creation-Time>{http_date(b.created)}</Creation-Time>",
                     f"<Last-Modified>{http_date(b.modified)}</Last-Modified>",
                     f"<Etag>{b.etag}</Etag>",
                     f"<Content-Length>{len(b.data)}</Content-Length>",
                     f"<Content-Type>{escape(b.content_type)}</Content-Type>",
                     "<Content-Encoding /><Content-Language />"]
            if b.kind == "BlockBlob":
                props.append(f"<Content-MD5>{base64.b64encode(hashlib.md5(bytes(b.data)).digest()).decode()}"
                             "</Content-MD5>")
            props.append(f"<BlobType>{b.kind}</BlobType>")
            if b.kind == "BlockBlob":
                props.append("<AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>")
            props.append("<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
                         "<ServerEncrypted>true</ServerEncrypted>")
            if b.kind == "AppendBlob":
                props.append(f"<Sealed>{'true' if b.sealed else 'false'}</Sealed>")
            parts.append(f"<Blob><Name>{escape(n)}</Name><Properties>{''.join(props)}</Properties></Blob>")
        parts.append("</Blobs>")
        parts.append(f"<NextMarker>{escape(next_marker)}</NextMarker>" if next_marker else "<NextMarker />")
        parts.append("</EnumerationResults>")
        return 200, {"Content-Type": "application/xml"}, "".join(parts).encode()

    # ----- test-only endpoints --------------------------------------------------------------------------

    def handle_identity(self) -> None:
        if self.header("X-IDENTITY-HEADER") != self.state.identity_secret:
            self.send_json(401, {"error": "invalid_request",
                                 "error_description": "X-IDENTITY-HEADER is missing or wrong"})
            return
        resource = self.query.get("resource")
        if not resource or self.query.get("api-version") != "2019-08-01":
            self.send_json(400, {"error": "invalid_request",
                                 "error_description": "resource and api-version=2019-08-01 are required"})
            return
        with self.state.lock:
            self.state.identity_fetches += 1
            token = f"mi-token-{self.state.identity_fetches}-{uuid.uuid4().hex}"
            expires = int(time.time()) + self.state.identity_lifetime
            self.state.tokens[token] = float(expires)
        self.send_json(200, {"access_token": token, "expires_on": str(expires), "resource": resource,
                             "token_type": "Bearer", "client_id": "5E29463D-71DA-4FE0-8E69-999B57DB23B0"})

    def handle_admin(self, method: str) -> None:
        body = self.read_body() if method in ("PUT", "POST") else b""
        what = self.raw_path[len("/__admin/"):].strip("/")
        try:
            payload = json.loads(body) if body else {}
        except json.JSONDecodeError as e:
            self.send_json(400, {"error": f"bad JSON: {e}"})
            return
        with self.state.lock:
            if what == "reset" and method == "POST":
                self.state.reset()
                self.send_json(200, {"ok": True})
            elif what == "faults" and method == "POST":
                probability = payload.get("probability")
                if probability is not None and not 0 <= float(probability) <= 1:
                    self.send_json(400, {"error": f"probability {probability} is not within 0...1"})
                    return
                count = payload.get("count", None if probability is not None else 1)
                f = Fault(op=payload.get("op", "*"), mode=payload.get("mode", "status"),
                          count=None if count is None else int(count), status=int(payload.get("status", 503)),
                          code=payload.get("code", "ServerBusy"), delay=float(payload.get("delay", 0)),
                          probability=None if probability is None else float(probability))
                if f.mode not in FAULT_MODES:
                    self.send_json(400, {"error": f"unknown fault mode {f.mode}; one of {', '.join(FAULT_MODES)}"})
                    return
                self.state.faults.append(f)
                self.send_json(200, {"ok": True})
            elif what == "faults" and method == "GET":
                self.send_json(200, [f.describe() for f in self.state.faults])
            elif what == "faults" and method == "DELETE":
                self.state.faults.clear()
                self.send_json(200, {"ok": True})
            elif what == "requests" and method == "GET":
                self.send_json(200, self.state.requests)
            elif what == "identity" and method == "POST":
                self.state.identity_secret = payload.get("secret", self.state.identity_secret)
                self.state.identity_lifetime = int(payload.get("lifetime", self.state.identity_lifetime))
                if payload.get("revoke"):
                    self.state.tokens.clear()   # every issued token is refused from now on
                self.send_json(200, {"ok": True})
            elif what == "identity" and method == "GET":
                self.send_json(200, {"fetches": self.state.identity_fetches})
            else:
                self.send_json(404, {"error": f"no admin endpoint {method} {what}"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--account", action="append", default=[], metavar="NAME=BASE64KEY",
                        help=f"an account and its key (default: {DEV_ACCOUNT} with the Azurite key)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when standard input closes (for test runs)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    accounts: dict[str, bytes] = {}
    for spec in args.account or [f"{DEV_ACCOUNT}={DEV_KEY}"]:
        name, sep, key = spec.partition("=")
        if not sep:
            parser.error(f"--account needs NAME=BASE64KEY, got {spec!r}")
        accounts[name] = base64.b64decode(key)
    Handler.state = State(accounts)
    Handler.verbose = args.verbose or os.environ.get("BLOB_SERVER_VERBOSE") == "1"
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    if args.exit_on_stdin_eof:
        def watch_stdin() -> None:
            sys.stdin.read()
            server.shutdown()
        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
