"""The embedded store's durable layer: each batch committed to SQLite, shared by processes."""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import sqlite3
import stat
import struct
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graph.durable import Changes
from graph.errors import SnapshotError
from graph.memory_store import MemoryStore
from graph.snapshot import MAGIC
from tests.conformance.helpers import demo_query, tiny_world
from tests.conftest import DEMO, ROOT


def _people(path: Path, n: int = 3) -> MemoryStore:
    store = MemoryStore(path)
    store.upsert_nodes("Person", [{"id": f"p{i}@x.com", "name": f"P{i}"} for i in range(n)],
                       source="t")
    return store


def test_every_batch_is_durable_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    store = _people(path)
    again = MemoryStore(path)  # no save, no checkpoint: the batch is committed already
    assert again.counts().nodes["Person"] == 3
    assert again.person_profile("P1@x.com").name == "P1"
    tiny_world(store)
    reopened = MemoryStore(path)
    assert reopened.counts() == store.counts()
    assert [m.person_id for m in reopened.readers(demo_query())] == ["ann@a.com"]
    profile = reopened.person_profile("ann@a.com")
    assert profile.properties["sources"] == ["t"] and profile.concerns[0].at.tzinfo is not None


@pytest.mark.parametrize("damage", [b"garbage" * 1000, b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_damaged_file_is_refused_and_left_alone(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "graph.sqlite"
    _people(path).close()
    for side in ("graph.sqlite-wal", "graph.sqlite-shm"):
        (tmp_path / side).unlink(missing_ok=True)
    path.write_bytes(damage)
    with pytest.raises(SnapshotError, match="unusable"):
        MemoryStore(path)
    assert path.read_bytes() == damage  # never replaced by an empty graph


def test_a_file_of_another_format_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    _people(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'format'")
    with pytest.raises(SnapshotError, match="format 99 and this version reads only 1"):
        MemoryStore(path)


def _old_snapshot(path: Path, graph: object) -> None:
    payload = pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL)
    trailer = struct.pack(">Q32s4s", len(payload), hashlib.sha256(payload).digest(), b"END!")
    path.write_bytes(MAGIC + payload + trailer)


def test_a_data_dir_with_an_old_snapshot_is_imported_once(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph()
    graph.add_node(("Company", "us.io"), own=True, sources=("t",))
    graph.add_node(("Person", "me@us.io"), name="Me", sources=("t",))
    graph.add_edge(("Person", "me@us.io"), ("Company", "us.io"), key="WORKS_AT", sources=("t",))
    _old_snapshot(tmp_path / "graph.snapshot", graph)
    store = MemoryStore(tmp_path / "graph.sqlite")
    assert store.team() == ["me@us.io"]
    assert not (tmp_path / "graph.snapshot").exists()
    assert (tmp_path / "graph.snapshot.imported").exists()
    assert MemoryStore(tmp_path / "graph.sqlite").counts() == store.counts()


def test_a_damaged_old_snapshot_is_not_imported(tmp_path: Path) -> None:
    (tmp_path / "graph.snapshot").write_bytes(MAGIC + b"half a pickle")
    with pytest.raises(SnapshotError, match="truncated"):
        MemoryStore(tmp_path / "graph.sqlite")
    assert (tmp_path / "graph.snapshot").exists()


def test_a_server_sees_a_load_by_another_process_without_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = MemoryStore(data / "graph.sqlite")
    assert server.counts().nodes["Person"] == 0
    env = {**os.environ, "RELGRAPH_STORE": "memory", "RELGRAPH_DATA_DIR": str(data)}
    subprocess.run([sys.executable, "-m", "api.cli", "load", "graph", str(DEMO)], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    assert server.counts().nodes["Person"] == 9
    assert server.person_profile("ada@acme.com").name == "Ada Lovelace"


CONCURRENT_WRITER = """
import sys
from pathlib import Path
from graph.memory_store import MemoryStore
store = MemoryStore(Path(sys.argv[1]))
for i in range(200):
    store.upsert_nodes("Person", [{"id": "ada@x.com", "title": f"title {i}"}], source="load")
    store.upsert_nodes("Person", [{"id": f"load{i}@x.com"}], source="load")
"""


def test_a_load_and_a_server_writing_together_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    server = MemoryStore(path)
    server.upsert_nodes("Person", [{"id": "ada@x.com", "name": "Ada"}], source="server")
    load = subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    for i in range(200):  # the server writes other properties of the same node meanwhile
        server.upsert_nodes("Person", [{"id": "ada@x.com", "location": f"room {i}"}],
                            source="server")
        server.upsert_nodes("Person", [{"id": f"server{i}@x.com"}], source="server")
    assert load.wait(timeout=120) == 0
    for store in (server, MemoryStore(path)):
        counts = store.counts()
        assert counts.nodes["Person"] == 1 + 200 + 200
        ada = store.person_profile("ada@x.com").properties
        assert (ada["name"], ada["title"], ada["location"]) == ("Ada", "title 199", "room 199")
        assert sorted(ada["sources"]) == ["load", "server"]


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from graph.memory_store import MemoryStore
store = MemoryStore(Path(sys.argv[1]), batch_size=100)
def rows():
    for i in range(1000):
        if i == 550:
            os.kill(os.getpid(), signal.SIGKILL)
        yield {"id": f"p{i}@x.com"}
store.upsert_nodes("Person", rows(), source="t")
"""


def test_a_write_killed_half_way_leaves_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    assert result.returncode == -signal.SIGKILL
    store = MemoryStore(path)
    assert store.counts().nodes["Person"] == 500  # five whole batches of 100, nothing else
    store.upsert_nodes("Person", [{"id": f"p{i}@x.com"} for i in range(1000)], source="t")
    assert MemoryStore(path).counts().nodes["Person"] == 1000


def test_the_file_gets_the_data_dirs_normal_mode(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        _people(tmp_path / "graph.sqlite").close()
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "graph.sqlite").stat().st_mode) == 0o644


def test_merges_and_deletes_reach_other_processes(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    one, two = MemoryStore(path), MemoryStore(path)
    tiny_world(one)
    one.upsert_nodes("Person", [{"id": "linkedin:ann", "name": "Ann"}], source="t")
    one.upsert_relationships("KNOWS", [{"from": "linkedin:ann", "to": "me@us.io"}], source="t")
    assert two.counts() == one.counts()
    one.merge_nodes("Person", "ann@a.com", "linkedin:ann")
    assert two.counts() == one.counts()
    assert two.aliases("Person") == {"linkedin:ann": "ann@a.com"}
    assert two.person_profile("ann@a.com").connections == 1
    two.delete_all()
    assert set(one.counts().nodes.values()) == {0}
    assert set(MemoryStore(path).counts().nodes.values()) == {0}


def test_migrate_names_the_file_it_created_once(tmp_path: Path) -> None:
    path = tmp_path / "d" / "graph.sqlite"
    store = MemoryStore(path)
    assert store.migrate() and path.exists()
    assert store.migrate() == [] and MemoryStore(path).migrate() == []


def test_a_fold_chain_reaches_an_open_process_without_ghosts(tmp_path: Path) -> None:
    """Another process applies the batch's commit as it ended: the node folded on and the
    relationship moved on by a later fold of the same batch are gone there too."""
    path = tmp_path / "graph.sqlite"
    loader, server = MemoryStore(path), MemoryStore(path)
    loader.upsert_nodes("Person", [{"id": "segment:old-7"}, {"id": "segment:u42"},
                                   {"id": "u42@acme.com"}], source="segment")
    loader.upsert_nodes("Event", [{"id": "m-1", "type": "login", "at": "2026-10-01T00:00:00Z"}],
                        source="segment")
    loader.upsert_relationships("PERFORMED", [{"from": "segment:old-7", "to": "m-1"}],
                                source="segment")
    assert server.counts().nodes["Person"] == 3  # the server is caught up before the folds
    loader.fold_aliases("Person", [("segment:old-7", "segment:u42"),
                                   ("segment:u42", "u42@acme.com")])
    counts = server.counts()
    assert (counts.nodes["Person"], counts.relationships) == (1, {"PERFORMED": 1})
    assert server.existing("Person", ["segment:u42", "u42@acme.com"]) == {"u42@acme.com"}


def test_a_batchs_last_operation_on_a_row_wins() -> None:
    changes = Changes()
    rel = ("KNOWS", "Person", "a", "Person", "b")
    changes.put_node(("Person", "a"), {"name": "A"})
    changes.put_rel(rel, {})
    changes.drop_rel(rel)
    changes.drop_node(("Person", "a"))
    assert (dict(changes.nodes), dict(changes.rels)) == ({}, {})
    assert (set(changes.gone_nodes), set(changes.gone_rels)) == ({("Person", "a")}, {rel})
    changes.put_node(("Person", "a"), {"name": "A again"})
    changes.put_rel(rel, {"strength": 0.5})
    assert (set(changes.gone_nodes), set(changes.gone_rels)) == (set(), set())
    changes.drop_everything()
    assert not changes.nodes and not changes.rels and changes.everything_gone


class _CommitsBehind:
    """A SQLite connection after whose next COMMIT another writer commits at once: in the gap
    between our COMMIT and whatever we do next (where the store once read data_version)."""

    def __init__(self, db: sqlite3.Connection, between: Callable[[], object]) -> None:
        self._db = db
        self._between: Callable[[], object] | None = between

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        cursor = self._db.execute(sql, *args)
        if sql == "COMMIT" and self._between is not None:
            between, self._between = self._between, None
            between()
        return cursor

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        return self._db.executemany(sql, rows)

    def executescript(self, sql: str) -> sqlite3.Cursor:
        return self._db.executescript(sql)

    def close(self) -> None:
        self._db.close()


def _late(other: MemoryStore) -> Callable[[], object]:
    return lambda: other.upsert_nodes("Person", [{"id": "late@x.com"}], source="other")


def test_a_commit_right_after_our_write_is_not_missed(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    server, other = _people(path), MemoryStore(path)
    server._journal._db = _CommitsBehind(server._journal._db, _late(other))  # type: ignore
    server.upsert_nodes("Person", [{"id": "mine@x.com"}], source="server")
    assert server.existing("Person", ["late@x.com", "mine@x.com"]) == {"late@x.com",
                                                                      "mine@x.com"}


def test_a_commit_right_after_opening_is_not_missed(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "graph.sqlite"
    other = _people(path)
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _CommitsBehind(connect(*a, **k),
                                                                          _late(other)))
    server = MemoryStore(path)  # the first COMMIT is the one that ends reading the graph
    monkeypatch.undo()
    assert server.existing("Person", ["late@x.com"]) == {"late@x.com"}


def test_a_commit_right_after_catching_up_is_not_missed(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite"
    server, other = MemoryStore(path), _people(path)
    server._journal._db = _CommitsBehind(server._journal._db, _late(other))  # type: ignore
    assert server.counts().nodes["Person"] == 3  # catches up on _people; then `late` commits
    assert server.existing("Person", ["late@x.com"]) == {"late@x.com"}


def test_pruned_deletion_records_make_a_lagging_process_reload(tmp_path: Path) -> None:
    """`relgraph maintenance compact` drops the journal's deletion records; a process that had
    not seen those deletions yet reloads the whole graph rather than keep what is gone."""
    path = tmp_path / "graph.sqlite"
    writer = _people(path, 4)
    lagging = MemoryStore(path)  # another process, up to date now
    assert lagging.counts().nodes["Person"] == 4
    writer.upsert_nodes("Person", [{"id": "p0@x.com", "name": "P0"}], source="t")
    assert writer.merge_nodes("Person", "p0@x.com", "p1@x.com")  # a deletion: p1 is gone
    writer.upsert_nodes("Person", [{"id": "p9@x.com", "name": "P9"}], source="t")
    assert sqlite3.connect(path).execute("SELECT count(*) FROM gone").fetchone()[0] > 0
    assert writer.prune_journal() > 0
    assert sqlite3.connect(path).execute("SELECT count(*) FROM gone").fetchone() == (0,)
    # the lagging process never saw p1 go: it reloads, and holds what the writer holds
    assert lagging.counts() == writer.counts()
    assert lagging.existing("Person", ["p1@x.com", "p9@x.com"]) == {"p9@x.com"}
    assert lagging.aliases("Person") == {"p1@x.com": "p0@x.com"}
    assert MemoryStore(path).counts() == writer.counts()  # and a fresh one opens the same
    assert writer.prune_journal() == 0  # nothing new to drop


@pytest.mark.parametrize(("setting", "pragma"), [(None, 1), ("NORMAL", 1), ("FULL", 2)])
def test_the_commit_sync_level_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            setting: str | None, pragma: int) -> None:
    """NORMAL (the default) survives a killed process, a power loss only once checkpointed;
    RELGRAPH_SQLITE_SYNCHRONOUS=FULL syncs every commit (graph/durable.py)."""
    from pydantic import ValidationError

    from graph.settings import Settings
    from graph.store import open_store

    monkeypatch.delenv("RELGRAPH_SQLITE_SYNCHRONOUS", raising=False)
    if setting is not None:
        monkeypatch.setenv("RELGRAPH_SQLITE_SYNCHRONOUS", setting)
    store = open_store(Settings(data_dir=tmp_path, store="memory"))
    assert isinstance(store, MemoryStore) and store._journal is not None
    assert store._journal._db.execute("PRAGMA synchronous").fetchone() == (pragma,)
    store.close()
    monkeypatch.setenv("RELGRAPH_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValidationError, match="RELGRAPH_SQLITE_SYNCHRONOUS"):
        Settings(data_dir=tmp_path, store="memory")
