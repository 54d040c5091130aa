"""Source precedence on both stores: an explicit value (our catalogue, any file that states it)
is never overwritten by an inferred one (a feed's date and default kind, a curation guess);
inferred rows only fill what is missing, and a source may update what it filled itself.
Content records which source set each property (`set_by`). Inferred topics never join
explicit ones: an explicit ABOUT replaces a node's inferred ABOUTs, and an inferred one is not
written beside an explicit one. Every order of the loads gives the same graph."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.pipeline import Loader, LoadSummary
from connectors.source import ReadContext, source
from graph.memory_store import MemoryStore
from graph.questions.readers import READERS
from graph.schema import INFERRED, SET_BY
from graph.store import GraphStore
from tests.conformance.helpers import Dump, demo_query, graph_dump

PAPER = "https://www.acme.com/resources/state-of-crm-2024"
POST = "https://www.acme.com/blog/health-scores"
CATALOG = f"""url,title,kind,topics,published_at,author,summary
{PAPER}?utm_source=newsletter,The state of CRM 2024,White Paper,CRM,2024-02-01T09:00:00Z,\
Research team,
"""
FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Acme Blog</title>
    <link>https://www.acme.com/blog</link>
    <item>
      <title>Our State of CRM report is out</title>
      <link>{PAPER}?utm_source=rss&amp;utm_medium=feed</link>
      <dc:creator>Grace Hopper</dc:creator>
      <pubDate>Tue, 05 Mar 2024 14:22:10 +0000</pubDate>
      <category>Churn</category>
      <category>Onboarding</category>
      <description>Survey of 500 sales leaders on churn and onboarding.</description>
    </item>
    <item>
      <title>Health scores that mean something</title>
      <link>{POST}?utm_source=rss</link>
      <pubDate>Thu, 07 Mar 2024 09:00:00 +0000</pubDate>
      <category>Churn</category>
      <description>What a health score should record.</description>
    </item>
  </channel>
</rss>
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(store: GraphStore, data: Path, name: str, path: Path) -> LoadSummary:
    summary = Loader(store, data_dir=data, batch_size=7).run(source(name), [path],
                                                             ReadContext(name))
    assert summary.rejected == 0, summary.examples
    return summary


def dump(store: GraphStore) -> Dump:
    """The graph, with provenance lists (in the order of the loads) compared as sets."""
    nodes, rels = graph_dump(store)
    for props in (*nodes.values(), *rels.values()):
        if "sources" in props:
            props["sources"] = sorted(props["sources"])
    return nodes, rels


def topics(rels: dict[tuple[str, ...], dict[str, Any]], url: str) -> list[str]:
    return sorted(k[4] for k in rels if k[:3] == ("ABOUT", "Content", url))


def run_order(store: GraphStore, tmp: Path, order: tuple[str, ...]) -> Dump:
    files = {"catalog": write(tmp / "catalog.csv", CATALOG), "feed": write(tmp / "blog.xml", FEED)}
    data = tmp / "-".join(order)
    for name in order:
        load(store, data, name, files[name])
    return dump(store)


@pytest.mark.parametrize("order", [("catalog", "feed"), ("feed", "catalog")])
def test_the_feed_never_overwrites_the_catalogue(store: GraphStore, tmp_path: Path,
                                                 order: tuple[str, ...]) -> None:
    nodes, rels = run_order(store, tmp_path, order)
    paper = nodes[("Content", PAPER)]
    assert paper["kind"] == "white_paper"
    assert paper["published_at"] == datetime(2024, 2, 1, 9, tzinfo=UTC)
    assert paper["title"] == "The state of CRM 2024"
    assert paper["author"] == "Research team"
    # The catalogue has no summary: the feed's fills it, and says so.
    assert paper["summary"] == "Survey of 500 sales leaders on churn and onboarding."
    assert paper[SET_BY] == ["title=catalog:catalog.csv", "kind=catalog:catalog.csv",
                             "published_at=catalog:catalog.csv", "author=catalog:catalog.csv",
                             "summary=feed:blog.xml"]
    assert topics(rels, PAPER) == ["crm"]  # the catalogue's only: not the feed's churn
    assert all(INFERRED not in p for k, p in rels.items() if k[:3] == ("ABOUT", "Content", PAPER))
    # A post only the feed knows keeps everything the feed says, its default kind included.
    post = nodes[("Content", POST)]
    assert (post["kind"], post["title"]) == ("blog_post", "Health scores that mean something")
    assert post[SET_BY] == ["title=feed:blog.xml", "kind=feed:blog.xml",
                            "published_at=feed:blog.xml", "summary=feed:blog.xml"]
    assert topics(rels, POST) == ["churn", "customer-health"]  # a category, a match
    assert rels[("ABOUT", "Content", POST, "Topic", "churn")][INFERRED] is True


def test_both_orders_give_the_same_graph(store: GraphStore, tmp_path: Path) -> None:
    first = run_order(store, tmp_path / "a", ("catalog", "feed"))
    store.delete_all()
    second = run_order(store, tmp_path / "b", ("feed", "catalog"))
    assert first == second
    # And loading both again changes nothing.
    again = run_order(store, tmp_path / "b", ("feed", "catalog"))
    assert again == second


def test_the_headline_question_finds_the_white_paper_in_either_order(
        store: GraphStore, tmp_path: Path) -> None:
    run_order(store, tmp_path, ("catalog", "feed"))
    store.upsert_nodes("Company", [{"id": "us.io", "own": True}], source="t")
    store.upsert_nodes("Person", [{"id": "me@us.io"}, {"id": "ann@a.com"}], source="t")
    store.upsert_nodes("Concern", [{"id": "k1", "text": "may leave",
                                    "at": "2024-03-20T00:00:00Z"}], source="t")
    store.upsert_nodes("Topic", [{"id": "churn"}], source="t")
    store.upsert_relationships("WORKS_AT", [{"from": "me@us.io", "to": "us.io"}], source="t")
    store.upsert_relationships("KNOWS", [{"from": "ann@a.com", "to": "me@us.io"}], source="t")
    store.upsert_relationships("ABOUT", [{"from": "k1", "to": "churn"}], source="t",
                               from_label="Concern")
    store.upsert_relationships("RAISED", [{"from": "ann@a.com", "to": "k1"}], source="t")
    store.upsert_relationships("READ", [{"from": "ann@a.com", "to": PAPER,
                                         "first_at": "2024-03-10T00:00:00Z",
                                         "last_at": "2024-03-10T00:00:00Z"}], source="t")
    query = demo_query(as_of=datetime(2024, 3, 25, tzinfo=UTC), content_kind="white_paper")
    assert [m.person_id for m in store.ask(READERS, query).items] == ["ann@a.com"]
    # The feed says the paper is about churn, the catalogue does not: no churn read.
    churn = demo_query(as_of=datetime(2024, 3, 25, tzinfo=UTC), read_topic="churn")
    assert store.ask(READERS, churn).items == ()


def test_a_source_updates_what_it_filled_itself(store: GraphStore, tmp_path: Path) -> None:
    """The feed's own post, renamed in the feed: the next load of the feed renames it (the
    value was the feed's); the catalogued paper keeps the catalogue's title."""
    catalog = write(tmp_path / "catalog.csv", CATALOG)
    load(store, tmp_path / "data", "catalog", catalog)
    feed = write(tmp_path / "blog.xml", FEED)
    load(store, tmp_path / "data", "feed", feed)
    write(tmp_path / "blog.xml", FEED.replace("Health scores that mean something",
                                              "Health scores, renamed")
          .replace("Our State of CRM report is out", "Another title"))
    summary = load(store, tmp_path / "data", "feed", feed)
    nodes, _ = dump(store)
    assert nodes[("Content", POST)]["title"] == "Health scores, renamed"
    assert nodes[("Content", PAPER)]["title"] == "The state of CRM 2024"
    assert summary.nodes["Content"] == 1  # the post changed; the paper did not


# --- the store rules, row by row ----------------------------------------------------------

def content(store: GraphStore, key: str) -> dict[str, Any]:
    nodes, _ = graph_dump(store)
    return nodes[("Content", key)]


def test_inferred_rows_fill_only_what_is_missing(store: GraphStore) -> None:
    url = "https://x.org/a"
    made = store.upsert_nodes("Content", [{"id": url, "kind": "article", "title": "Guess",
                                           INFERRED: True}], source="guess")
    assert made.created == [0]
    assert content(store, url)[SET_BY] == ["title=guess", "kind=guess"]
    explicit = store.upsert_nodes("Content", [{"id": url, "kind": "white_paper"}],
                                  source="file")
    assert explicit.changed == [0]
    again = store.upsert_nodes("Content", [{"id": url, "kind": "video", "title": "Guess",
                                            "author": "Ann", INFERRED: True}], source="other")
    assert again.changed == [0]  # the author was missing: filled
    node = content(store, url)
    assert (node["kind"], node["title"], node["author"]) == ("white_paper", "Guess", "Ann")
    assert node[SET_BY] == ["title=guess", "kind=file", "author=other"]
    same = store.upsert_nodes("Content", [{"id": url, "kind": "video", INFERRED: True}],
                              source="other")
    assert (same.created, same.changed) == ([], [])  # fills nothing: changes nothing
    own = store.upsert_nodes("Content", [{"id": url, "title": "Better guess", INFERRED: True}],
                             source="guess")
    assert own.changed == [0]
    assert content(store, url)["title"] == "Better guess"  # its own value: updated


def test_inferred_rows_of_other_labels_fill_only(store: GraphStore) -> None:
    """Labels that keep no `set_by` pay nothing for it; an inferred row still only fills."""
    store.upsert_nodes("Company", [{"id": "acme.com", "name": "Acme"}], source="crm")
    done = store.upsert_nodes("Company", [{"id": "acme.com", "name": "ACME Inc",
                                           "industry": "software", INFERRED: True}],
                              source="guess")
    assert done.changed == [0]
    nodes, _ = graph_dump(store)
    company = nodes[("Company", "acme.com")]
    assert (company["name"], company["industry"]) == ("Acme", "software")
    assert SET_BY not in company


def test_an_explicit_about_replaces_the_inferred_ones(store: GraphStore) -> None:
    url = "https://x.org/a"
    store.upsert_nodes("Content", [{"id": url}], source="t")
    store.upsert_nodes("Topic", [{"id": "crm"}, {"id": "churn"}, {"id": "sso"}], source="t")
    store.upsert_relationships("ABOUT", [{"from": url, "to": "churn", "weight": 0.5,
                                          INFERRED: True},
                                         {"from": url, "to": "crm", INFERRED: True}],
                               source="feed", from_label="Content")
    _, rels = graph_dump(store)
    assert topics(rels, url) == ["churn", "crm"]
    done = store.upsert_relationships("ABOUT", [{"from": url, "to": "crm", "weight": 1.0}],
                                      source="catalog", from_label="Content")
    assert done.created == [0]  # the inferred crm went; the explicit one is new
    _, rels = graph_dump(store)
    assert topics(rels, url) == ["crm"]
    assert rels[("ABOUT", "Content", url, "Topic", "crm")] == {"weight": 1.0,
                                                               "sources": ["catalog"]}
    late = store.upsert_relationships("ABOUT", [{"from": url, "to": "sso", INFERRED: True},
                                                {"from": url, "to": "crm", INFERRED: True}],
                                      source="feed", from_label="Content")
    assert (late.created, late.changed, late.rejects) == ([], [], [])
    _, rels = graph_dump(store)
    assert topics(rels, url) == ["crm"]
    assert rels[("ABOUT", "Content", url, "Topic", "crm")]["sources"] == ["catalog"]


def test_inferred_and_explicit_rows_in_one_batch(store: GraphStore) -> None:
    """Row order inside one call decides nothing: the explicit topic wins either way."""
    guess: dict[str, Any] = {"from": "https://x.org/a", "to": "churn", INFERRED: True}
    fact: dict[str, Any] = {"from": "https://x.org/a", "to": "crm"}
    results = []
    for rows in ([guess, fact], [fact, guess]):
        store.delete_all()
        store.upsert_nodes("Content", [{"id": "https://x.org/a"}], source="t")
        store.upsert_nodes("Topic", [{"id": "crm"}, {"id": "churn"}], source="t")
        store.upsert_relationships("ABOUT", rows, source="t", from_label="Content")
        results.append(graph_dump(store)[1])
    assert results[0] == results[1]
    assert topics(results[0], "https://x.org/a") == ["crm"]


def test_inferred_rows_cannot_be_observed(store: GraphStore) -> None:
    done = store.upsert_nodes("Content", [{"id": "https://x.org/a", INFERRED: True,
                                           "observed_at": "2024-01-01T00:00:00Z"}], source="t")
    assert [(r.row, r.field) for r in done.rejects] == [(0, INFERRED)]


def test_set_by_is_kept_by_the_file(tmp_path: Path) -> None:
    """The embedded store's file holds `set_by` as memory does (a fresh process sees it)."""
    store = MemoryStore(tmp_path / "graph.sqlite")
    store.upsert_nodes("Content", [{"id": "https://x.org/a", "kind": "article",
                                    INFERRED: True}], source="guess")
    live = graph_dump(store)
    store.close()
    again = MemoryStore(tmp_path / "graph.sqlite")
    try:
        assert graph_dump(again) == live
        assert live[0][("Content", "https://x.org/a")][SET_BY] == ["kind=guess"]
    finally:
        again.close()
