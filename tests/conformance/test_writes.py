"""Writes: idempotent upserts, keys normalised, bad rows rejected whole, provenance kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.errors import SchemaError
from graph.memory_store import MemoryStore
from graph.store import GraphStore
from tests.conformance.helpers import load_demo
from tests.conftest import DEMO


def test_empty_store_counts_nothing(store: GraphStore) -> None:
    counts = store.counts()
    assert set(counts.nodes.values()) == {0}
    assert counts.relationships == {}


def test_demo_counts(store: GraphStore, tmp_path: Path) -> None:
    summary = load_demo(store, DEMO, tmp_path)
    counts = store.counts()
    assert counts.nodes["Person"] == 9  # "Ada@Acme.com"/"ada@acme.com" etc. are one each
    assert counts.nodes["Company"] == 5 and counts.nodes["Content"] == 3
    assert counts.relationships == {"ABOUT": 12, "KNOWS": 7, "RAISED": 7, "READ": 8,
                                    "WORKS_AT": 9}
    assert summary.loaded == sum(counts.nodes.values()) + sum(counts.relationships.values())


def test_loading_the_same_batch_twice_adds_nothing(store: GraphStore, tmp_path: Path) -> None:
    load_demo(store, DEMO, tmp_path)
    first = store.counts()
    load_demo(store, DEMO, tmp_path)
    assert store.counts() == first
    assert store.person_profile("ada@acme.com").properties["sources"] == ["demo"]


def test_unicode_emails_differing_only_in_case_are_one_person(store: GraphStore) -> None:
    result = store.upsert_nodes("Person", [{"id": "ZOË@ACME.COM", "name": "Zoë"},
                                           {"id": "zoë@acme.com", "title": "Head of Ops"},
                                           {"id": "Zoë@Acme.Com"}], source="t")
    assert result.written == 3 and result.rejects == []
    assert store.counts().nodes["Person"] == 1
    p = store.person_profile("zoË@acme.com")
    assert (p.person_id, p.name, p.properties["title"]) == ("zoë@acme.com", "Zoë", "Head of Ops")


def test_a_bad_row_is_rejected_by_row_and_field_and_the_rest_loads(store: GraphStore) -> None:
    rows = [{"id": f"k{i}", "text": f"concern {i}", "at": "2026-10-01T00:00:00Z"}
            for i in range(25)]
    rows[13]["at"] = "last Tuesday"
    result = store.upsert_nodes("Concern", rows, source="t")
    assert result.written == 24
    (reject,) = result.rejects
    assert (reject.row, reject.field) == (13, "at")
    assert "ISO-8601" in reject.reason
    assert store.counts().nodes["Concern"] == 24
    # The rejected row left nothing behind: not even a node without its properties.
    store.upsert_nodes("Person", [{"id": "p@a.com"}], source="t")
    store.upsert_relationships("RAISED", [{"from": "p@a.com", "to": "k13"}], source="t")
    assert store.counts().relationships.get("RAISED", 0) == 0


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ({"text": "x", "at": "2026-10-01T00:00:00Z"}, "id", "is required"),
        ({"id": "k", "at": "2026-10-01T00:00:00Z"}, "text", "is required"),
        ({"id": "k", "text": "x", "at": "2026-10-01T00:00:00"}, "at", "no timezone"),
        ({"id": "k", "text": "x", "at": "2026-10-01T00:00:00Z", "channel": "pigeon"},
         "channel", "not one of"),
        ({"id": "k", "text": "x", "at": "2026-10-01T00:00:00Z", "mood": "sad"},
         "mood", "not a declared property"),
        ({"id": "k", "text": "x", "at": "2026-10-01T00:00:00Z", "sources": ["x"]},
         "sources", "set by the store"),
    ],
)
def test_reject_reasons(store: GraphStore, row: dict, field: str, reason: str) -> None:
    result = store.upsert_nodes("Concern", [row], source="t")
    (reject,) = result.rejects
    assert (reject.row, reject.field) == (0, field) and reason in reject.reason
    assert store.counts().nodes["Concern"] == 0


def test_relationship_to_an_unknown_node_is_rejected(store: GraphStore) -> None:
    store.upsert_nodes("Person", [{"id": "a@x.com"}, {"id": "b@x.com"}], source="t")
    store.upsert_nodes("Company", [{"id": "x.com"}], source="t")
    result = store.upsert_relationships("WORKS_AT", [
        {"from": "a@x.com", "to": "x.com"},
        {"from": "a@x.com", "to": "y.com"},
        {"from": "ghost@x.com", "to": "x.com"},
        {"from": "b@x.com", "to": "x.com", "since": "yesterday"},
    ], source="t")
    assert result.written == 1
    assert [(r.row, r.field) for r in result.rejects] == [(1, "to"), (2, "from"), (3, "since")]
    assert "no Company with key 'y.com'" in result.rejects[0].reason
    assert store.counts().relationships == {"WORKS_AT": 1}


def test_knows_is_one_relationship_per_pair(store: GraphStore) -> None:
    store.upsert_nodes("Person", [{"id": "a@x.com"}, {"id": "b@x.com"}], source="t")
    result = store.upsert_relationships("KNOWS", [
        {"from": "a@x.com", "to": "b@x.com", "source": "email"},
        {"from": "B@x.com", "to": "a@x.com", "strength": 0.5},
        {"from": "a@x.com", "to": "A@X.COM"},
    ], source="t")
    assert [(r.row, r.field) for r in result.rejects] == [(2, "to")]
    assert store.counts().relationships == {"KNOWS": 1}
    assert store.person_profile("b@x.com").connections == 1


def test_upsert_updates_properties_and_keeps_the_others(store: GraphStore) -> None:
    store.upsert_nodes("Company", [{"id": "acme.com", "name": "Acme", "size": 10}], source="crm")
    store.upsert_nodes("Company", [{"id": "https://www.acme.com", "size": "12", "name": None}],
                       source="linkedin")
    store.upsert_nodes("Person", [{"id": "a@acme.com"}], source="crm")
    store.upsert_relationships("WORKS_AT", [{"from": "a@acme.com", "to": "acme.com",
                                             "title": "CTO"}], source="crm")
    (job,) = store.person_profile("a@acme.com").current
    assert (job.company_id, job.name, job.title) == ("acme.com", "Acme", "CTO")
    assert store.counts().nodes["Company"] == 1


def test_labels_and_types_outside_the_schema_are_refused(store: GraphStore) -> None:
    with pytest.raises(SchemaError):
        store.upsert_nodes("Person`) DETACH DELETE n //", [{"id": "a@b.com"}], source="t")
    with pytest.raises(SchemaError):
        store.upsert_relationships("KNOWS]->() DETACH DELETE n //", [], source="t")
    with pytest.raises(SchemaError, match="ambiguous"):
        store.upsert_relationships("ABOUT", [], source="t")


def test_user_values_are_data_not_cypher(store: GraphStore) -> None:
    nasty = "x'}) DETACH DELETE n //"
    store.upsert_nodes("Concern", [{"id": nasty, "text": "'; MATCH (n) DETACH DELETE n",
                                    "at": "2026-10-01T00:00:00Z"}], source=nasty)
    store.upsert_nodes("Topic", [{"id": "crm"}], source="t")
    assert store.counts().nodes["Concern"] == 1 and store.counts().nodes["Topic"] == 1


def _crashing(rows: list[dict], after: int) -> Iterator[dict]:
    for i, row in enumerate(rows):
        if i == after:
            raise RuntimeError("simulated crash mid-load")
        yield row


def test_a_crash_mid_load_then_a_rerun_leaves_one_complete_load(
    store: GraphStore, tmp_path: Path
) -> None:
    rows = [{"id": f"p{i}@x.com", "name": f"P{i}"} for i in range(45)]
    with pytest.raises(RuntimeError):
        store.upsert_nodes("Person", _crashing(rows, 25), source="t")
    # Exactly two whole batches of 10 on both stores. Neo4j: the first committed, the second
    # was in flight when the input failed while the third was being prepared, and nothing
    # after it was sent. Embedded: each batch is its own SQLite commit, seen by a new process.
    assert store.counts().nodes["Person"] == 20
    if isinstance(store, MemoryStore):
        assert MemoryStore(store.path).counts().nodes["Person"] == 20
    store.upsert_nodes("Person", rows, source="t")
    store.checkpoint()
    assert store.counts().nodes["Person"] == 45
    if isinstance(store, MemoryStore):
        assert MemoryStore(store.path).counts().nodes["Person"] == 45


def test_delete_all(store: GraphStore, tmp_path: Path) -> None:
    load_demo(store, DEMO, tmp_path)
    store.delete_all()
    assert set(store.counts().nodes.values()) == {0}


def test_migrate_is_idempotent(store: GraphStore) -> None:
    store.migrate()
    assert store.migrate() == []


SEPT, OCT, NOV = "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"


def test_a_write_names_the_rows_that_created_or_changed_something(store: GraphStore) -> None:
    """`created` and `changed` are row positions, as rejects are; a row that leaves every
    property as it was (loaded_at aside) is in neither."""
    first = store.upsert_nodes("Person", [{"id": "a@x.com", "name": "A"}, {"id": ""},
                                          {"id": "b@x.com", "born": "x"}, {"id": "b@x.com"}],
                               source="crm")
    assert (first.created, first.changed, first.written) == ([0, 3], [], 2)
    again = store.upsert_nodes("Person", [{"id": "A@x.com", "name": "A"}, {"id": "b@x.com"},
                                          {"id": "c@x.com"}], source="crm")
    assert (again.created, again.changed) == ([2], [])  # identical: unchanged
    edit = store.upsert_nodes("Person", [{"id": "b@x.com"}, {"id": "a@x.com", "name": "Ann"},
                                         {"id": "c@x.com", "title": "CTO"}], source="crm")
    assert (edit.created, edit.changed) == ([], [1, 2])  # a new value; a new property
    other = store.upsert_nodes("Person", [{"id": "a@x.com", "name": "Ann"}, {"id": "b@x.com"}],
                               source="hubspot")
    assert (other.created, other.changed) == ([], [0, 1])  # a new source is a change


def test_observed_rows_that_change_nothing_are_unchanged(store: GraphStore) -> None:
    rows = [{"id": "o@x.com", "name": "Old", "title": "CTO", "observed_at": SEPT},
            {"id": "o@x.com", "name": "New", "observed_at": NOV}]
    assert store.upsert_nodes("Person", rows[:1], source="crm").created == [0]
    assert store.upsert_nodes("Person", rows[1:], source="crm").changed == [0]
    between = store.upsert_nodes("Person", [
        {"id": "o@x.com", "name": "Middle", "title": "CEO", "observed_at": OCT}], source="crm")
    assert (between.created, between.changed) == ([], [])  # older than NOV: fills nothing
    fills = store.upsert_nodes("Person", [
        {"id": "o@x.com", "name": "Middle", "location": "Oslo", "observed_at": OCT}],
        source="crm")
    assert (fills.created, fills.changed) == ([], [0])  # fills a gap
    same = store.upsert_nodes("Person", [
        {"id": "o@x.com", "name": "New", "observed_at": NOV}], source="crm")
    assert (same.created, same.changed) == ([], [])  # the latest observation again
    earlier = store.upsert_nodes("Person", [
        {"id": "o@x.com", "name": "Older", "observed_at": "2026-08-01T00:00:00Z"}],
        source="crm")
    assert (earlier.created, earlier.changed) == ([], [0])  # first_seen moves back


def test_relationship_writes_name_created_and_changed_rows(store: GraphStore) -> None:
    store.upsert_nodes("Person", [{"id": "a@x.com"}, {"id": "b@x.com"}], source="t")
    store.upsert_nodes("Company", [{"id": "x.com"}], source="t")
    first = store.upsert_relationships("WORKS_AT", [
        {"from": "a@x.com", "to": "x.com", "title": "CTO"},
        {"from": "a@x.com", "to": "y.com"},
        {"from": "b@x.com", "to": "x.com", "observed_at": SEPT}], source="t")
    assert (first.created, first.changed, first.written) == ([0, 2], [], 2)
    again = store.upsert_relationships("WORKS_AT", [
        {"from": "b@x.com", "to": "x.com", "observed_at": SEPT},
        {"from": "a@x.com", "to": "x.com", "title": "CTO"},
        {"from": "a@x.com", "to": "x.com", "title": "CEO"}], source="t")
    assert (again.created, again.changed) == ([], [2])
    knows = store.upsert_relationships("KNOWS", [
        {"from": "a@x.com", "to": "b@x.com", "strength": 0.5},
        {"from": "b@x.com", "to": "a@x.com", "strength": 0.5}], source="t")
    assert (knows.created, knows.changed) == ([0], [])  # one pair, the same values
