"""The official mem0ai SDK (`MemoryClient`) driving a running `memory-local`, asserting on every answer."""
import uuid

import pytest
from mem0 import MemoryClient

from conftest import OTHER_KEY, READ_KEY, WRITE_KEY


@pytest.fixture(scope="module")
def client(server):
    return MemoryClient(api_key=WRITE_KEY, host=server)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_ping_resolves_the_tenant(server):
    c = MemoryClient(api_key=READ_KEY, host=server)
    assert c.org_id == "sdk"
    assert c.project_id == "sdk"


def test_unknown_key_is_rejected(server):
    with pytest.raises(Exception) as info:
        MemoryClient(api_key="not-a-key", host=server)
    assert "API key" in str(info.value)


def test_add_without_infer_stores_each_message_verbatim(client):
    user = unique("alice")
    messages = [
        {"role": "user", "content": "I am allergic to peanuts"},
        {"role": "assistant", "content": "Noted, no peanuts in recipes"},
    ]
    out = client.add(messages, user_id=user, infer=False, metadata={"source": "chat"})
    assert out["status"] == "SUCCEEDED"
    texts = sorted(r["memory"] for r in out["results"])
    assert texts == sorted(m["content"] for m in messages)
    assert all(r["event"] == "ADD" for r in out["results"])
    got = client.get(out["results"][0]["id"])
    assert got["user_id"] == user
    assert got["metadata"]["source"] == "chat"
    assert len(got["hash"]) == 32


def test_add_with_infer_suppresses_duplicates(client):
    user = unique("bob")
    first = client.add("I live in Lisbon and work as a nurse", user_id=user)
    assert [r["event"] for r in first["results"]] == ["ADD"]
    again = client.add("I live in Lisbon and work as a nurse", user_id=user)
    assert all(r["event"] != "ADD" for r in again["results"])
    listed = client.get_all(filters={"user_id": user})
    assert [m["memory"] for m in listed["results"]] == ["I live in Lisbon and work as a nurse"]


def test_search_with_filters(client):
    user = unique("carol")
    client.add("My favourite colour is green", user_id=user, infer=False, metadata={"topic": "taste"})
    client.add("I drive a blue bicycle to work", user_id=user, infer=False, metadata={"topic": "travel"})
    client.add("My favourite colour is green", user_id=unique("someone-else"), infer=False)
    found = client.search("favourite colour", filters={"user_id": user})
    assert found["results"], found
    top = found["results"][0]
    assert top["memory"] == "My favourite colour is green"
    assert top["user_id"] == user
    assert 0 < top["score"] <= 1
    assert all(r["user_id"] == user for r in found["results"])


def test_search_with_nested_metadata_filter(client):
    """Mem0's filter grammar: nested AND with a metadata clause (needs the retrieval branch's filter parser)."""
    user = unique("carla")
    client.add("My favourite colour is green", user_id=user, infer=False, metadata={"topic": "taste"})
    client.add("I drive a blue bicycle to work", user_id=user, infer=False, metadata={"topic": "travel"})
    filtered = client.search("bicycle colour", filters={"AND": [{"user_id": user}, {"metadata": {"topic": "travel"}}]})
    assert [r["memory"] for r in filtered["results"]] == ["I drive a blue bicycle to work"]


def test_get_all_paginates(client):
    user = unique("dave")
    for i in range(5):
        client.add(f"fact number {i}", user_id=user, infer=False)
    page1 = client.get_all(filters={"user_id": user}, page=1, page_size=2)
    page3 = client.get_all(filters={"user_id": user}, page=3, page_size=2)
    assert page1["count"] == 5
    assert len(page1["results"]) == 2
    assert len(page3["results"]) == 1
    everything = client.get_all(filters={"user_id": user}, page=1, page_size=10)
    assert sorted(m["memory"] for m in everything["results"]) == [f"fact number {i}" for i in range(5)]
    seen = [m["id"] for p in (1, 2, 3) for m in client.get_all(filters={"user_id": user}, page=p, page_size=2)["results"]]
    assert len(set(seen)) == 5


def test_update_and_history(client):
    user = unique("erin")
    added = client.add("I work at Contoso", user_id=user, infer=False)
    memory_id = added["results"][0]["id"]
    updated = client.update(memory_id, text="I work at Fabrikam")
    assert updated["memory"] == "I work at Fabrikam" or updated.get("id") == memory_id
    assert client.get(memory_id)["memory"] == "I work at Fabrikam"
    history = client.history(memory_id)
    assert [h["event"] for h in history] == ["ADD", "UPDATE"]
    assert history[-1]["old_memory"] == "I work at Contoso"
    assert history[-1]["new_memory"] == "I work at Fabrikam"


def test_delete_and_delete_all(client):
    user = unique("frank")
    ids = [client.add(f"note {i}", user_id=user, infer=False)["results"][0]["id"] for i in range(3)]
    out = client.delete(ids[0])
    assert "deleted" in out["message"].lower()
    with pytest.raises(Exception):
        client.get(ids[0])
    # The deleted memory's history keeps its events (as Mem0 does) but none of its text.
    history = client.history(ids[0])
    assert [h["event"] for h in history] == ["ADD", "DELETE"]
    assert all(h["old_memory"] is None and h["new_memory"] is None for h in history)
    assert len(client.get_all(filters={"user_id": user})["results"]) == 2
    out = client.delete_all(user_id=user)
    assert "deleted" in out["message"].lower()
    assert client.get_all(filters={"user_id": user})["results"] == []


def test_users_and_delete_users(client):
    user = unique("grace")
    agent = unique("planner")
    client.add("Grace prefers morning meetings", user_id=user, infer=False)
    client.add("The planner agent books rooms", agent_id=agent, infer=False)
    names = {(e["type"], e["name"]) for e in client.users()["results"]}
    assert ("user", user) in names
    assert ("agent", agent) in names
    client.delete_users(user_id=user)
    names = {(e["type"], e["name"]) for e in client.users()["results"]}
    assert ("user", user) not in names
    assert ("agent", agent) in names
    assert client.get_all(filters={"user_id": user})["results"] == []


def test_batch_update_and_batch_delete(client):
    user = unique("heidi")
    ids = [client.add(f"batch item {i}", user_id=user, infer=False)["results"][0]["id"] for i in range(3)]
    client.batch_update([{"memory_id": ids[0], "text": "batch item zero"}, {"memory_id": ids[1], "text": "batch item one"}])
    assert client.get(ids[0])["memory"] == "batch item zero"
    assert client.get(ids[1])["memory"] == "batch item one"
    client.batch_delete([{"memory_id": ids[0]}, {"memory_id": ids[2]}])
    remaining = [m["id"] for m in client.get_all(filters={"user_id": user})["results"]]
    assert remaining == [ids[1]]


def test_tenants_are_isolated(client, server):
    user = unique("ivan")
    memory_id = client.add("tenant sdk secret", user_id=user, infer=False)["results"][0]["id"]
    other = MemoryClient(api_key=OTHER_KEY, host=server)
    with pytest.raises(Exception) as info:
        other.get(memory_id)
    assert "404" in str(info.value) or "not found" in str(info.value).lower()
    assert other.search("secret", filters={"user_id": user})["results"] == []


def test_read_key_cannot_write(server):
    reader = MemoryClient(api_key=READ_KEY, host=server)
    with pytest.raises(Exception) as info:
        reader.add("should not be stored", user_id=unique("judy"), infer=False)
    assert "403" in str(info.value) or "role" in str(info.value)
