"""Compacting the event log (graph/eventlog.py): many small parts become one, no event lost or
doubled — while a reader reads, after a crash half way through the swap, and when readers keep
it busy (nothing changes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graph import eventlog
from graph.eventlog import JOURNAL, EventLog, EventLogBusy, LoggedEvent

START = datetime(2026, 11, 1, tzinfo=UTC)


def _events(first: int, n: int) -> list[LoggedEvent]:
    return [LoggedEvent(f"m{k}", "page_viewed", START + timedelta(minutes=k), f"p{k % 7}@x.io",
                        url=f"https://x.io/{k % 5}", source=f"load-{first}")
            for k in range(first, first + n)]


def _log(tmp: Path, loads: int, per: int = 3) -> EventLog:
    log = EventLog(tmp / "events")
    for i in range(loads):
        log.append(_events(i * per, per))
    return log


def _spans(log: EventLog) -> list[tuple[object, ...]]:
    return [(s.person, s.url, s.first_at, s.last_at, s.count, s.sources)
            for s in log.read_spans(persons=[f"p{k}@x.io" for k in range(7)])]


def test_small_parts_become_one_and_every_answer_stays(tmp_path: Path) -> None:
    log = _log(tmp_path, 40)
    before = (log.count(), _spans(log), len(log.live_parts()))
    assert before[0] == 120 and before[2] == 40
    done = log.compact()
    assert (done.parts_before, done.parts_after, done.merged, done.events) == (40, 1, 40, 120)
    assert (log.count(), _spans(log)) == before[:2]
    assert log.sql("SELECT count(DISTINCT id) FROM events") == [(120,)]
    assert log.append(_events(0, 120)).added == 0  # still de-duplicated against the log
    assert log.compact().merged == 0  # one part: nothing to do
    assert not (tmp_path / "events" / JOURNAL).exists()


def test_an_append_compacts_past_the_threshold(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventlog, "AUTO_COMPACT_PARTS", 10)
    log = _log(tmp_path, 11)
    assert len(log.live_parts()) == 1 and log.count() == 33


def test_a_reader_never_sees_an_event_twice_or_misses_one(tmp_path: Path) -> None:
    log = _log(tmp_path, 60)
    seen: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        reader = EventLog(tmp_path / "events")  # another handle, as another process has
        while not stop.is_set():
            try:
                seen.append(reader.count())
            except BaseException as exc:  # noqa: BLE001 - any failure is the test's point
                failures.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for round_ in range(5):  # compact, add small parts again, compact …
            log.compact()
            for i in range(6):
                log.append(_events(10_000 + round_ * 100 + i * 3, 3))
    finally:
        stop.set()
        thread.join()
    assert not failures
    assert seen and all(n >= 180 for n in seen)
    assert seen == sorted(seen)  # only ever more events: none lost, none counted twice
    assert log.count() == 180 + 5 * 18 and len(log.live_parts()) == 7


def test_a_crash_in_the_swap_is_finished_by_the_next_writer(tmp_path: Path) -> None:
    log = _log(tmp_path, 8)
    directory = tmp_path / "events"
    old = [p.name for p in log.live_parts()]
    # the state a compaction killed after its new part came in, before the old went
    merged = directory / "part-29990101T000000000000Z-feedbeef.parquet"
    log.sql(f"COPY (SELECT * FROM events ORDER BY id) TO '{merged}' (FORMAT parquet)")
    (directory / JOURNAL).write_text(json.dumps({"part": merged.name, "replaces": old}))
    assert log.count() == 24 and len(log.live_parts()) == 1  # the old ones left out already
    log.append(_events(1_000, 3))  # the next writer finishes the swap
    assert not (directory / JOURNAL).exists()
    assert sorted(p.name for p in directory.glob("part-*.parquet")) == sorted(
        [merged.name] + [p.name for p in log.live_parts() if p.name != merged.name])
    assert not any((directory / name).exists() for name in old)
    assert log.count() == 27


def test_a_journal_whose_part_never_came_in_changes_nothing(tmp_path: Path) -> None:
    log = _log(tmp_path, 4)
    directory = tmp_path / "events"
    (directory / JOURNAL).write_text(json.dumps({
        "part": "part-29990101T000000000000Z-00000000.parquet",
        "replaces": [p.name for p in log.live_parts()]}))
    assert log.count() == 12 and len(log.live_parts()) == 4
    assert log.compact().merged == 4 and log.count() == 12
    assert not (directory / JOURNAL).exists()


def test_busy_readers_make_it_give_up_with_nothing_changed(tmp_path: Path) -> None:
    log = _log(tmp_path, 5)
    before = sorted(p.name for p in (tmp_path / "events").iterdir())
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with EventLog(tmp_path / "events").reading():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    try:
        with pytest.raises(EventLogBusy, match="nothing changed"):
            log.compact(wait=0.2)
    finally:
        release.set()
        thread.join()
    assert sorted(p.name for p in (tmp_path / "events").iterdir()) == before
    assert log.count() == 15


def test_relgraph_maintenance_compact(tmp_path: Path) -> None:
    _log(tmp_path / "data", 12)
    env = {"RELGRAPH_DATA_DIR": str(tmp_path / "data"), "RELGRAPH_STORE": "memory",
           "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    root = Path(__file__).resolve().parents[2]

    def run() -> str:
        return subprocess.run([sys.executable, "-m", "api.cli", "maintenance", "compact"],
                              cwd=root, env=env, capture_output=True, text=True, check=True,
                              timeout=120).stdout

    assert "compacted 12 parts (36 events) into one" in run()
    assert "nothing to compact: 1 parts" in run()
    shutil.rmtree(tmp_path / "data")
