"""The embedded store's snapshot: atomic, checked on load, shared between processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph.errors import SnapshotConflict, SnapshotError
from graph.memory_store import MAGIC, MemoryStore
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
