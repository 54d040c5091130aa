"""The live feed's outbox: new interactions of a load, appended once; tailed whole lines only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.pipeline import Loader
from connectors.records import CompanyRef, KeyRef, Link, Node, PersonRef, ProductEvent
from graph.feed import FeedItem, Outbox, OutboxTail, outbox_files, process_origin
from graph.memory_store import MemoryStore

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _records() -> list:
    ada = PersonRef(email="Ada@Acme.com", name="Ada")
    acme = CompanyRef(domain="acme.com", name="Acme")
    return [
        ProductEvent("e1", "setup_completed", AT, person=ada, line=1),
        ProductEvent("e2", "page_viewed", AT, person=ada, url="https://acme.com/x", line=2),
        Node(KeyRef("Concern", "k1"), {"text": "We may leave", "at": "2026-11-20T10:00:00Z",
                                       "channel": "call"}, line=3),
        Link("RAISED", ada, KeyRef("Concern", "k1"), line=3),
        Node(KeyRef("Trigger", "t1"), {"type": "funding_round", "at": AT, "headline": "B round",
                                       "amount": 12.5}, line=4),
        Link("HAD_TRIGGER", acme, KeyRef("Trigger", "t1"), line=4),
    ]


def test_a_load_appends_its_new_interactions_once(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "graph.sqlite")
    loader = Loader(store, data_dir=tmp_path)
    tail = OutboxTail(tmp_path / "feed")
    loader.apply(_records(), source="api", provenance="api:test")
    items = tail.poll()
    assert [(i.kind, i.type, i.id, i.person, i.company) for i in items] == [
        ("event", "setup_completed", "api:e1", "ada@acme.com", None),
        ("trigger", "funding_round", "t1", None, "acme.com"),
        ("concern", "concern_raised", "k1", "ada@acme.com", None),
    ]
    concern = items[2]
    assert concern.text == "We may leave" and concern.properties == {"channel": "call"}
    assert items[1].text == "B round" and items[1].properties["amount"] == 12.5
    assert {i.origin for i in items} == {process_origin()}
    loader.apply(_records(), source="api", provenance="api:test")  # a re-load adds nothing
    assert tail.poll() == []


def test_the_tail_reads_whole_lines_and_follows_newer_files(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    Outbox(feed).append([FeedItem("old", "event", "first_login", AT)])
    tail = OutboxTail(feed)  # starts at the end: only what comes after
    (path,) = outbox_files(feed)
    item = FeedItem("a", "event", "first_login", AT, person="ada@acme.com")
    line = item.to_json() + "\n"
    with open(path, "a", encoding="utf-8") as file:
        file.write(line[:10])  # a line being written
    assert tail.poll() == []
    with open(path, "a", encoding="utf-8") as file:
        file.write(line[10:] + "not json\n")
    assert [i.id for i in tail.poll()] == ["a"]
    newer = feed / "outbox-99991231.jsonl"
    newer.write_text(FeedItem("b", "concern", "concern_raised", AT).to_json() + "\n")
    assert [i.id for i in tail.poll()] == ["b"]
