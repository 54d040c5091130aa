"""The live feed's outbox: new interactions of a load, appended once; tailed whole lines only;
its last lines read from the end for a screen's opening items."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.pipeline import Loader
from connectors.records import CompanyRef, KeyRef, Link, Node, PersonRef, ProductEvent
from graph.feed import (
    FeedItem,
    Outbox,
    OutboxTail,
    _lines_backwards,
    outbox_files,
    process_origin,
    recent_items,
)
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


def _item(key: str, hour: int) -> FeedItem:
    return FeedItem(key, "event", "first_login", AT.replace(hour=hour), person=f"{key}@acme.com")


def test_the_screens_opening_items_are_read_from_the_end(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    older, newer = feed / "outbox-20261119.jsonl", feed / "outbox-20261120.jsonl"
    older.write_text("".join(_item(k, h).to_json() + "\n" for k, h in (("a", 1), ("b", 2))))
    written_again = replace(_item("a", 3), text="its newest line")
    newer.write_text(_item("c", 9).to_json() + "\n" + "not json\n\n"
                     + written_again.to_json() + "\n" + _item("d", 5).to_json()[:20])
    # newest interaction first; `a` once, as its newest line says; the damaged line skipped;
    # the line still being written (no newline yet) not read
    assert [(i.id, i.text) for i in recent_items(feed, 100)] == [
        ("c", None), ("a", "its newest line"), ("b", None)]
    # the last `limit` lines, the damaged one among them: `a` and `c` of the newest file
    assert [i.id for i in recent_items(feed, 3)] == ["c", "a"]
    assert [i.id for i in recent_items(feed, 1)] == ["a"]
    assert recent_items(tmp_path / "none", 10) == []


@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=30),
       st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")),
       st.integers(min_value=1, max_value=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lines_read_backwards_in_blocks_are_the_files_whole_lines(
        tmp_path: Path, lines: list[bytes], unfinished: bytes, block: int) -> None:
    path = tmp_path / "outbox-20261120.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines) + unfinished)
    assert list(_lines_backwards(path, block)) == [
        line for line in reversed(lines) if line.strip()]
