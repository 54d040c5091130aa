"""Behaviour only the Neo4j store has: server-side limits, pipelined writes, error translation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from graph import neo4j_store
from graph.errors import QueryTimeout, StoreError, StoreUnavailable
from graph.questions import Cypher
from graph.questions.entities import PEOPLE, PeopleQuery
from graph.store import GraphStore


@pytest.fixture
def neo4j(neo4j_store: GraphStore) -> Iterator[GraphStore]:
    neo4j_store.delete_all()
    yield neo4j_store


def test_a_question_past_the_time_limit_is_stopped(neo4j: GraphStore) -> None:
    store = neo4j
    before = store.query_timeout  # type: ignore[attr-defined]
    store.query_timeout = 0.2  # type: ignore[attr-defined]
    try:
        with pytest.raises(QueryTimeout, match="0.2 s limit"):
            store._run(  # type: ignore[attr-defined]
                "slow question",
                lambda tx: tx.run("UNWIND range(1, 500000000) AS x RETURN sum(x) AS s").single(),
                write=False,
            )
    finally:
        store.query_timeout = before  # type: ignore[attr-defined]


def test_an_async_read_past_the_time_limit_is_stopped(neo4j: GraphStore) -> None:
    """The API's reads (auto-commit queries) run under the same server-side limit."""
    store: Any = neo4j
    before = store.query_timeout
    store.query_timeout = 0.2
    try:
        with pytest.raises(QueryTimeout, match="0.2 s limit"):
            asyncio.run(_slow_async_read(store))
    finally:
        store.query_timeout = before


async def _slow_async_read(store: Any) -> None:
    try:
        await store.ask_async(_SlowQuestion(), None)
    finally:
        await store.aclose()


class _SlowQuestion:
    name = "slow question"

    def prepare(self, query: None) -> None:
        return query

    def cypher(self, prepared: None) -> Cypher:
        return Cypher("UNWIND range(1, 500000000) AS x RETURN sum(x) AS s", {})

    def from_records(self, prepared: None, records: list[dict[str, Any]]) -> Any:
        return records


def test_an_async_read_is_retried_on_a_retryable_error(neo4j: GraphStore,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A transient failure (here: the first RUN answered with a retryable error) is retried;
    a client error is not."""
    from neo4j import AsyncSession
    from neo4j.exceptions import ClientError, TransientError

    store: Any = neo4j
    store.upsert_nodes("Person", [{"id": "ann@a.com", "name": "Ann"}], source="test")
    real_run = AsyncSession.run
    calls: list[str] = []

    async def flaky_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("busy" if not calls else "ok")
        if calls == ["busy"]:
            raise TransientError("the server was busy")
        return await real_run(self, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "run", flaky_run)
    query = PeopleQuery(("ann@a.com",), brief=True)

    async def ask() -> Any:
        try:
            return await store.ask_async(PEOPLE, query)
        finally:
            await store.aclose()

    cards = asyncio.run(ask())
    assert calls == ["busy", "ok"] and cards["ann@a.com"].name == "Ann"

    async def refused(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("refused")
        raise ClientError("no")

    monkeypatch.setattr(AsyncSession, "run", refused)
    with pytest.raises(StoreError):
        asyncio.run(ask())
    assert calls[-1] == "refused" and calls.count("refused") == 1


def test_a_failed_batch_stops_the_load_there(neo4j: GraphStore,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 10; the server fails the second one (a division by zero on one row, at run
    time). The first stays committed, nothing after the failed one is sent."""
    plain = neo4j_store.node_upsert_cypher("Person")
    verdict = "\nRETURN count(*) AS written"  # the last SET comes before it
    assert plain.count(verdict) == 1
    failing = plain.replace(verdict, "\nSET n.boom = CASE WHEN row.key STARTS WITH 'boom' "
                                     "THEN 1 / (size(row.key) - size(row.key)) END" + verdict)
    monkeypatch.setattr(neo4j_store, "node_upsert_cypher", lambda *args, **kwargs: failing)
    rows = [{"id": f"p{i:02}@x.com"} for i in range(40)]
    rows[15] = {"id": "boom@x.com"}
    with pytest.raises(StoreError, match="Person rows 10..19"):
        neo4j.upsert_nodes("Person", rows, source="t")
    assert neo4j.counts().nodes["Person"] == 10


def _unknown_database_store() -> GraphStore:
    return neo4j_store.Neo4jStore(
        os.environ["RELGRAPH_TEST_NEO4J_URI"],
        user=os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j"),
        password=os.environ["RELGRAPH_TEST_NEO4J_PASSWORD"],
        database="no-such-database", migrate=False,
    )


@pytest.mark.parametrize("call", ["migrate", "delete_all"])
def test_schema_and_bulk_commands_raise_store_errors(neo4j_store: GraphStore, call: str) -> None:
    """Before: a raw neo4j ClientError traceback; now a StoreError naming what failed."""
    store = _unknown_database_store()
    try:
        with pytest.raises(StoreError, match="DatabaseNotFound"):
            getattr(store, call)()
    finally:
        store.close()


def test_an_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        neo4j_store.Neo4jStore("bolt://127.0.0.1:9", user="neo4j", password="x")
