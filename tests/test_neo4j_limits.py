"""Limits that only the Neo4j store enforces on the server side."""

from __future__ import annotations

import pytest

from graph.errors import QueryTimeout
from graph.store import GraphStore


def test_a_question_past_the_time_limit_is_stopped(neo4j_store: GraphStore) -> None:
    store = neo4j_store
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
