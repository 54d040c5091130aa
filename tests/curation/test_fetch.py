"""Fetching feeds from a local server: conditional GET, redirects, slow, broken and bad feeds.
Each bad feed gets one clear line in the report, the others are fetched all the same, and
nothing already fetched is lost."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from curation.db import connect
from curation.fetch import FetchOptions, FetchReport, Outcome, fetch_all, user_agent
from curation.sources import find_source, list_sources, save_source
from tests.curation.feedserver import FeedServer, Route

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "curation" / "feeds"
RSS = (FEEDS / "rss2.xml").read_bytes()
# The feed server is on 127.0.0.1, which the SSRF guard refuses unless allowed (test_ssrf.py).
LOOPBACK = ("127.0.0.1",)
FAST = FetchOptions(connect_timeout=2, read_timeout=0.5, total_timeout=1.5, max_bytes=1 << 20,
                    allow_hosts=LOOPBACK)


def feed(name: str, **kwargs: object) -> Route:
    return Route((FEEDS / name).read_bytes(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with connect(tmp_path / "curation.sqlite") as conn:
        yield conn


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


def add(db: sqlite3.Connection, server: FeedServer, *paths: str) -> None:
    for path in paths:
        save_source(db, server.url(path), kind="company")


def run(db: sqlite3.Connection, options: FetchOptions = FAST) -> FetchReport:
    return fetch_all(db, options=options)


def by_path(report: FetchReport) -> dict[str, object]:
    return {f.url.split("/", 3)[3]: f for f in report.feeds}


def entries(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def test_a_good_feed_then_not_modified(db: sqlite3.Connection, server: FeedServer) -> None:
    server.routes["/feed"] = Route(RSS, etag='"v1"', last_modified="Tue, 05 Mar 2024 15:00:00 GMT")
    add(db, server, "/feed")
    first = run(db).feeds[0]
    assert (first.outcome, first.entries, first.new_entries) == (Outcome.OK, 2, 2)
    assert first.message == "HTTP 200: 2 entries, 2 new"
    source = list_sources(db)[0]
    assert (source.etag, source.last_modified) == ('"v1"', "Tue, 05 Mar 2024 15:00:00 GMT")
    second = run(db).feeds[0]
    assert second.outcome is Outcome.UNCHANGED and second.message.startswith("not modified")
    sent = server.hits("/feed")[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Tue, 05 Mar 2024 15:00:00 GMT"
    assert sent["user-agent"] == user_agent() and user_agent().startswith("relgraph-roundup/0.1 (+")
    assert "application/rss+xml" in sent["accept"]
    assert entries(db) == 2


def test_last_modified_alone_gives_304_and_a_changed_feed_adds_only_new_entries(
        db: sqlite3.Connection, server: FeedServer) -> None:
    server.routes["/feed"] = Route(RSS, last_modified="Tue, 05 Mar 2024 15:00:00 GMT")
    add(db, server, "/feed")
    run(db)
    assert run(db).feeds[0].outcome is Outcome.UNCHANGED
    more = RSS.replace(b"<item>", b"<item><title>Fresh</title><link>https://brightpath.example/"
                       b"fresh</link><pubDate>Wed, 06 Mar 2024 08:00:00 GMT</pubDate></item>"
                       b"<item>", 1)
    server.routes["/feed"] = Route(more, last_modified="Wed, 06 Mar 2024 09:00:00 GMT")
    report = run(db).feeds[0]
    assert (report.entries, report.new_entries) == (3, 1)
    assert entries(db) == 3


def test_a_permanent_redirect_is_recorded_and_fetched_there_next_time(
        db: sqlite3.Connection, server: FeedServer) -> None:
    server.routes["/old"] = Route(location="/new", status=301)
    server.routes["/new"] = Route(RSS, etag='"n"')
    add(db, server, "/old")
    report = run(db).feeds[0]
    assert report.outcome is Outcome.OK
    assert report.message.endswith(f"moved permanently to {server.url('/new')} "
                                   "(fetched there from now on)")
    assert list_sources(db)[0].moved_to == server.url("/new")
    assert run(db).feeds[0].outcome is Outcome.UNCHANGED
    assert len(server.hits("/old")) == 1 and len(server.hits("/new")) == 2
    assert find_source(db, server.url("/new")) is not None  # found by its new address too


def test_a_temporary_redirect_is_followed_not_recorded(db: sqlite3.Connection,
                                                       server: FeedServer) -> None:
    server.routes["/tmp"] = Route(location="/real", status=302)
    server.routes["/real"] = Route(RSS)
    add(db, server, "/tmp")
    assert run(db).feeds[0].outcome is Outcome.OK
    assert list_sources(db)[0].moved_to is None


def test_a_301_after_a_302_is_not_a_move(db: sqlite3.Connection, server: FeedServer) -> None:
    server.routes["/a"] = Route(location="/b", status=302)
    server.routes["/b"] = Route(location="/c", status=301)
    server.routes["/c"] = Route(RSS)
    add(db, server, "/a")
    assert run(db).feeds[0].outcome is Outcome.OK
    assert list_sources(db)[0].moved_to is None


# (path, route(s), outcome, text the line must hold)
BAD = [
    ("loop", {"/loop": Route(location="/loop2", status=302),
              "/loop2": Route(location="/loop", status=301)},
     Outcome.FAILED, "redirect loop: http://127.0.0.1:{port}/loop -> "
                     "http://127.0.0.1:{port}/loop2 -> http://127.0.0.1:{port}/loop"),
    ("chain", {f"/chain{i if i else ''}": Route(location=f"/chain{i + 1}", status=302)
               for i in range(12)}, Outcome.FAILED, "more than 8 redirects"),
    ("slow", {"/slow": Route(RSS, delay=2)}, Outcome.FAILED,
     "timed out: no data for 0.5 s (read timeout)"),
    ("drip", {"/drip": Route(RSS * 3, drip=0.4, chunk=512)}, Outcome.FAILED,
     "timed out: not done after 1.5 s in all"),
    ("500", {"/500": Route(b"oops", status=500, content_type="text/plain")}, Outcome.FAILED,
     "HTTP 500 Internal Server Error"),
    ("404", {"/404": Route(b"", status=404)}, Outcome.FAILED, "HTTP 404 Not Found"),
    ("503", {"/503": Route(b"", status=503, headers={"Retry-After": "120"})}, Outcome.FAILED,
     "HTTP 503 Service Unavailable (retry after 120)"),
    ("html", {"/html": feed("page.html", content_type="text/html; charset=utf-8")},
     Outcome.FAILED, "HTTP 200 (text/html): an HTML page, not a feed; the page names its feed: "
                     "http://127.0.0.1:{port}/feed.xml (add that)"),
    ("huge", {"/huge": Route(RSS[:200], size=8 << 20)}, Outcome.FAILED,
     "too large: more than 1.0 MB, stopped reading"),
    ("announced", {"/announced": Route(b"x" * (2 << 20))}, Outcome.FAILED,
     "too large: 2.0 MB announced, more than the 1.0 MB a feed may have"),
    ("gzip-bomb", {"/gzip-bomb": Route(b"<rss>" + b" " * (8 << 20), gzip=True)},
     Outcome.FAILED, "too large: more than 1.0 MB, stopped reading"),
    ("latin", {"/latin": feed("latin1-declared-utf8.xml")}, Outcome.WARNING,
     "HTTP 200: 1 entry, 1 new; malformed feed (CharacterEncodingOverride: document declared "
     "as utf-8, but parsed as windows-1252); its entries were still read; parsed by feedparser"),
    ("bozo", {"/bozo": feed("bozo.xml")}, Outcome.WARNING,
     "HTTP 200: 2 entries, 2 new; malformed feed"),
    ("undated", {"/undated": feed("no-dates.xml")}, Outcome.WARNING,
     "HTTP 200: 3 entries, 3 new; 2 entries without a date: dated when first seen; 1 entry "
     "dated in the future: dated when first seen"),
    ("gaps", {"/gaps": feed("missing-fields.xml")}, Outcome.WARNING,
     "HTTP 200: 3 entries, 3 new; 2 entries without an id or link, or without a title or "
     "text, skipped; 1 entry without a title: titled from their text; 1 entry without a web "
     "link: keyed by their id"),
    ("empty", {"/empty": Route(b'<rss version="2.0"><channel><title>e</title></channel></rss>')},
     Outcome.WARNING, "HTTP 200: the feed has no entries"),
    ("nothing", {"/nothing": Route(b"")}, Outcome.FAILED,
     "HTTP 200 (application/rss+xml): empty response: no feed in it"),
    ("garbage", {"/garbage": Route(b"\x00\x01binary\xff" * 50)}, Outcome.FAILED,
     "not a readable RSS or Atom feed"),
]


@pytest.mark.parametrize(("path", "routes", "outcome", "text"), BAD, ids=[b[0] for b in BAD])
def test_each_bad_feed_gets_one_clear_line(db: sqlite3.Connection, server: FeedServer,
                                           path: str, routes: dict[str, Route],
                                           outcome: Outcome, text: str) -> None:
    server.routes.update(routes)
    server.routes["/good"] = Route(RSS)
    add(db, server, f"/{path}", "/good")
    report = run(db)
    lines = by_path(report)
    bad, good = lines[path], lines["good"]
    assert bad.outcome is outcome, bad.message  # type: ignore[attr-defined]
    assert text.format(port=server.port) in bad.message  # type: ignore[attr-defined]
    assert "\n" not in bad.line  # type: ignore[attr-defined]
    assert good.outcome is Outcome.OK  # type: ignore[attr-defined]
    rows = db.execute("SELECT outcome, message FROM fetches ORDER BY id").fetchall()
    assert sorted(r[0] for r in rows) == sorted([outcome.value, "ok"])
    status = find_source(db, server.url(f"/{path}"))
    assert status is not None and status.last_status == f"{outcome.value}: {bad.message}"  # type: ignore[attr-defined]


def test_a_refused_connection_is_one_line(db: sqlite3.Connection, server: FeedServer) -> None:
    with FeedServer() as gone:
        dead = gone.url("/feed")
    server.routes["/good"] = Route(RSS)
    save_source(db, dead, kind="vendor")
    add(db, server, "/good")
    report = run(db)
    failed = next(f for f in report.feeds if f.url == dead)
    assert failed.outcome is Outcome.FAILED and failed.message.startswith("cannot connect")
    assert report.count(Outcome.OK) == 1


def test_the_same_guid_in_two_feeds_is_two_stories(db: sqlite3.Connection,
                                                   server: FeedServer) -> None:
    server.routes["/a"] = feed("same-guid-a.xml")
    server.routes["/b"] = feed("same-guid-b.xml")
    add(db, server, "/a")
    run(db)
    add(db, server, "/b")
    line = by_path(run(db))["b"]
    assert line.outcome is Outcome.WARNING  # type: ignore[attr-defined]
    assert "1 GUID also used by another feed for a different story (e.g. '1' in " \
        f"{server.url('/a')}): kept apart" in line.message  # type: ignore[attr-defined]
    titles = sorted(r[0] for r in db.execute("SELECT title FROM entries"))
    assert titles == ["Alpha's first post on renewals", "Beta's first post about health scores"]


def test_gzip_is_decoded(db: sqlite3.Connection, server: FeedServer) -> None:
    server.routes["/gz"] = Route(RSS, gzip=True)
    add(db, server, "/gz")
    assert run(db).feeds[0].entries == 2


def test_nothing_fetched_is_lost_when_a_feed_breaks(db: sqlite3.Connection,
                                                    server: FeedServer) -> None:
    server.routes["/feed"] = Route(RSS, etag='"v1"')
    add(db, server, "/feed")
    run(db)
    before = db.execute("SELECT id, title, first_seen_at FROM entries ORDER BY id").fetchall()
    for broken in (Route(b"oops", status=500), Route(b"<html><body>maintenance</body></html>",
                                                     content_type="text/html"),
                   Route(b'<rss version="2.0"><channel><title>x</title></channel></rss>')):
        server.routes["/feed"] = broken
        assert run(db).feeds[0].outcome in (Outcome.FAILED, Outcome.WARNING)
        after = db.execute("SELECT id, title, first_seen_at FROM entries ORDER BY id").fetchall()
        assert after == before
    assert list_sources(db)[0].etag == '"v1"' or list_sources(db)[0].etag is None


def test_first_seen_and_undated_entries_keep_their_date(db: sqlite3.Connection,
                                                        server: FeedServer) -> None:
    server.routes["/feed"] = feed("no-dates.xml")
    add(db, server, "/feed")
    first = datetime(2024, 3, 10, tzinfo=UTC)
    fetch_all(db, options=FAST, now=first)
    fetch_all(db, options=FAST, now=datetime(2024, 3, 12, tzinfo=UTC))
    rows = dict(db.execute("SELECT title, published_at FROM entries").fetchall())
    assert rows["No date here"] == "2024-03-10T00:00:00.000000+00:00"
    assert rows["From the future"] == "2024-03-10T00:00:00.000000+00:00"
    assert rows["Only updated"] == "2024-03-03T00:00:00.000000+00:00"


def test_feeds_are_fetched_concurrently(db: sqlite3.Connection, server: FeedServer) -> None:
    for i in range(8):
        server.routes[f"/f{i}"] = Route(RSS.replace(b"brightpath", f"b{i}".encode()), delay=0.4)
        add(db, server, f"/f{i}")
    report = run(db, FetchOptions(concurrency=8, read_timeout=5, total_timeout=10,
                                  allow_hosts=LOOPBACK))
    assert report.count(Outcome.OK) == 8
    assert report.seconds < 8 * 0.4 * 0.75  # one at a time would take 3.2 s


def test_the_feed_title_names_a_source_without_a_name(db: sqlite3.Connection,
                                                      server: FeedServer) -> None:
    server.routes["/feed"] = Route(RSS)
    add(db, server, "/feed")
    save_source(db, server.url("/named"), kind="vendor", name="Given name")
    server.routes["/named"] = Route(RSS)
    run(db)
    assert {s.url.rsplit("/", 1)[1]: s.name for s in list_sources(db)} == {
        "feed": "Brightpath blog", "named": "Given name"}


def test_the_fetch_command_prints_one_line_per_feed(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    server: FeedServer) -> None:
    from typer.testing import CliRunner

    from api.cli.roundup import app
    from graph.settings import get_settings

    monkeypatch.setenv("RELGRAPH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RELGRAPH_FEEDS_ALLOW_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    server.routes["/good"] = Route(RSS)
    server.routes["/bad"] = Route(b"oops", status=500)
    server.routes["/loop"] = Route(location="/loop", status=302)
    with connect(tmp_path / "curation.sqlite") as conn:
        add(conn, server, "/good", "/bad", "/loop")
    try:
        result = CliRunner().invoke(app, ["fetch", "--timeout", "2"])
        strict = CliRunner().invoke(app, ["fetch", "--timeout", "2", "--strict"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output  # a feed failed: the exit status says so too
    lines = result.stdout.splitlines()  # the report; stderr apart
    assert len(lines) == 4, result.output
    assert lines[0].startswith("failed    ") and lines[0].endswith(
        "HTTP 500 Internal Server Error"), result.output
    assert lines[1].startswith("ok        ") and lines[1].endswith(
        "HTTP 200: 2 entries, 2 new"), result.output
    assert "redirect loop" in lines[2], result.output
    assert lines[3].startswith("3 feeds in ") and lines[3].endswith(
        "1 ok, 2 failed; 2 new entries"), result.output
    assert strict.exit_code == 1
