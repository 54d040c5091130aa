"""The analysis cache is shared by processes: what one `relgraph` run computed, the next one
(and the API) reads, until the data changes."""

from __future__ import annotations

from pathlib import Path

from analytics.config import load_config
from analytics.engine import Engine
from analytics.run import fingerprint, open_analysis
from graph.memory_store import MemoryStore
from tests.analytics.worlds import AS_OF, Builder, at, daily


def _key(data: Path, store: MemoryStore) -> str:
    return fingerprint(data_dir=data, as_of=AS_OF, config=load_config(), store=store,
                       engine=Engine.duckdb(), events_uri=None)


def test_another_process_finds_the_cache_and_a_write_misses_it(tmp_path: Path) -> None:
    b = Builder(MemoryStore(tmp_path / "graph.sqlite"), tmp_path)
    b.customer("steady.io", plan="pro", mrr=100.0, status="active")
    daily(b, "login", b.person("ann@steady.io", "steady.io"), range(30))
    b.build()
    b.store.close()
    # one process (`relgraph analyze health`): opens the store, computes, keeps, closes
    store = MemoryStore(tmp_path / "graph.sqlite")
    analysis = open_analysis(store, data_dir=tmp_path, as_of=AS_OF, engine=Engine.duckdb())
    health = analysis.health()
    analysis.save()
    first = analysis.key
    store.close()
    # a new process: the store opened afresh (an empty write-ahead log made anew)
    again = MemoryStore(tmp_path / "graph.sqlite")
    assert _key(tmp_path, again) == first
    reopened = open_analysis(again, data_dir=tmp_path, as_of=AS_OF, engine=Engine.duckdb())
    assert reopened.health() == health
    assert reopened._world is None  # answered from the cache, the world never built
    again.upsert_nodes("Customer", [{"id": "steady.io", "mrr": 50.0}], source="test")
    b.event("login", at(1), "ann@steady.io")
    again.checkpoint()
    assert _key(tmp_path, again) != first
    again.close()
