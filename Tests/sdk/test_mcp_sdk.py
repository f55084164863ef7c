"""The official `mcp` Python SDK against `memory-local`'s MCP endpoint (`/mcp`, Streamable HTTP, stateless).

The client connects the way an agent platform does (`streamable_http_client` with an `Authorization` header),
negotiates a protocol version (the SDK's default `auto` mode probes `server/discover` and adopts the stateless
2026-07-28 revision; `legacy` mode and a bare `ClientSession` do the `initialize` handshake), lists the tools and
calls each of them.
"""
import json
import uuid

import anyio
import httpx2
import pytest

from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

from conftest import BOUND_KEY, BOUND_USER, OTHER_KEY, READ_KEY, WRITE_KEY

TOOLS = {"add_memories", "search_memories", "get_memory", "list_memories", "update_memory", "delete_memory",
         "memory_history"}


def _transport(server, key):
    client = httpx2.AsyncClient(headers={"Authorization": f"Token {key}"}, timeout=httpx2.Timeout(30, read=60))
    return client, streamable_http_client(f"{server}/mcp", http_client=client)


def _structured(result):
    assert not result.is_error, result.content[0].text if result.content else result
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[-1].text)


def _error_text(result):
    assert result.is_error, result
    return result.content[0].text


async def _with_client(server, key, body, mode="auto"):
    http, transport = _transport(server, key)
    async with http:
        async with Client(transport, mode=mode) as client:
            return await body(client)


def run(coro):
    return anyio.run(lambda: coro)


def test_tools_listed_with_schemas(server):
    async def body(client):
        listed = await client.list_tools()
        tools = {t.name: t for t in listed.tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description
            schema = tool.input_schema
            assert schema["type"] == "object"
            for name, prop in schema["properties"].items():
                assert prop.get("description"), (tool.name, name)
        assert "query" in tools["search_memories"].input_schema["required"]
        assert tools["get_memory"].input_schema["required"] == ["memory_id"]
    run(_with_client(server, WRITE_KEY, body))


@pytest.mark.parametrize("mode,version", [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_every_tool_round_trip(server, mode, version):
    """`auto` probes server/discover and adopts the stateless 2026-07-28 revision; `legacy` does the handshake."""
    user = f"mcp-user-{uuid.uuid4().hex[:8]}"

    async def body(client):
        assert client.protocol_version == version
        added = _structured(await client.call_tool("add_memories", {
            "messages": [{"role": "user", "content": "I am allergic to peanuts and love hiking in the Alps"}],
            "user_id": user, "infer": False, "metadata": {"source": "mcp-test"}}))
        assert added["status"] == "SUCCEEDED"
        memory_id = added["results"][0]["id"]
        _structured(await client.call_tool("add_memories", {
            "text": "My favourite editor is vim", "user_id": user, "infer": False}))

        found = await client.call_tool("search_memories", {"query": "what food allergies?", "user_id": user})
        hits = _structured(found)
        assert hits["results"] and hits["results"][0]["id"] == memory_id
        assert "peanuts" in hits["memory_block"]
        assert "peanuts" in found.content[0].text  # the prompt-ready block comes first

        got = _structured(await client.call_tool("get_memory", {"memory_id": memory_id}))
        assert got["memory"].startswith("I am allergic") and got["user_id"] == user
        assert got["metadata"] == {"source": "mcp-test"}

        listed = _structured(await client.call_tool("list_memories", {"user_id": user}))
        assert listed["count"] == 2

        updated = _structured(await client.call_tool("update_memory", {
            "memory_id": memory_id, "text": "I am allergic to peanuts and cashews"}))
        assert updated["memory"] == "I am allergic to peanuts and cashews"

        history = _structured(await client.call_tool("memory_history", {"memory_id": memory_id}))
        events = [h["event"] for h in history["results"]]
        assert events[:2] == ["ADD", "UPDATE"]

        deleted = _structured(await client.call_tool("delete_memory", {"memory_id": memory_id}))
        assert "deleted" in deleted["message"].lower()
        missing = await client.call_tool("get_memory", {"memory_id": memory_id})
        assert "memory_not_found" in _error_text(missing)
    run(_with_client(server, WRITE_KEY, body, mode=mode))


def test_bad_input_is_a_tool_error_not_a_crash(server):
    async def body(client):
        assert "missing_query" in _error_text(await client.call_tool("search_memories", {"user_id": "u"}))
        assert "invalid_memory_id" in _error_text(await client.call_tool("get_memory", {"memory_id": "not-a-uuid"})) \
            or "memory_id" in _error_text(await client.call_tool("get_memory", {"memory_id": "not-a-uuid"}))
        assert "missing_entity_id" in _error_text(await client.call_tool("add_memories", {"text": "x", "infer": False}))
        # Still answering afterwards.
        assert (await client.list_tools()).tools
    run(_with_client(server, WRITE_KEY, body))


def test_read_key_cannot_write(server):
    async def body(client):
        text = _error_text(await client.call_tool("add_memories", {"text": "x", "user_id": "u", "infer": False}))
        assert "forbidden" in text
        _structured(await client.call_tool("list_memories", {"user_id": "u"}))
    run(_with_client(server, READ_KEY, body))


def test_users_and_tenants_are_isolated(server):
    alice, bob = f"alice-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"

    async def write(client):
        _structured(await client.call_tool("add_memories", {"text": "Alice's locker code is 4711", "user_id": alice, "infer": False}))
        _structured(await client.call_tool("add_memories", {"text": "Bob's locker code is 1234", "user_id": bob, "infer": False}))
        hits = _structured(await client.call_tool("search_memories", {"query": "locker code", "user_id": alice}))
        assert hits["results"] and all(h["user_id"] == alice for h in hits["results"])
        assert "1234" not in hits["memory_block"]
    run(_with_client(server, WRITE_KEY, write))

    async def other_tenant(client):
        hits = _structured(await client.call_tool("search_memories", {"query": "locker code", "user_id": alice}))
        assert hits["results"] == []
    run(_with_client(server, OTHER_KEY, other_tenant))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_bound_key_reaches_only_its_user(server, mode):
    async def seed(client):
        other = _structured(await client.call_tool("add_memories", {
            "text": "The other user's secret is tangerine", "user_id": "someone-else", "infer": False}))
        return other["results"][0]["id"]
    other_id = run(_with_client(server, WRITE_KEY, seed))

    async def bound(client):
        # user_id may be left out: the key is that user.
        added = _structured(await client.call_tool("add_memories", {"text": "My secret is tangerine too", "infer": False}))
        own_id = added["results"][0]["id"]
        hits = _structured(await client.call_tool("search_memories", {"query": "secret tangerine"}))
        assert hits["results"] and all(h["user_id"] == BOUND_USER for h in hits["results"])
        assert own_id in {h["id"] for h in hits["results"]}
        assert "user_not_allowed" in _error_text(await client.call_tool(
            "search_memories", {"query": "secret", "user_id": "someone-else"}))
        assert "memory_not_found" in _error_text(await client.call_tool("get_memory", {"memory_id": other_id}))
        assert "memory_not_found" in _error_text(await client.call_tool("delete_memory", {"memory_id": other_id}))
        listed = _structured(await client.call_tool("list_memories", {}))
        assert listed["count"] >= 1 and all(m["user_id"] == BOUND_USER for m in listed["results"])
    run(_with_client(server, BOUND_KEY, bound, mode=mode))


def test_handshake_session_and_protocol_version(server):
    async def body():
        http, transport = _transport(server, WRITE_KEY)
        async with http, transport as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                assert init.server_info.name == "agentmemory"
                assert init.capabilities.tools is not None
                await session.send_ping()
                tools = await session.list_tools()
                assert {t.name for t in tools.tools} == TOOLS
    anyio.run(body)


def test_http_faults(server):
    import urllib.error
    import urllib.request

    def post(body, key=WRITE_KEY, content_type="application/json", method="POST"):
        req = urllib.request.Request(f"{server}/mcp", data=body if method == "POST" else None, method=method,
                                     headers={"Authorization": f"Token {key}", "Content-Type": content_type,
                                              "Accept": "application/json, text/event-stream"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    status, body = post(b"{not json")
    assert status == 400 and json.loads(body)["error"]["code"] == -32700
    status, body = post(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "nope"}).encode())
    assert status == 200 and json.loads(body)["error"]["code"] == -32601
    status, body = post(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "nope"}}).encode())
    assert status == 200 and json.loads(body)["error"]["code"] == -32602
    status, _ = post(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode())
    assert status == 202
    status, _ = post(b"", method="GET")
    assert status == 405
    status, _ = post(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"}).encode(), key="wrong-key")
    assert status == 401
