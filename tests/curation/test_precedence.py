"""The roundup never overwrites the catalogue (both stores): a story whose URL is a catalogued
white paper, written to the graph by `find` (the build) and by `publish`, leaves the paper's
kind, date and topics as the catalogue says; what the catalogue leaves blank the roundup may
fill. Through the library and as `relgraph` processes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.pipeline import Loader
from connectors.source import ReadContext, source
from curation import issues
from curation.candidates import candidates
from curation.db import connect
from curation.fetch import store_entries
from curation.model import SourceKind
from curation.parse import parse_feed
from curation.sources import save_source
from graph.memory_store import MemoryStore
from graph.schema import SET_BY
from graph.store import GraphStore
from tests.conformance.helpers import graph_dump
from tests.curation.feedserver import FeedServer
from tests.curation.roundup_fixtures import NOW, built, curation_db
from tests.worlds.cli import relgraph

OURS = "https://relgraph.io/graph-of-concerns"  # the roundup fixture's story of ours
CATALOG = f"""url,title,kind,topics,published_at,author,summary
{OURS},Customer concerns: the report,White Paper,CRM,2026-10-01,Research team,
"""
WALKTHROUGH = Path(__file__).resolve().parents[2] / "fixtures" / "curation" / "walkthrough"


def catalogue(store: GraphStore, tmp: Path, text: str = CATALOG) -> None:
    path = tmp / "catalog.csv"
    path.write_text(text, encoding="utf-8")
    summary = Loader(store, data_dir=tmp / "data").run(source("catalog"), [path],
                                                       ReadContext("catalog"))
    assert summary.rejected == 0, summary.examples


def node_and_topics(store: GraphStore, url: str) -> tuple[dict[str, Any], list[str]]:
    nodes, rels = graph_dump(store)
    return nodes[("Content", url)], sorted(k[4] for k in rels if k[:3] == ("ABOUT", "Content",
                                                                             url))


def test_publishing_a_catalogued_white_paper_leaves_it_alone(store: GraphStore,
                                                             tmp_path: Path) -> None:
    catalogue(store, tmp_path)
    with curation_db(tmp_path) as db:
        built(db)
        issues.publish(db, store, "roundup-2026-11-27", data_dir=tmp_path / "data", who="ann",
                       now=NOW + timedelta(minutes=5))
    paper, topics = node_and_topics(store, OURS)
    assert paper["kind"] == "white_paper"
    assert paper["published_at"] == datetime(2026, 10, 1, tzinfo=UTC)
    assert paper["title"] == "Customer concerns: the report"
    assert topics == ["crm"]  # not the story's pricing and onboarding
    # The catalogue has no summary: the roundup's fills it, and says so.
    assert paper["summary"].startswith("We read every concern")
    assert "kind=catalog:catalog.csv" in paper[SET_BY]
    assert "summary=curation:roundup-2026-11-27" in paper[SET_BY]
    # A story nobody catalogued keeps what the roundup says of it.
    story, story_topics = node_and_topics(store, "https://thinkers.example/churn-signals")
    assert story["title"] == "The Churn Signals Hiding in Your Support Queue"
    assert "churn" in story_topics


FEED = (b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Us</title>"
        b"<item><title>Our onboarding playbook</title>"
        b"<link>https://us.example/onboarding?utm_source=rss</link>"
        b"<pubDate>Sat, 09 Mar 2024 10:00:00 GMT</pubDate><category>Churn</category>"
        b"<description>Time to first value, measured.</description></item>"
        b"</channel></rss>")


def test_building_from_a_feed_that_repeats_a_catalogued_white_paper(store: GraphStore,
                                                                    tmp_path: Path) -> None:
    url = "https://us.example/onboarding"
    catalogue(store, tmp_path, "url,title,kind,topics,published_at\n"
                               f"{url},The onboarding playbook,whitepaper,Onboarding,2024-01-15\n")
    now = datetime(2024, 3, 10, tzinfo=UTC)
    db: sqlite3.Connection
    with connect(tmp_path / "curation.sqlite") as db:
        saved = save_source(db, "https://us.example/feed", kind=SourceKind.OURS, name="Us")
        store_entries(db, saved.source, parse_feed(FEED, url=saved.source.url, now=now).entries,
                      now=now)
        found = candidates(db, store, since=now - timedelta(days=7), until=now,
                           data_dir=tmp_path / "data")
    assert [c.url for c in found] == [url]
    paper, topics = node_and_topics(store, url)
    assert (paper["kind"], paper["title"]) == ("white_paper", "The onboarding playbook")
    assert paper["published_at"] == datetime(2024, 1, 15, tzinfo=UTC)
    assert topics == ["onboarding"]  # not the feed's churn


@pytest.mark.parametrize("kind", ["memory", "neo4j"])
def test_relgraph_roundup_build_and_publish_leave_the_catalogue_alone(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`relgraph load catalog`, then the roundup's sources, fetch, build and publish, as
    processes: our post is catalogued as a white paper, and stays one."""
    monkeypatch.setenv("RELGRAPH_FEEDS_ALLOW_HOSTS", "127.0.0.1")  # the processes': local feeds
    url = "http://127.0.0.1:8765/relgraph/customer-concerns-q4"
    if kind == "neo4j":
        request.getfixturevalue("neo4j_store").delete_all()
    data = tmp_path / "data"

    def run(*args: str) -> str:
        return relgraph(*args, data=data, store=kind).stdout

    catalog = tmp_path / "catalog.csv"
    catalog.write_text("url,title,kind,topics,published_at\n"
                       f"{url},Customer concerns Q4,White paper,CRM,2026-10-20\n")
    run("init")
    run("load", "catalog", str(catalog))
    with FeedServer.of_directory(WALKTHROUGH) as server:
        opml = tmp_path / "roundup.opml"
        opml.write_text((WALKTHROUGH / "roundup.opml").read_text().replace(
            "127.0.0.1:8765", f"127.0.0.1:{server.port}"))
        run("roundup", "sources", "import", str(opml))
        run("roundup", "fetch")
    assert "draft roundup-2026-11-06" in run("roundup", "build", "--date", "2026-11-06")
    run("roundup", "setup", "--name", "Roundup", "--organisation", "Acme", "--sender",
        "news@acme.example")  # publish refuses the shipped sample masthead
    assert "published roundup-2026-11-06" in run("roundup", "publish", "roundup-2026-11-06")
    if kind == "memory":
        store: GraphStore = MemoryStore(data / "graph.sqlite")
    else:
        store = request.getfixturevalue("neo4j_store")
    try:
        paper, topics = node_and_topics(store, url)
    finally:
        if kind == "memory":
            store.close()
    assert (paper["kind"], paper["title"]) == ("white_paper", "Customer concerns Q4")
    assert paper["published_at"] == datetime(2026, 10, 20, tzinfo=UTC)
    assert topics == ["crm"]
    assert paper["author"] == "Maya Chen"  # the catalogue had none: the roundup's
