"""The event log: append-only Parquet parts, de-duplicated by id, whole parts only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.eventlog import EventLog, LoggedEvent
from tests.conftest import ROOT

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def ev(i: int, type_: str = "page_viewed", person: str | None = "ada@acme.com",
       url: str | None = "https://x.org/a", anon: str | None = None, hours: int = 0) -> LoggedEvent:
    return LoggedEvent(f"m{i}", type_, T0 + timedelta(hours=hours or i), person, anon, None, url,
                       json.dumps({"i": i}), "test")


def test_reloading_the_same_events_adds_nothing(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    assert log.count() == 0
    first = log.append([ev(1), ev(2), ev(2), ev(3)])
    assert (first.added, first.duplicates) == (3, 1)
    again = log.append([ev(3), ev(2), ev(4)])
    assert (again.added, again.duplicates) == (1, 2)
    assert log.count() == 4 and log.count("page_viewed") == 4
    assert len(list((tmp_path / "events").glob("part-*.parquet"))) == 2


def test_read_spans_count_stitched_anonymous_visits(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append([
        ev(1, person=None, anon="segment:anon-1", hours=1),  # before she signed up
        ev(2, hours=5),
        ev(3, type_="newsletter_click", hours=9),
        ev(4, type_="newsletter_open", hours=10),  # an open is not a read
        ev(5, type_="login", url=None),
        ev(6, person="bob@acme.com"),
        ev(7, url="https://x.org/b", hours=2),
    ])
    (a, b) = log.read_spans(["ada@acme.com"], identities={"segment:anon-1": "ada@acme.com"})
    assert (a.url, a.count, a.first_at, a.last_at, a.channels) == (
        "https://x.org/a", 3, T0 + timedelta(hours=1), T0 + timedelta(hours=9),
        ("newsletter", "web"))
    assert (b.url, b.count) == ("https://x.org/b", 1)
    assert log.read_spans(["ada@acme.com"])[0].count == 2  # without the stitching
    by_url = log.read_spans(urls=["https://x.org/b", "https://x.org/a"])
    assert [(s.person, s.url, s.count) for s in by_url] == [
        ("ada@acme.com", "https://x.org/a", 2), ("ada@acme.com", "https://x.org/b", 1),
        ("bob@acme.com", "https://x.org/a", 1)]
    assert log.first_of("login", ["ada@acme.com", "bob@acme.com"]) == {
        "ada@acme.com": T0 + timedelta(hours=5)}


KILLED_APPEND = """
import os, signal, sys, datetime as dt
from pathlib import Path
from graph.eventlog import EventLog, LoggedEvent
log = EventLog(Path(sys.argv[1]))
t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
log.append([LoggedEvent(f"a{i}", "login", t) for i in range(1000)])
def killed(src, dst):
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = killed
log.append([LoggedEvent(f"b{i}", "login", t) for i in range(1000)])
"""


def test_an_append_killed_half_way_leaves_whole_parts_and_a_rerun_completes(
        tmp_path: Path) -> None:
    events = tmp_path / "events"
    result = subprocess.run([sys.executable, "-c", KILLED_APPEND, str(events)], cwd=ROOT,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == -signal.SIGKILL
    log = EventLog(events)
    assert log.count() == 1000  # the first part whole, the second never appeared
    log.append([LoggedEvent(f"{p}{i}", "login", T0) for p in "ab" for i in range(1000)])
    assert log.count() == 2000
    assert [p.name for p in events.iterdir() if p.name.endswith(".tmp")] == []
