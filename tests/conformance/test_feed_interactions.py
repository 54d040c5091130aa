"""The live feed's later kinds — a ticket solved, a newsletter click, a key feature used for the
first time — from exports in the tools' own layouts (tests/worlds/interactions.py), on both
stores: each reaches the outbox after a load, a re-load adds nothing, and two files loaded in
either order make the same items and the same Event nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import adoption
from connectors.folds import dependents, folds_by_label
from connectors.manifest import LoadSpec
from connectors.pipeline import Loader, LoadSummary
from connectors.source import source
from graph.feed import FeedItem, outbox_files, recent_items
from graph.memory_store import MemoryStore
from graph.questions.nodes import NODES, NodesQuery
from graph.settings import StoreKind
from graph.store import GraphStore
from tests.conformance.helpers import graph_dump
from tests.worlds.cli import relgraph
from tests.worlds.interactions import EXPECTED, IDS, LOADS, write_exports

SHIPPED = frozenset({"report_created", "dashboard_shared", "integration_connected",
                     "invite_sent"})


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    return write_exports(tmp_path / "exports")


class Graphs:
    """A fresh graph and data dir per load order: the memory store in its own dir, the test
    Neo4j emptied (it is one database)."""

    def __init__(self, store: GraphStore, tmp_path: Path) -> None:
        self.first, self.tmp = store, tmp_path
        self.opened: list[MemoryStore] = []

    def fresh(self, name: str) -> tuple[GraphStore, Path]:
        data = self.tmp / name
        if self.first.kind is StoreKind.MEMORY:
            store = MemoryStore(data / "graph.sqlite", batch_size=10)
            self.opened.append(store)
            return store, data
        self.first.delete_all()  # type: ignore[attr-defined]
        return self.first, data

    def close(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture
def graphs(store: GraphStore, tmp_path: Path) -> Iterator[Graphs]:
    made = Graphs(store, tmp_path)
    yield made
    made.close()


def load(store: GraphStore, data: Path, exports: Path, step: list[str], *,
         key_features: frozenset[str] | None = None) -> LoadSummary:
    name, path, *options = step
    spec = LoadSpec(name, [exports / path],
                    timezone=options[1] if options[:1] == ["--timezone"] else None)
    summary = Loader(store, data_dir=data, batch_size=10, key_features=key_features).run(
        source(name), spec.paths, spec.context())
    assert summary.rejected == 0, summary.examples
    return summary


def outbox(data: Path) -> list[FeedItem]:
    """Every line of the outbox, in the order written."""
    return [FeedItem.from_json(line) for path in outbox_files(data / "feed")
            for line in path.read_bytes().splitlines()]


def seen(items: list[FeedItem]) -> set[tuple[str, str, str, str]]:
    return {(i.type, i.person or "", i.at.isoformat(), json.dumps(i.properties, sort_keys=True))
            for i in items}


def events(store: GraphStore) -> dict[tuple[str, ...], dict[str, object]]:
    """The Event nodes and who PERFORMED them, with provenance as a set."""
    nodes, rels = graph_dump(store)
    found: dict[tuple[str, ...], dict[str, object]] = {}
    for key, props in [*nodes.items(), *rels.items()]:
        if key[0] == "Event" or key[0] == "PERFORMED":
            found[key] = {**props, "sources": sorted(props.get("sources") or [])}
    return found


@pytest.mark.parametrize("kind", ["zendesk", "clicks", "segment"])
def test_each_kind_reaches_the_outbox_once_in_either_order(
        kind: str, graphs: Graphs, exports: Path) -> None:
    results = {}
    for order in ("forwards", "backwards"):
        store, data = graphs.fresh(order)
        steps = LOADS[kind] if order == "forwards" else LOADS[kind][::-1]
        for step in steps:
            load(store, data, exports, step)
        items = outbox(data)
        if order == "forwards":
            assert seen(items) == EXPECTED[kind]
        ids = [i.id for i in items]
        assert len(ids) == len(set(ids)) == len(EXPECTED[kind])  # each once
        if kind in IDS:
            assert set(ids) == IDS[kind]
        else:
            assert all(i.startswith("clicks:") for i in ids)
        for step in steps:  # a re-load adds nothing
            load(store, data, exports, step)
        assert outbox(data) == items
        results[order] = ({_same(i) for i in items}, events(store))
    assert results["forwards"] == results["backwards"]


def _same(item: FeedItem) -> tuple[object, ...]:
    """An item as either load order makes it. A first use or first login is dated by the
    earliest use known when it was made: loaded after a later day's dump, the day before's
    report moves the Event node (the graph is the same either way) but not the line already in
    the outbox (test_an_earlier_use_loaded_later_…)."""
    derived = item.id.startswith(("first_login:", "first_feature:"))
    return (item.id, item.kind, item.type, item.person, item.company, item.account,
            None if derived else item.at, item.text, json.dumps(item.properties, sort_keys=True))


def test_a_ticket_solved_in_the_first_export_and_one_solved_since(
        graphs: Graphs, exports: Path) -> None:
    store, data = graphs.fresh("zendesk")
    october, november = LOADS["zendesk"]
    load(store, data, exports, october)
    first = outbox(data)
    # Ben's ticket was solved already: raised and solved, each once, at their own moments
    assert sorted((i.type, i.id, i.at.isoformat()) for i in first) == [
        ("concern_raised", "zendesk:5101", "2026-10-20T15:00:00+00:00"),
        ("concern_raised", "zendesk:5102", "2026-10-15T09:00:00+00:00"),
        ("concern_solved", "zendesk:5102:solved", "2026-10-16T10:00:00+00:00")]
    solved = next(i for i in first if i.type == "concern_solved")
    assert (solved.kind, solved.person, solved.properties) == (
        "event", "ben@apex.co", {"concern": "zendesk:5102", "subject": "Export times out"})
    load(store, data, exports, november)
    added = outbox(data)[len(first):]
    # Ada's is solved now; Fay's closed, dated by its Updated at; Ben's closing adds nothing
    assert sorted((i.type, i.id, i.at.isoformat()) for i in added) == [
        ("concern_raised", "zendesk:5103", "2026-11-01T08:00:00+00:00"),
        ("concern_solved", "zendesk:5101:solved", "2026-11-03T16:30:00+00:00"),
        ("concern_solved", "zendesk:5103:solved", "2026-11-04T09:00:00+00:00")]
    found = events(store)
    assert ("PERFORMED", "Person", "ada@apex.co", "Event", "zendesk:5101:solved") in found
    node = found[("Event", "zendesk:5101:solved")]
    assert node["type"] == "concern_solved"
    assert store.existing("Concern", ["zendesk:5101"]) == {"zendesk:5101"}


def test_the_screen_opens_on_the_new_kinds_newest_first(graphs: Graphs, exports: Path) -> None:
    store, data = graphs.fresh("all")
    for kind in ("zendesk", "clicks", "segment"):
        for step in LOADS[kind]:
            load(store, data, exports, step)
    items = recent_items(data / "feed", 1000)
    assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)
    assert seen(items) == EXPECTED["zendesk"] | EXPECTED["clicks"] | EXPECTED["segment"]
    last = outbox(data)[-1]  # the last line written, whenever it happened
    assert recent_items(data / "feed", 1) == [last]
    assert recent_items(data / "feed", 0) == []


def test_an_earlier_use_loaded_later_moves_the_first_use_and_adds_no_item(
        graphs: Graphs, exports: Path, tmp_path: Path) -> None:
    store, data = graphs.fresh("later")
    load(store, data, exports, LOADS["segment"][1])  # 3 November: a report, an invite
    before = outbox(data)
    report = "first_feature:report_created:ada@apex.co"
    assert {i.id: i.at.isoformat() for i in before}[report] == "2026-11-03T14:02:00+00:00"
    load(store, data, exports, LOADS["segment"][0])  # 2 November: an earlier report
    # only her first login is new: the day before's report moved the first use it had made
    assert [i.id for i in outbox(data)[len(before):]] == ["first_login:ada@apex.co"]
    (node,) = store.ask(NODES, NodesQuery("Event", (report,))).values()
    assert node["at"].isoformat() == "2026-11-02T09:31:00+00:00"
    assert sorted(node["sources"]) == ["segment:2026-11-02.jsonl", "segment:2026-11-03.jsonl"]


def test_a_first_use_before_the_identify_folds_with_the_person(
        graphs: Graphs, tmp_path: Path) -> None:
    """A warehouse dump of anonymous-looking usage (a userId, no e-mail), then a dump with the
    identify that names the user: one first use, keyed by the person they turned out to be."""
    store, data = graphs.fresh("stitch")
    usage, who = tmp_path / "usage.jsonl", tmp_path / "who.jsonl"
    usage.write_text(json.dumps({
        "type": "track", "event": "Dashboard Shared", "userId": "usr_zed", "messageId": "z1",
        "timestamp": "2026-11-05T10:00:00Z", "properties": {}}) + "\n")
    who.write_text(json.dumps({
        "type": "identify", "userId": "usr_zed", "messageId": "z2",
        "timestamp": "2026-11-06T10:00:00Z", "traits": {"email": "zed@apex.co"}}) + "\n")
    for path in (usage, who):
        load(store, data, path.parent, ["segment", path.name])
    items = outbox(data)
    assert [(i.type, i.id, i.person) for i in items] == [
        ("feature_used", "first_feature:dashboard_shared:segment:usr_zed", "segment:usr_zed")]
    assert store.existing("Event", ["first_feature:dashboard_shared:segment:usr_zed",
                                    "first_feature:dashboard_shared:zed@apex.co"]) == {
        "first_feature:dashboard_shared:zed@apex.co"}
    for path in (usage, who):
        load(store, data, path.parent, ["segment", path.name])
    assert outbox(data) == items  # the item's old key is the person's alias now


def test_the_key_features_are_the_analytics_setting(
        graphs: Graphs, exports: Path, tmp_path: Path) -> None:
    assert adoption.configured_key_features() == SHIPPED
    mine = tmp_path / "analytics.toml"
    mine.write_text('[activity]\nkey_features = ["dashboard_viewed"]\n')
    assert adoption.configured_key_features(mine) == {"dashboard_viewed"}
    store, data = graphs.fresh("setting")
    load(store, data, exports, LOADS["segment"][1], key_features=frozenset({"dashboard_viewed"}))
    assert {i.id for i in outbox(data) if i.type == "feature_used"} == {
        "first_feature:dashboard_viewed:ada@apex.co"}


def test_relgraph_load_reads_the_key_features_from_the_settings(
        exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "analytics.toml"
    mine.write_text('[activity]\nkey_features = ["dashboard_viewed", "report_created"]\n')
    monkeypatch.setenv("RELGRAPH_ANALYTICS_CONFIG", str(mine))
    data = tmp_path / "data"
    relgraph("load", "segment", str(exports / "segment" / "2026-11-03.jsonl"), data=data)
    assert {i.id for i in outbox(data) if i.type == "feature_used"} == {
        "first_feature:dashboard_viewed:ada@apex.co", "first_feature:report_created:ada@apex.co"}
    mine.write_text('[activity]\nkey_feature = ["typo"]\n')  # refused by name, nothing loaded
    failed = relgraph("load", "segment", str(exports / "segment" / "2026-11-02.jsonl"),
                      data=data, check=False)
    assert failed.returncode != 0 and "key_feature" in failed.stdout + failed.stderr


def test_a_persons_first_uses_fold_with_them() -> None:
    """What a fold (a load's, an approved merge's) carries along with a person."""
    assert dependents("Person", {"invite_sent", "report_created"}) == (
        ("Customer", "person:"), ("Event", "first_login:"),
        ("Event", "first_feature:invite_sent:"), ("Event", "first_feature:report_created:"))
    assert dependents("Company", {"invite_sent"}) == (("Customer", "company:"),)
    moves = folds_by_label({"Person": {"segment:u1": "ada@apex.co"}}, {"invite_sent"})
    assert moves["Event"] == {"first_login:segment:u1": "first_login:ada@apex.co",
                              "first_feature:invite_sent:segment:u1":
                              "first_feature:invite_sent:ada@apex.co"}
