"""The analysis cache is shared by processes: what one `relgraph` run computed, the next one
(and the API) reads, until the data changes."""

from __future__ import annotations

from datetime import timedelta
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


def test_a_world_takes_its_materialised_log_with_it(tmp_path: Path) -> None:
    """A server keeps one DuckDB connection for every moment and data version it is asked
    about: the resolved log a world materialises must go when the world goes, not stay in the
    connection for the life of the server."""
    import gc

    b = Builder(MemoryStore(tmp_path / "graph.sqlite"), tmp_path)
    b.customer("steady.io", plan="pro", mrr=100.0, status="active")
    daily(b, "login", b.person("ann@steady.io", "steady.io"), range(30))
    b.build()
    engine = Engine.duckdb()

    def tables() -> set[str]:
        found = engine.backend.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        return {name for (name,) in found if name.startswith("relgraph_")}

    for hour in range(3):  # three moments asked in turn, as the API's default as_of moves
        analysis = open_analysis(b.store, data_dir=tmp_path,
                                 as_of=AS_OF - timedelta(hours=hour), engine=engine, cache=False)
        assert analysis.activity()["steady.io"].logins > 0
        assert len(tables()) == 1  # this world's log, and no earlier one's
        del analysis
        gc.collect()
        assert tables() == set()
    b.store.close()


def test_a_timeline_orders_moments_of_the_same_second_by_kind(tmp_path: Path) -> None:
    """An event and a concern in the same second: newest first, then by kind, as before the
    timeline was kept as compact tuples (a tie once compared a moment with None)."""
    b = Builder(MemoryStore(tmp_path / "graph.sqlite"), tmp_path)
    b.customer("steady.io", plan="pro", mrr=100.0, status="active")
    ann = b.person("ann@steady.io", "steady.io")
    same = at(2).replace(microsecond=0)
    b.event("login", same, ann)
    b.event("setup_completed", same, ann)
    b.concern("steady.io", ann, same)
    b.build()
    analysis = open_analysis(b.store, data_dir=tmp_path, as_of=AS_OF, engine=Engine.duckdb(),
                             cache=False)
    kinds = [i.kind for i in analysis.timeline("steady.io") if i.at == same]
    assert kinds == sorted(kinds) and "concern" in kinds and "login" in kinds, kinds
    assert [i.kind for i in analysis.timeline("steady.io", limit=1)] == [kinds[0]]
    b.store.close()
