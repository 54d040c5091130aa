"""The embedded store behind a threaded server: questions and writes at the same time."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.memory_store import MemoryStore
from tests.conformance.helpers import demo_query, load_demo
from tests.conftest import DEMO


@pytest.fixture(autouse=True)
def eager_thread_switching() -> Iterator[None]:
    """Switch threads every few bytecodes so interleavings that break shared state show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _run_together(writer: Callable[[int], None], reader: Callable[[], object], *,
                  rounds: int = 300, readers: int = 1) -> list[BaseException]:
    """`writer(0..rounds-1)` on one thread while `readers` threads call `reader` until it ends."""
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(rounds):
                writer(i)
        finally:
            done.set()

    def read() -> None:
        while not done.is_set():
            reader()

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
                done.set()
        return run

    threads = [threading.Thread(target=guarded(write))]
    threads += [threading.Thread(target=guarded(read)) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_questions_run_while_another_thread_writes(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "graph.sqlite", batch_size=5)
    load_demo(store, DEMO, tmp_path)
    team = "maya@relgraph.io"
    known_before = store.person_profile(team).connections

    def write(i: int) -> None:
        people = [{"id": f"new{i}-{j}@n{i}.com", "name": f"New {i}"} for j in range(5)]
        store.upsert_nodes("Person", people, source="t")
        store.upsert_nodes("Company", [{"id": f"n{i}.com", "customer": i % 2 == 0}], source="t")
        store.upsert_relationships("KNOWS", [{"from": team, "to": p["id"]} for p in people],
                                   source="t")
        store.upsert_relationships("WORKS_AT", [{"from": p["id"], "to": f"n{i}.com"}
                                                for p in people], source="t")

    def read() -> None:
        store.readers(demo_query())
        store.reader_companies(demo_query())
        store.person_profile(team)
        store.counts()

    assert _run_together(write, read, readers=2) == []
    assert store.counts().nodes["Person"] == 9 + 300 * 5
    assert store.person_profile(team).connections == known_before + 300 * 5


def test_another_process_commits_are_applied_whole(tmp_path: Path) -> None:
    """Another store on the same file (as another process would) commits one person and
    then their job, a batch each; readers here apply those commits while they ask, and must
    see each commit whole: never more jobs than people, never a job short by more than the
    one commit in between."""
    path = tmp_path / "graph.sqlite"
    writer = MemoryStore(path)
    writer.upsert_nodes("Company", [{"id": "x.com"}], source="t")
    reader = MemoryStore(path)

    picked_up = threading.Event()

    def write(i: int) -> None:
        writer.upsert_nodes("Person", [{"id": f"p{i}@x.com"}], source="t")
        writer.upsert_relationships("WORKS_AT", [{"from": f"p{i}@x.com", "to": "x.com"}],
                                    source="t")
        # the next commit only once a reader has seen this one (no clock: an event)
        picked_up.wait(5)
        picked_up.clear()

    seen: set[int] = set()

    def read() -> None:
        counts = reader.counts()
        people, jobs = counts.nodes["Person"], counts.relationships.get("WORKS_AT", 0)
        assert people - jobs in (0, 1), counts
        assert counts.nodes["Company"] == 1, counts
        if people not in seen:
            seen.add(people)
            picked_up.set()

    assert _run_together(write, read, rounds=60, readers=3) == []
    assert reader.counts().nodes["Person"] == 60
    assert len(seen) > 1  # the readers really did pick up commits while they happened
