"""The demo's roundup: the bundled sample feeds parse (every shape of the wild they stand for),
the loopback server serves them, the demo drafts a ranked issue from them through the real
curation path (the SSRF guard opened for 127.0.0.1 for that fetch only), a second run builds
nothing, and the feeds are package data of the built wheel."""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from curation import issues
from curation.db import connect
from curation.fetch import FetchOptions, Outcome, fetch_all
from curation.model import SourceKind
from curation.opml import read_opml
from curation.parse import ParsedFeed, parse_feed
from curation.sources import list_sources, save_source
from demoworld.feeds import (
    FEEDS,
    LOOPBACK,
    OPML,
    OWN_FEED,
    SAMPLES,
    FeedServer,
    Sample,
    draft_roundup,
    fetch_options,
    format_date,
    render,
    template,
)
from graph.memory_store import MemoryStore
from graph.settings import Settings, get_settings
from tests.worlds.cli import relgraph

AS_OF = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
BASE = "http://127.0.0.1:8999/relgraph-demo-feeds"
WINDOW = timedelta(days=7)  # a first issue's window: the week before its date
OWN = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>The Lumen Metrics blog</title>
<link>https://www.lumenmetrics.com/blog</link><description>Ours</description>
<item><title>Why exports spike before a customer leaves</title>
<link>https://www.lumenmetrics.com/blog/export-before-exit?utm_source=rss</link>
<guid isPermaLink="false">lumen-blog-1</guid><pubDate>{{as_of-3d|rfc822}}</pubDate>
<description>Churn shows up in the export logs weeks before the cancellation.</description>
</item></channel></rss>"""


def parsed(sample_file: str, content_type: str | None = None) -> ParsedFeed:
    data = render(template(sample_file), as_of=AS_OF, base=BASE)
    return parse_feed(data, url=f"{BASE}/{sample_file}", content_type=content_type, now=AS_OF)


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No RELGRAPH_FEEDS_* from the environment: the defaults, as a user has them."""
    for name in ("ALLOW_HOSTS", "MAX_BYTES", "MAX_REDIRECTS", "TIMEOUT"):
        monkeypatch.delenv(f"RELGRAPH_FEEDS_{name}", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with connect(tmp_path / "curation.sqlite") as conn:
        yield conn


# --- the samples ---------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.file)
def test_every_sample_parses_into_dated_entries_of_the_week(sample: Sample) -> None:
    feed = parsed(sample.file, sample.content_type)
    assert feed.title and not feed.fell_back and not feed.warning and not feed.skipped
    assert len(feed.entries) >= 3
    for entry in feed.entries:
        assert entry.title and entry.summary and entry.published_at is not None, entry
        assert entry.published_at <= AS_OF and not entry.future_date
        # the links are the publishers' own (stable Content keys), never the demo's server
        assert re.match(r"https?://[a-z.]+\.example/", entry.link), entry.link
    fresh = [e for e in feed.entries if e.published_at is not None
             and e.published_at >= AS_OF - WINDOW]
    assert 2 <= len(fresh) < len(feed.entries)  # most in this week's window, one older


def test_each_shape_of_the_wild_is_there() -> None:
    shapes = {s.shape for s in SAMPLES}
    assert shapes == {"rss2-wordpress-content-encoded", "atom-xml-base", "rss1-rdf",
                      "podcast-itunes-media", "json-feed", "rss2-media-rss",
                      "rss2-cdata-relative-links", "atom-updated-only"}
    raw = {s.shape: template(s.file) for s in SAMPLES}
    wordpress = raw["rss2-wordpress-content-encoded"]
    assert b"<content:encoded><![CDATA[" in wordpress and b"appeared first on" in wordpress
    assert b'src="/wp-content/' in wordpress  # a relative link inside the content
    assert b'xml:base="https://' in raw["atom-xml-base"]
    assert b'type="xhtml"' in raw["atom-xml-base"] and b'type="html"' in raw["atom-xml-base"]
    assert raw["rss1-rdf"].startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b"<rdf:RDF" in raw["rss1-rdf"] and b"Z\xfcrich" in raw["rss1-rdf"]  # Latin-1 bytes
    podcast = raw["podcast-itunes-media"]
    assert b"<itunes:duration>" in podcast and b"<media:content" in podcast
    assert b'<enclosure url="' in podcast
    assert json.loads(raw["json-feed"])["version"] == "https://jsonfeed.org/version/1.1"
    assert b"<media:group>" in raw["rss2-media-rss"] and b"utm_source=" in raw["rss2-media-rss"]
    cdata = raw["rss2-cdata-relative-links"]
    assert b"<link>//www." in cdata and b'src="../images/' in cdata and b'href="/docs/' in cdata
    atom = raw["atom-updated-only"]
    assert b"<published>" not in atom and b"<updated>" in atom
    # the dates come in the formats real feeds use
    formats = {spec.strip() for data in raw.values()
               for spec in re.findall(rb"\{\{as_of-[0-9wdhm]+\|([^}]*)\}\}", data)}
    assert {b"rfc822", b"rfc822 GMT short", b"rfc822 -0500", b"rfc822 PST", b"rfc3339 ms",
            b"rfc3339 +01:00", b"rfc3339 -05:00", b"date"} <= formats


def test_the_relative_links_resolve_where_the_publisher_meant() -> None:
    gridline = {e.title: e for e in parsed("gridline-blog.xml").entries}
    rebuilt = gridline["How we rebuilt our own onboarding around the first integration"]
    assert rebuilt.link == "http://www.gridline.example/blog/onboarding-first-integration"
    assert 'src="http://www.gridline.example/images/onboarding-funnel.png"' in \
        (rebuilt.content_html or "")
    pulse = parsed("customer-success-pulse.xml").entries[0]
    assert 'href="https://cspulse.example/churn-signals-checklist/"' in (pulse.content_html or "")


@pytest.mark.parametrize(("spec", "written"), [
    ("rfc822", "Sun, 29 Nov 2026 07:30:00 +0000"),
    ("rfc822 GMT", "Sun, 29 Nov 2026 07:30:00 GMT"),
    ("rfc822 GMT short", "Sun, 29 Nov 2026 07:30 GMT"),
    ("rfc822 PST", "Sat, 28 Nov 2026 23:30:00 PST"),
    ("rfc822 -0500", "Sun, 29 Nov 2026 02:30:00 -0500"),
    ("rfc3339", "2026-11-29T07:30:00Z"),
    ("rfc3339 ms", "2026-11-29T07:30:00.000Z"),
    ("rfc3339 +01:00", "2026-11-29T08:30:00+01:00"),
    ("date", "2026-11-29"),
])
def test_dates_are_written_in_the_format_asked(spec: str, written: str) -> None:
    moment = AS_OF - timedelta(days=1, hours=2)
    assert format_date(moment, spec) == written
    rss = (f"<rss version='2.0'><channel><title>t</title><item><title>x</title><link>"
           f"https://a.example/x</link><pubDate>{written}</pubDate></item></channel></rss>")
    got = parse_feed(rss.encode(), url="https://a.example/feed", now=AS_OF).entries[0]
    assert got.published_at == (moment if spec != "date" else
                                datetime(2026, 11, 29, tzinfo=UTC))


def test_a_template_token_that_means_nothing_fails() -> None:
    with pytest.raises(ValueError, match="rfc822, rfc3339 or date"):
        render(b"{{as_of-1d|iso}}", as_of=AS_OF, base=BASE)
    with pytest.raises(ValueError, match="not an age"):
        render(b"{{as_of-1y|rfc822}}", as_of=AS_OF, base=BASE)


def test_the_opml_lists_every_sample_with_its_section(tmp_path: Path) -> None:
    path = tmp_path / OPML
    path.write_bytes(render(template(OPML), as_of=AS_OF, base=BASE))
    feeds = {f.url: f for f in read_opml(path).feeds}
    assert set(feeds) == {f"{BASE}/{s.file}" for s in SAMPLES}
    kinds = {f.url.rsplit("/", 1)[1]: f.kind for f in feeds.values()}
    assert {k for k, v in kinds.items() if v is SourceKind.VENDOR} == \
        {"gridline-blog.xml", "healthbeam-blog.atom"}
    assert all(f.name for f in feeds.values())


# --- the server ----------------------------------------------------------------------------


def test_the_loopback_server_serves_the_samples_and_stops() -> None:
    own = render(OWN, as_of=AS_OF, base=BASE)
    with FeedServer(AS_OF, {OWN_FEED: (own, "application/rss+xml")}) as server:
        assert server.base.startswith(f"http://{LOOPBACK}:") and server.port > 0
        for sample in SAMPLES:
            with urllib.request.urlopen(server.url(sample.file), timeout=5) as answer:
                body, etag = answer.read(), answer.headers["ETag"]
                assert answer.headers["Content-Type"] == sample.content_type
            assert body == render(template(sample.file), as_of=AS_OF, base=server.base)
            assert b"{{" not in body and etag
            again = urllib.request.Request(server.url(sample.file),
                                           headers={"If-None-Match": etag})
            with pytest.raises(urllib.error.HTTPError) as not_modified:
                urllib.request.urlopen(again, timeout=5)
            assert not_modified.value.code == 304
        with urllib.request.urlopen(server.url(OWN_FEED), timeout=5) as answer:
            assert answer.read() == own
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url("nothing.xml"), timeout=5)
        assert missing.value.code == 404
        url = server.url(SAMPLES[0].file)
        assert f"{server.base}/{SAMPLES[0].file}".encode() in server.opml
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)  # stopped: the port is closed


def test_the_default_settings_still_refuse_the_loopback_server(
        db: sqlite3.Connection, clean_settings: None) -> None:
    with FeedServer(AS_OF) as server:
        save_source(db, server.url(SAMPLES[0].file), kind="company")
        refused = fetch_all(db, options=FetchOptions.from_settings(get_settings()), now=AS_OF)
        assert [f.outcome for f in refused.feeds] == [Outcome.FAILED]
        assert refused.feeds[0].refused and "loopback" in refused.feeds[0].message
        allowed = fetch_all(db, options=fetch_options(get_settings()), now=AS_OF)
        assert [f.outcome for f in allowed.feeds] == [Outcome.OK]


def test_the_demo_allows_127_0_0_1_only_and_leaves_the_settings_alone(
        clean_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELGRAPH_FEEDS_ALLOW_HOSTS", "feeds.intranet, 10.0.0.0/8")
    settings = Settings()
    assert fetch_options(settings).allow_hosts == (LOOPBACK,)
    assert settings.feeds_allow_list == ["feeds.intranet", "10.0.0.0/8"]


# --- the demo's draft ----------------------------------------------------------------------


def test_the_demo_drafts_a_ranked_issue_from_the_samples_once(
        tmp_path: Path, db: sqlite3.Connection, clean_settings: None) -> None:
    store = MemoryStore(tmp_path / "graph.sqlite")
    store.migrate()
    own = tmp_path / "blog.xml"
    own.write_bytes(render(OWN, as_of=AS_OF, base=BASE))
    made = draft_roundup(db, store, as_of=AS_OF, data_dir=tmp_path, own_feed=own)

    assert made.fetched is not None and not made.reused
    assert [f.outcome for f in made.fetched.feeds] == [Outcome.OK] * (len(SAMPLES) + 1)
    assert all(f.url.startswith(f"http://{LOOPBACK}:") for f in made.fetched.feeds)
    assert get_settings().feeds_allow_list == []  # the user's settings never changed
    issue, items = made.issue, made.items
    assert issue.id == "roundup-2026-11-30" and issue.until == AS_OF
    assert issue.since == datetime(2026, 11, 23, tzinfo=UTC)
    assert issue.status.value == "draft" and len(items) >= 20
    # ranked: best first, every score the sum of its reasons
    assert [i.rank for i in items] == list(range(1, len(items) + 1))
    assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    for item in items:
        assert {r.name for r in item.reasons} == {"relevance", "freshness", "source", "audience"}
        assert item.score == pytest.approx(sum(r.value for r in item.reasons), abs=1e-3)
        assert since_ok(item.published_at, issue.since, issue.until)
    by_section = issues.sections(db, issue.id)
    assert len(by_section[SourceKind.COMPANY]) == 5 and len(by_section[SourceKind.VENDOR]) == 5
    assert [i.title for i in by_section[SourceKind.OURS]] == \
        ["Why exports spike before a customer leaves"]
    # the news site's copy of the vendor's announcement is one story, carried by two feeds
    (intelligence,) = [i for i in items if "relationship intelligence" in i.title.lower()]
    assert len(intelligence.sources) == 2 and intelligence.section is SourceKind.VENDOR
    assert intelligence.content_id == \
        "https://www.gridline.example/blog/introducing-relationship-intelligence"
    # WordPress's trailer and its "[…]" stay out of the blurbs
    assert not any("appeared first on" in i.blurb or "The post " in i.blurb or "[…]" in i.blurb
                   for i in items)
    # the demo's sources are gone with their server; what they brought stays
    assert list_sources(db) == []
    entries = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    assert entries == sum(len(parsed(s.file, s.content_type).entries) for s in SAMPLES) + 1
    content = store.counts().nodes.get("Content", 0)
    assert content >= len(items)

    again = draft_roundup(db, store, as_of=AS_OF + timedelta(minutes=20), data_dir=tmp_path,
                          own_feed=own)
    assert again.reused and again.issue.id == issue.id
    assert [i.content_id for i in again.items] == [i.content_id for i in items]
    assert [i.id for i in issues.list_issues(db)] == [issue.id]
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == entries
    assert store.counts().nodes.get("Content", 0) == content


def since_ok(moment: datetime, since: datetime, until: datetime) -> bool:
    return since <= moment < until


def test_relgraph_demo_world_load_prints_the_draft_and_a_rerun_reuses_it(
        tmp_path: Path) -> None:
    data, world = tmp_path / "data", tmp_path / "world"
    args = ("demo", "world", str(world), "--companies", "20", "--seed", "3", "--as-of",
            "2026-11-30T09:30:00Z", "--load")
    first = relgraph(*args, data=data).stdout
    section = first[first.index("This week's roundup draft"):first.index("See it")]
    assert f"fetched {len(SAMPLES) + 1} feeds" in section and f"{len(SAMPLES) + 1} ok" in section
    assert "roundup-2026-11-30  The weekly roundup – Monday" in section  # the neutral masthead
    assert re.search(r"#1 \[company #1\] .+\n +\d\.\d\d = relevance \d\.\d\d \+ freshness", section)
    assert re.search(r"\[vendor #1\]", section) and re.search(r"\[ours #1\]", section)
    said = " ".join(section.split())  # however the terminal width wrapped it
    assert "relgraph roundup show roundup-2026-11-30" in said
    assert "relgraph roundup setup (your masthead), then relgraph roundup publish " \
           "roundup-2026-11-30" in said
    assert len(section.splitlines()) <= 16  # concise
    second = relgraph(*args, data=data).stdout
    assert "already built by an earlier demo run (draft); nothing fetched" in second
    listed = json.loads(relgraph("roundup", "list", "--format", "json", data=data).stdout)
    assert [i["id"] for i in listed] == ["roundup-2026-11-30"]
    assert listed[0]["picked"] >= 10


# --- package data --------------------------------------------------------------------------


def test_the_samples_are_package_data() -> None:
    names = {p.name for p in FEEDS.iterdir()}
    assert names >= {s.file for s in SAMPLES} | {OPML}
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'demoworld = ["feeds/*"]' in pyproject


def test_the_built_wheel_carries_the_samples(tmp_path: Path) -> None:
    from tests.test_packaging import SKIP

    source = tmp_path / "src"
    shutil.copytree(Path(__file__).resolve().parents[1], source, ignore=SKIP)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(tmp_path / "wheels"), str(source)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "wheels").glob("relgraph-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    assert "demoworld/feeds.py" in inside
    for name in [s.file for s in SAMPLES] + [OPML]:
        assert f"demoworld/feeds/{name}" in inside, name


def test_the_server_keeps_its_port_from_one_demo_to_the_next() -> None:
    """The feeds' URLs name their Source nodes: the demo serves on one port (PORT) when it is
    free, so tomorrow's demo finds today's sources; when it is taken, any free port serves."""
    with socket.socket() as probe:  # a port free now, standing in for PORT
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    with FeedServer(AS_OF, port=port) as first:
        assert first.port == port
        with FeedServer(AS_OF, port=port) as meanwhile:  # taken: another one
            assert meanwhile.port not in (port, 0)
            with urllib.request.urlopen(meanwhile.url(SAMPLES[0].file), timeout=5) as answer:
                assert answer.status == 200
    with FeedServer(AS_OF, port=port) as second:
        assert second.port == port
