"""The evidence question (graph/questions/evidence.py), on both stores: the time span of the
reads and concerns about two topics, and the graph's topics, which an empty answer's "why" is
built from."""

from __future__ import annotations

import pytest

from graph.model import QueryError
from graph.questions.evidence import EVIDENCE, Evidence, EvidenceQuery, Span
from graph.store import GraphStore
from tests.conformance.helpers import at, tiny_world


def test_spans_of_the_reads_and_concerns_about_two_topics(store: GraphStore) -> None:
    tiny_world(store)  # ann read the CRM article on 2026-10-01; concern k1 (churn) 2026-10-20
    store.upsert_nodes("Topic", [{"id": "vip", "name": "VIP"}], source="t")
    store.upsert_nodes("Content", [{"id": "https://x.org/crm-2", "kind": "webinar"}], source="t")
    store.upsert_nodes("Person", [{"id": "bob@b.com"}], source="t")
    store.upsert_nodes("Concern", [{"id": "k2", "text": "too dear", "at": "2026-09-02T08:00:00Z"},
                                   {"id": "k3", "text": "vip", "at": "2027-01-01T00:00:00Z"}],
                       source="t")
    store.upsert_relationships("ABOUT", [{"from": "https://x.org/crm-2", "to": "crm"}],
                               source="t", from_label="Content")
    store.upsert_relationships("ABOUT", [{"from": "k2", "to": "churn"},
                                         {"from": "k3", "to": "vip"}],
                               source="t", from_label="Concern")
    store.upsert_relationships(
        "READ", [{"from": "bob@b.com", "to": "https://x.org/crm-2",
                  "first_at": "2026-08-15T00:00:00Z", "last_at": "2026-09-30T00:00:00Z"}],
        source="t")
    got = store.ask(EVIDENCE, EvidenceQuery("CRM", "churn"))
    assert got == Evidence(
        Span(True, at("2026-08-15T00:00:00Z"), at("2026-10-01T00:00:00Z")),
        Span(True, at("2026-09-02T08:00:00Z"), at("2026-10-20T12:00:00Z")),
        (("churn", None), ("crm", None), ("vip", "VIP")))


def test_a_topic_with_nothing_about_it_and_one_that_is_not_there(store: GraphStore) -> None:
    tiny_world(store)
    got = store.ask(EVIDENCE, EvidenceQuery("churn", "crmm"))  # no content is about churn
    assert got.reads == Span(True, None, None) and got.concerns == Span(False, None, None)


def test_an_empty_graph(store: GraphStore) -> None:
    assert store.ask(EVIDENCE, EvidenceQuery("crm", "churn")) == Evidence(
        Span(False, None, None), Span(False, None, None), ())


def test_a_topic_that_cannot_be_a_key(store: GraphStore) -> None:
    with pytest.raises(QueryError):
        store.ask(EVIDENCE, EvidenceQuery("!!!", "churn"))
