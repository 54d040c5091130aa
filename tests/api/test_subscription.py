"""The live customer feed over a real websocket (graphql-transport-ws) against a real
`relgraph serve`: interactions from the server's own mutations and from a `relgraph load` in
another process, filtered per subscription; on both stores."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from graph.store import GraphStore
from tests.api.conftest import Server, running_server, server_env, trigger_world
from tests.worlds.interactions import write_exports

pytestmark = pytest.mark.anyio
FEED = """subscription ($filter: FeedFilter) { customerFeed(filter: $filter) {
  id type at person { id name } company { id name } account text properties } }"""
WAIT = 15.0


@pytest.fixture
def feed_server(store: GraphStore, tmp_path: Path) -> Iterator[Server]:
    trigger_world(store, tmp_path / "seed")
    with running_server(store, tmp_path) as running:
        yield running


@asynccontextmanager
async def websocket(server: Server, token: str | None, headers: dict[str, str] | None = None
                    ) -> AsyncIterator[ClientConnection]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers=headers) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message["type"] != "ping":
            return message  # type: ignore[no-any-return]
        await ws.send(json.dumps({"type": "pong"}))


async def subscribe(ws: ClientConnection, sub_id: str, filter_: dict[str, Any]) -> None:
    await ws.send(json.dumps({"id": sub_id, "type": "subscribe", "payload": {
        "query": FEED, "variables": {"filter": filter_}}}))


async def record(server: Server, events: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.post("/graphql", headers={
            "Authorization": f"Bearer {server.tokens['write']}"}, json={
            "query": "mutation ($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }",
            "variables": {"e": events}})
    assert response.json()["data"]["recordEvents"]["accepted"] == len(events), response.text


def event(event_id: str, person: str, type_: str = "setup_completed", **more: Any
          ) -> dict[str, Any]:
    return {"id": event_id, "type": type_, "at": "2026-11-20T10:00:00Z", "person": person,
            **more}


async def until_subscribed(server: Server, ws: ClientConnection, person: str) -> dict[str, Any]:
    """The subscription starts asynchronously: send new events until one arrives."""
    for attempt in range(40):
        await record(server, [event(f"warmup-{attempt}", person)])
        try:
            return json.loads(await asyncio.wait_for(ws.recv(), 0.5))  # type: ignore[no-any-return]
        except TimeoutError:
            continue
    pytest.fail("the subscription never delivered")


async def test_the_feed_delivers_mutations_and_other_processes_loads(
        feed_server: Server, store: GraphStore, tmp_path: Path) -> None:
    async with websocket(feed_server, feed_server.tokens["read"]) as ws:
        assert (await receive(ws))["type"] == "connection_ack"
        await subscribe(ws, "ada", {"people": ["ADA@acme.com"]})
        first = await until_subscribed(feed_server, ws, "ada@acme.com")
        assert first["id"] == "ada" and first["type"] == "next"
        await subscribe(ws, "customers", {"customersOnly": True,
                                          "types": ["DATA_EXPORTED", "CONCERN_RAISED",
                                                    "TRIGGER"]})
        await asyncio.sleep(0.5)  # let the second subscription start

        # 1. a mutation on this server
        await record(feed_server, [event("export-1", "ada@acme.com", "data_exported",
                                         account="acme.com", properties={"rows": 120})])
        got = {(m["id"], m["payload"]["data"]["customerFeed"]["id"]):
               m["payload"]["data"]["customerFeed"] for m in [await receive(ws), await receive(ws)]}
        assert set(got) == {("ada", "api:export-1"), ("customers", "api:export-1")}
        shown = got[("ada", "api:export-1")]
        assert shown["type"] == "DATA_EXPORTED" and shown["at"] == "2026-11-20T10:00:00Z"
        assert shown["person"] == {"id": "ada@acme.com", "name": "Ada Lovelace"}
        assert shown["company"] == {"id": "acme.com", "name": "Acme Corp"}
        assert shown["account"] == "company:acme.com" and shown["properties"] == {"rows": 120}

        # 2. a `relgraph load` in another process: a concern and a trigger at a customer,
        #    and a trigger at a prospect (not a customer: not in this feed)
        load_in_another_process(store, tmp_path)
        got = {}
        for _ in range(3):
            message = await receive(ws)
            item = message["payload"]["data"]["customerFeed"]
            got[(message["id"], item["id"])] = item
        assert set(got) == {("ada", "globex-call-1"), ("customers", "globex-call-1"),
                            ("customers", "acme-new-cfo")}
        concern = got[("ada", "globex-call-1")]
        assert concern["type"] == "CONCERN_RAISED" and concern["text"] == "We may cancel"
        assert concern["company"] == {"id": "acme.com", "name": "Acme Corp"}
        trigger = got[("customers", "acme-new-cfo")]
        assert trigger["type"] == "TRIGGER" and trigger["company"]["id"] == "acme.com"
        assert trigger["properties"]["trigger_type"] == "leadership_change"

        await ws.send(json.dumps({"id": "ada", "type": "complete"}))
        await ws.send(json.dumps({"id": "customers", "type": "complete"}))


def load_in_another_process(store: GraphStore, tmp_path: Path) -> None:
    lines = [
        {"node": "Concern", "id": "globex-call-1", "text": "We may cancel",
         "at": "2026-11-21T09:00:00Z", "channel": "call"},
        {"rel": "RAISED", "from": "ada@acme.com", "to": "globex-call-1"},
        {"node": "Trigger", "id": "acme-new-cfo", "type": "leadership_change",
         "at": "2026-11-21T08:00:00Z", "headline": "Acme hires a CFO"},
        {"rel": "HAD_TRIGGER", "from": "acme.com", "to": "acme-new-cfo"},
        {"node": "Trigger", "id": "initech-ipo", "type": "ipo", "at": "2026-11-21T07:00:00Z"},
        {"rel": "HAD_TRIGGER", "from": "initech.com", "to": "initech-ipo"},
    ]
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    env = server_env(store, tmp_path)
    result = subprocess.run([sys.executable, "-m", "api.cli", "load", "graph", str(path)],
                            cwd=tmp_path, env={**env, "PYTHONPATH": os.environ.get(
                                "PYTHONPATH", env["PYTHONPATH"])},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_solved_tickets_clicks_and_first_uses_reach_the_subscription(
        feed_server: Server, store: GraphStore, tmp_path: Path) -> None:
    """A `relgraph load --manifest` in another process of the Zendesk, Mailchimp and Segment
    exports (tests/worlds/interactions.py): a subscriber to the three later kinds receives each
    of them, worded by their type and properties, and nothing else."""
    async with websocket(feed_server, feed_server.tokens["read"]) as ws:
        assert (await receive(ws))["type"] == "connection_ack"
        await subscribe(ws, "ada", {"people": ["ada@acme.com"]})
        await until_subscribed(feed_server, ws, "ada@acme.com")
        await subscribe(ws, "new", {"types": ["CONCERN_SOLVED", "NEWSLETTER_CLICK",
                                              "FEATURE_USED"]})
        await asyncio.sleep(0.5)  # let the second subscription start
        exports = write_exports(tmp_path / "exports")
        env = server_env(store, tmp_path)
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "load", "--manifest", str(exports / "manifest.toml")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        got: list[dict[str, Any]] = []
        expected = 3 + 4 + 2  # tickets solved, clicks, first uses of a key feature
        while len(got) < expected:
            message = await receive(ws)
            if message["id"] == "new":  # (a late warm-up may still reach "ada")
                got.append(message["payload"]["data"]["customerFeed"])
        by_type: dict[str, list[dict[str, Any]]] = {}
        for item in got:
            by_type.setdefault(item["type"], []).append(item)
        assert {t: len(v) for t, v in by_type.items()} == {
            "CONCERN_SOLVED": 3, "NEWSLETTER_CLICK": 4, "FEATURE_USED": 2}
        solved = {i["id"]: i for i in by_type["CONCERN_SOLVED"]}["zendesk:5101:solved"]
        assert solved["at"] == "2026-11-03T16:30:00Z"
        assert solved["person"] == {"id": "ada@apex.co", "name": "Ada Lovelace"}
        assert solved["company"] == {"id": "apex.co", "name": "Apex Systems"}
        assert solved["properties"] == {"concern": "zendesk:5101", "subject": "Renewal at risk"}
        ben = next(i for i in by_type["NEWSLETTER_CLICK"] if i["person"]["id"] == "ben@apex.co")
        assert ben["properties"]["campaign"] == "roundup-2026-11-10"
        assert ben["properties"]["url"] == "https://www.relgraph.io/guides/onboarding-checklist"
        assert sorted(i["properties"]["feature"] for i in by_type["FEATURE_USED"]) == [
            "invite_sent", "report_created"]
        await ws.send(json.dumps({"id": "ada", "type": "complete"}))
        await ws.send(json.dumps({"id": "new", "type": "complete"}))


async def test_a_websocket_without_a_valid_key_is_refused(server: Server) -> None:
    typed_in = base64.b64encode(f"me:{server.tokens['read']}".encode()).decode()
    for token, headers in ((None, None), ("rgk_000000000000_" + "A" * 43, None),
                           # a browser's remembered log-in is no key for a websocket: another
                           # site's page could open one
                           (None, {"Authorization": f"Basic {typed_in}"})):
        async with websocket(server, token, headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    bearer = {"Authorization": f"Bearer {server.tokens['read']}"}
    async with websocket(server, None, bearer) as ws:
        assert (await receive(ws))["type"] == "connection_ack"
