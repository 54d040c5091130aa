"""Shared fixtures. The Neo4j leg uses its own settings (RELGRAPH_TEST_NEO4J_*), never NEO4J_URI,
because each conformance test starts by deleting everything in the database it is given."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.errors import StoreUnavailable
from graph.memory_store import MemoryStore
from graph.store import GraphStore

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "api" / "demo" / "graph.jsonl"


def neo4j_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get(
        "RELGRAPH_REQUIRE_NEO4J", ""
    ) in ("1", "true")


@pytest.fixture(scope="session")
def neo4j_store() -> Iterator[GraphStore]:
    uri = os.environ.get("RELGRAPH_TEST_NEO4J_URI")
    password = os.environ.get("RELGRAPH_TEST_NEO4J_PASSWORD")
    if not uri or not password:
        reason = ("no test Neo4j configured: set RELGRAPH_TEST_NEO4J_URI and "
                  "RELGRAPH_TEST_NEO4J_PASSWORD (`make test` starts a local one)")
        if neo4j_required():
            pytest.fail(f"the Neo4j leg must run here (CI=true): {reason}")
        pytest.skip(reason)
    from graph.neo4j_store import Neo4jStore

    try:
        store = Neo4jStore(uri, user=os.environ.get("RELGRAPH_TEST_NEO4J_USER", "neo4j"),
                           password=password, batch_size=10)
    except StoreUnavailable as exc:
        if neo4j_required():
            pytest.fail(f"the Neo4j leg must run here (CI=true) but: {exc}")
        pytest.skip(str(exc))
    yield store
    store.close()


@pytest.fixture(params=["memory", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each kind; small batches so multi-batch paths run on small fixtures."""
    if request.param == "memory":
        yield MemoryStore(tmp_path / "graph.sqlite", batch_size=10)
        return
    neo4j = request.getfixturevalue("neo4j_store")
    neo4j.delete_all()
    yield neo4j
