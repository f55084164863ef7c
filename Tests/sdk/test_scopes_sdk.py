"""Agent-, app- and run-wide views and deletes across users, driven by the official mem0ai SDK (MemoryClient and
AsyncMemoryClient): the Mem0 platform answers a filter on agent_id / app_id / run_id with every memory carrying
that id, whichever user it also belongs to."""
import asyncio
import uuid

import pytest
from mem0 import AsyncMemoryClient, MemoryClient

from conftest import ADMIN_KEY, READ_KEY, WRITE_KEY


@pytest.fixture(scope="module")
def client(server):
    return MemoryClient(api_key=WRITE_KEY, host=server)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def texts(answer) -> list:
    return sorted(m["memory"] for m in answer["results"])


def seed_agent(client, agent):
    """Two users talking to one agent, plus the agent's own note; returns the user ids."""
    u1, u2 = unique("u1"), unique("u2")
    client.add("u1 prefers tea", user_id=u1, agent_id=agent, infer=False)
    client.add("u2 prefers coffee", user_id=u2, agent_id=agent, infer=False)
    client.add("the agent's own note", agent_id=agent, infer=False)
    client.add("u1 private note", user_id=u1, infer=False)
    return u1, u2


def test_agent_wide_search_and_get_all_span_every_user(client):
    agent = unique("support")
    u1, u2 = seed_agent(client, agent)
    found = client.search("who prefers coffee", filters={"agent_id": agent}, threshold=0)
    assert found["results"][0]["memory"] == "u2 prefers coffee"
    assert {r["agent_id"] for r in found["results"]} == {agent}
    assert len(found["results"]) == 3
    everything = client.get_all(filters={"agent_id": agent})
    assert everything["count"] == 3
    assert texts(everything) == ["the agent's own note", "u1 prefers tea", "u2 prefers coffee"]
    pages = [client.get_all(filters={"agent_id": agent}, page=p, page_size=2) for p in (1, 2)]
    assert [p["count"] for p in pages] == [3, 3]
    assert [len(p["results"]) for p in pages] == [2, 1]
    assert len({m["id"] for p in pages for m in p["results"]}) == 3
    # The whole filter applies in every partition.
    narrowed = client.get_all(filters={"AND": [{"agent_id": agent}, {"user_id": u1}]})
    assert texts(narrowed) == ["u1 prefers tea"]


def test_app_and_run_wide_reads(client):
    app, run = unique("app"), unique("run")
    client.add("shop fact of u1", user_id=unique("u"), app_id=app, run_id=run, infer=False)
    client.add("shop fact of u2", user_id=unique("u"), app_id=app, infer=False)
    client.add("run fact of an agent", agent_id=unique("a"), run_id=run, infer=False)
    assert texts(client.get_all(filters={"app_id": app})) == ["shop fact of u1", "shop fact of u2"]
    assert texts(client.get_all(filters={"run_id": run})) == ["run fact of an agent", "shop fact of u1"]
    found = client.search("shop fact", filters={"app_id": app, "run_id": run}, threshold=0)
    assert [r["memory"] for r in found["results"]] == ["shop fact of u1"]


def test_delete_all_by_run_and_agent_erase_across_users_with_exact_counts(client):
    agent, run = unique("agent"), unique("sess")
    u1, u2 = unique("u1"), unique("u2")
    client.add("first in the session", user_id=u1, agent_id=agent, run_id=run, infer=False)
    client.add("second in the session", user_id=u2, run_id=run, infer=False)
    client.add("outside the session", user_id=u2, agent_id=agent, infer=False)
    client.add("kept: other agent", user_id=u1, agent_id=unique("other"), infer=False)
    out = client.delete_all(run_id=run)
    assert out["deleted"] == 2
    assert client.get_all(filters={"run_id": run})["results"] == []
    out = client.delete_all(agent_id=agent)
    assert out["deleted"] == 1
    assert client.get_all(filters={"agent_id": agent})["results"] == []
    assert texts(client.get_all(filters={"user_id": u1})) == ["kept: other agent"]
    assert client.delete_all(agent_id=agent)["deleted"] == 0, "repeating finds nothing left"


def test_deleting_an_agent_entity_erases_its_memories_in_user_partitions(client):
    agent = unique("bot")
    u1, u2 = seed_agent(client, agent)
    client.delete_users(agent_id=agent)
    assert client.get_all(filters={"agent_id": agent})["results"] == []
    assert client.get_all(filters={"user_id": u2})["results"] == []
    assert texts(client.get_all(filters={"user_id": u1})) == ["u1 private note"]
    with pytest.raises(Exception):
        client.delete_users(agent_id=unique("never-seen"))


def test_add_takes_scope_ids_from_filters(client):
    user, agent = unique("fw-user"), unique("fw-agent")
    out = client.add([{"role": "user", "content": "added the framework way"}],
                     filters={"user_id": user, "agent_id": agent}, infer=False)
    got = client.get(out["results"][0]["id"])
    assert (got["user_id"], got["agent_id"]) == (user, agent)
    assert texts(client.get_all(filters={"agent_id": agent})) == ["added the framework way"]
    other = unique("someone-else")
    with pytest.raises(Exception) as info:
        client.add("conflicting", user_id=user, filters={"user_id": other}, infer=False)
    assert getattr(info.value, "debug_info", {}).get("status_code") == 400
    assert user in str(info.value) and other in str(info.value), "the 400 names both values"


def test_or_of_users_reads_each_user(client):
    a, b, c = unique("a"), unique("b"), unique("c")
    for u in (a, b, c):
        client.add(f"favourite city of {u} is Porto", user_id=u, infer=False)
    found = client.search("favourite city", filters={"OR": [{"user_id": a}, {"user_id": b}]}, threshold=0)
    assert {r["user_id"] for r in found["results"]} == {a, b}
    listed = client.get_all(filters={"OR": [{"user_id": a}, {"user_id": c}]})
    assert listed["count"] == 2


def test_entities_list_agents_that_only_appear_inside_user_partitions(client):
    agent = unique("helper")
    seed_agent(client, agent)
    only_in_users = unique("embedded")
    client.add("u prefers trains", user_id=unique("u"), agent_id=only_in_users, infer=False)
    entities = {(e["type"], e["name"]): e for e in client.users()["results"]}
    assert entities[("agent", agent)]["total_memories"] == 3
    assert entities[("agent", only_in_users)]["total_memories"] == 1


def test_any_user_wildcard_is_admin_only(server, client):
    user = unique("wild")
    client.add("visible to the admin", user_id=user, infer=False)
    with pytest.raises(Exception) as info:
        client.get_all(filters={"user_id": "*"})
    assert getattr(info.value, "debug_info", {}).get("status_code") == 403
    assert "admin" in str(info.value)
    admin = MemoryClient(api_key=ADMIN_KEY, host=server)
    everything = admin.get_all(filters={"user_id": "*"}, page_size=1000)
    assert user in {m["user_id"] for m in everything["results"]}
    reader = MemoryClient(api_key=READ_KEY, host=server)
    assert texts(reader.get_all(filters={"AND": [{"user_id": "*"}, {"user_id": user}]})) == ["visible to the admin"]


def test_async_client_agent_app_and_run_wide(server):
    async def scenario():
        c = AsyncMemoryClient(api_key=WRITE_KEY, host=server)
        agent, app, run = unique("async-agent"), unique("async-app"), unique("async-run")
        u1, u2 = unique("au1"), unique("au2")
        await c.add("async tea for u1", filters={"user_id": u1, "agent_id": agent}, run_id=run, infer=False)
        await c.add("async coffee for u2", user_id=u2, agent_id=agent, app_id=app, infer=False)
        await c.add("async note of u1", user_id=u1, infer=False)
        found = await c.search("coffee", filters={"agent_id": agent}, threshold=0)
        assert {r["user_id"] for r in found["results"]} == {u1, u2}
        assert found["results"][0]["memory"] == "async coffee for u2"
        assert (await c.get_all(filters={"app_id": app}))["count"] == 1
        assert texts(await c.get_all(filters={"run_id": run})) == ["async tea for u1"]
        both = await c.get_all(filters={"OR": [{"user_id": u1}, {"user_id": u2}]})
        assert both["count"] == 3
        assert (await c.delete_all(run_id=run))["deleted"] == 1
        await c.delete_users(agent_id=agent)
        assert (await c.get_all(filters={"agent_id": agent}))["results"] == []
        assert texts(await c.get_all(filters={"user_id": u1})) == ["async note of u1"]
        await c.async_client.aclose()

    asyncio.run(scenario())
