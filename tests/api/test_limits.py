"""Limits (depth, aliases, tokens, body size, time) and clean errors: refused before anything
runs, with a code, never a stack trace, a driver message or Cypher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from graph.errors import QueryTimeout, StoreError, StoreUnavailable
from graph.store import GraphStore
from tests.api.conftest import Api, api_settings, make_tokens

pytestmark = pytest.mark.anyio
GQL = "application/graphql-response+json"
LEAKS = ("Traceback", "File \"", "MATCH", "RETURN", "neo4j", "Neo.", "Cypher", "cypher",
         "secret")


def nested(depth: int) -> str:
    """person { connections { edges { node { person { connections { … } } } } } }"""
    inner = "id"
    for _ in range(depth):
        inner = f"connections {{ edges {{ node {{ person {{ {inner} }} }} }} }}"
    return f'{{ person(email: "ada@acme.com") {{ {inner} }} }}'


async def test_too_deep_a_query_is_refused_before_it_runs(api: Api) -> None:
    response = await api.post(nested(4), accept=GQL)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "depth" in body["errors"][0]["message"]
    assert (await api.post(nested(2), accept=GQL)).status_code == 200


async def test_too_many_aliases_are_refused(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(21)) + " }"
    response = await api.post(query, accept=GQL)
    assert response.status_code == 400
    assert "alias" in response.json()["errors"][0]["message"]


async def test_too_many_tokens_are_refused(api: Api) -> None:
    query = "{ " + " ".join("__typename" for _ in range(2500)) + " }"
    response = await api.post(query, accept=GQL)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED" and "tokens" in error["message"]


async def test_a_body_over_the_limit_is_413(store: GraphStore, tmp_path: Path) -> None:
    settings = api_settings(tmp_path, api_max_body=2048)
    tokens = make_tokens(settings)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }", "variables": {"x": "y" * 4000}},
            headers={"Authorization": f"Bearer {tokens['read']}"})
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


class Slow:
    """A store whose questions take `delay` seconds, or raise `error` (test double)."""

    def __init__(self, store: GraphStore, *, delay: float = 0.0,
                 error: Exception | None = None) -> None:
        self._store = store
        self.delay = delay
        self.error = error

    async def ask_async(self, question: Any, query: Any) -> Any:
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return await self._store.ask_async(question, query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def client_for(store: Any, tmp_path: Path, **settings: Any
                     ) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    config = api_settings(tmp_path, **settings)
    tokens = make_tokens(config)
    app = create_app(config, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relgraph.test") as client:
        yield client, {"Authorization": f"Bearer {tokens['read']}", "Accept": GQL}


async def test_a_request_past_its_time_limit_is_stopped(store: GraphStore, tmp_path: Path) -> None:
    async for client, headers in client_for(Slow(store, delay=5), tmp_path, api_timeout=0.2):
        response = await client.post("/graphql", headers=headers, json={
            "query": '{ person(email: "ada@acme.com") { name } }'})
        assert response.status_code == 504
        body = response.json()
        assert "data" not in body and body["errors"][0]["extensions"]["code"] == "TIMEOUT"


@pytest.mark.parametrize(("error", "code"), [
    (RuntimeError("MATCH (n) RETURN n -- secret"), "INTERNAL_SERVER_ERROR"),
    (StoreError("people", "Neo.ClientError.Statement.SyntaxError: MATCH (p) secret"),
     "INTERNAL_SERVER_ERROR"),
    (StoreUnavailable("Neo4j at bolt://secret:7687 became unavailable: MATCH"),
     "STORE_UNAVAILABLE"),
    (QueryTimeout("people", 30), "TIMEOUT"),
])
async def test_errors_never_show_a_trace_or_cypher(store: GraphStore, tmp_path: Path,
                                                   error: Exception, code: str) -> None:
    async for client, headers in client_for(Slow(store, error=error), tmp_path):
        response = await client.post("/graphql", headers=headers, json={
            "query": '{ person(email: "ada@acme.com") { name } }'})
        text = response.text
        assert response.json()["errors"][0]["extensions"]["code"] == code
        if code == "INTERNAL_SERVER_ERROR":  # the server's log has it, under this incident id
            assert "incident" in response.json()["errors"][0]["message"]
        assert not [leak for leak in LEAKS if leak in text], text
