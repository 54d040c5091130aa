"""The embedded store's snapshot: atomic, checked on load, shared between processes."""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from graph.errors import SnapshotConflict, SnapshotError
from graph.memory_store import MAGIC, MemoryStore
from tests.conformance.helpers import demo_query, tiny_world
from tests.conftest import DEMO, ROOT


def _store_with_people(path: Path, n: int = 3) -> MemoryStore:
    store = MemoryStore(path)
    store.upsert_nodes("Person", [{"id": f"p{i}@x.com", "name": f"P{i}"} for i in range(n)],
                       source="t")
    store.save()
    return store


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    _store_with_people(path)
    again = MemoryStore(path)
    assert again.counts().nodes["Person"] == 3
    assert again.person_profile("P1@x.com").name == "P1"
    assert path.read_bytes().startswith(MAGIC)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:-1], "truncated"),
        (lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:], "checksum"),
        (lambda b: b"not a snapshot at all", "bad header"),
        (lambda b: b"", "bad header"),
    ],
)
def test_damaged_snapshot_is_refused_and_left_alone(tmp_path: Path, damage, message: str) -> None:
    path = tmp_path / "graph.snapshot"
    _store_with_people(path)
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)
    with pytest.raises(SnapshotError, match=message):
        MemoryStore(path)
    assert path.read_bytes() == damaged  # never replaced by an empty graph


def test_writes_are_not_on_disk_until_saved(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    store = _store_with_people(path)
    store.upsert_nodes("Person", [{"id": "late@x.com"}], source="t")
    assert MemoryStore(path).counts().nodes["Person"] == 3
    store.checkpoint()
    assert MemoryStore(path).counts().nodes["Person"] == 4


def test_a_reader_sees_a_load_saved_by_another_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    reader = MemoryStore(data / "graph.snapshot")
    assert reader.counts().nodes["Person"] == 0
    env = {**os.environ, "RELGRAPH_STORE": "memory", "RELGRAPH_DATA_DIR": str(data)}
    subprocess.run([sys.executable, "-m", "api.cli", "load", "graph", str(DEMO)], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    assert reader.counts().nodes["Person"] == 9


def test_a_stale_writer_does_not_overwrite_a_newer_save(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    _store_with_people(path)
    first, second = MemoryStore(path), MemoryStore(path)
    first.upsert_nodes("Topic", [{"id": "crm"}], source="t")
    first.save()
    second.upsert_nodes("Topic", [{"id": "churn"}], source="t")
    with pytest.raises(SnapshotConflict):
        second.save()
    assert MemoryStore(path).counts().nodes["Topic"] == 1


def test_migrate_creates_an_empty_snapshot_once(tmp_path: Path) -> None:
    path = tmp_path / "d" / "graph.snapshot"
    store = MemoryStore(path)
    assert store.migrate() and path.exists()
    assert MemoryStore(path).migrate() == []


def _write_snapshot(path: Path, magic: bytes, state: object) -> None:
    """A snapshot as some version of the store wrote it: header, pickle, length+SHA-256 trailer."""
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    trailer = struct.pack(">Q32s4s", len(payload), hashlib.sha256(payload).digest(), b"END!")
    path.write_bytes(magic + payload + trailer)


def test_a_snapshot_of_an_older_format_is_refused_clearly(tmp_path: Path) -> None:
    """The first format pickled its indexes beside the graph; one saved before `flags` existed
    used to fail with a raw KeyError."""
    path = tmp_path / "graph.snapshot"
    graph = nx.MultiDiGraph()
    graph.add_node(("Person", "a@x.com"), sources=("t",))
    _write_snapshot(path, b"RELGRAPH-SNAPSHOT\x00v1\n",
                    {"format": 1, "graph": graph, "labels": {"Person": {"a@x.com"}},
                     "rel_counts": Counter()})
    with pytest.raises(SnapshotError, match=r"snapshot format v1 .* reads only v2"):
        MemoryStore(path)


@pytest.mark.parametrize("payload", [{"graph": nx.MultiDiGraph()}, [1, 2], "text"])
def test_a_current_header_over_something_else_is_refused(tmp_path: Path, payload: object) -> None:
    path = tmp_path / "graph.snapshot"
    _write_snapshot(path, MAGIC, payload)
    with pytest.raises(SnapshotError, match="cannot be decoded"):
        MemoryStore(path)


def test_only_the_graph_is_saved_and_the_indexes_are_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    store = MemoryStore(path)
    tiny_world(store)
    store.save()
    raw = path.read_bytes()
    saved = pickle.loads(raw[len(MAGIC):-struct.calcsize(">Q32s4s")])
    assert isinstance(saved, nx.MultiDiGraph)
    again = MemoryStore(path)
    assert again.counts() == store.counts()
    # "our team" comes from the rebuilt index of companies flagged own
    assert [m.person_id for m in again.readers(demo_query())] == ["ann@a.com"]


def test_a_writer_refused_as_stale_recovers(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    _store_with_people(path)
    first, second = MemoryStore(path), MemoryStore(path)
    first.upsert_nodes("Topic", [{"id": "crm"}], source="t")
    first.save()
    second.upsert_nodes("Topic", [{"id": "churn"}], source="t")
    with pytest.raises(SnapshotConflict):
        second.save()
    # Its unsaved write is dropped (the caller is told to run it again); it sees new data again.
    assert second.counts().nodes["Topic"] == 1
    first.upsert_nodes("Topic", [{"id": "nps"}], source="t")
    first.save()
    assert second.counts().nodes["Topic"] == 2
    second.upsert_nodes("Topic", [{"id": "churn"}], source="t")
    second.save()
    assert MemoryStore(path).counts().nodes["Topic"] == 3


def test_the_snapshot_gets_the_data_dirs_normal_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    before = os.umask(0o022)
    try:
        _store_with_people(path)
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
from graph.memory_store import MemoryStore

def killed(src, dst):  # the process dies after writing the temp file, before the rename
    os.kill(os.getpid(), signal.SIGKILL)

store = MemoryStore(Path(sys.argv[1]))
store.upsert_nodes("Person", [{"id": "late@x.com"}], source="t")
os.replace = killed
store.save()
"""


def test_temp_files_of_a_killed_save_are_cleaned_up(tmp_path: Path) -> None:
    path = tmp_path / "graph.snapshot"
    _store_with_people(path)
    result = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], cwd=ROOT,
                            capture_output=True)
    assert result.returncode == -signal.SIGKILL
    orphans = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(orphans) == 1 and orphans[0].stat().st_size > 0
    store = MemoryStore(path)  # opening cleans up what no save holds any more
    assert store.counts().nodes["Person"] == 3
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    (tmp_path / ".graph-0123456789abcdef.tmp").write_bytes(b"x" * 100)  # killed while open
    store.upsert_nodes("Person", [{"id": "late@x.com"}], source="t")
    store.save()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
