"""Questions a–c: the same fixtures must give the same answers on every store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from graph.errors import NodeNotFound
from graph.model import QueryError
from graph.questions.entities import PEOPLE, PeopleQuery
from graph.store import GraphStore
from tests.conformance.helpers import AS_OF, at, demo_query, load_demo, summary_of, tiny_world
from tests.conftest import DEMO

PLAYBOOK = "https://www.relgraph.io/papers/crm-playbook"
WEBINAR = "https://www.relgraph.io/webinars/crm-health-scores"

DEMO_READERS = [
    ("zoë@acme.com", ("tom@relgraph.io",), ("acme.com",), (WEBINAR,),
     ("acme-survey-2026-10-28",)),
    ("ada@acme.com", ("maya@relgraph.io",), ("acme.com",), (PLAYBOOK,),
     ("acme-call-2026-10-20",)),
    ("raj@globex.com", ("maya@relgraph.io",), ("globex.com",), (PLAYBOOK,),
     ("globex-ticket-8812",)),
]


@pytest.fixture
def demo(store: GraphStore, tmp_path: Path) -> GraphStore:
    load_demo(store, DEMO, tmp_path)
    return store


# --- question a -------------------------------------------------------------------------------

def test_readers_of_anyone_on_our_team(demo: GraphStore) -> None:
    assert summary_of(demo.readers(demo_query())) == DEMO_READERS


def test_readers_carry_their_evidence(demo: GraphStore) -> None:
    ada = demo.readers(demo_query())[1]
    assert ada.name == "Ada Lovelace"
    (read,) = ada.reads
    assert (read.title, read.kind, read.count) == (
        "The CRM Playbook for Customer Success", "white_paper", 2)
    assert (read.first_at, read.last_at) == (at("2026-10-10T14:03:00Z"), at("2026-10-12T08:30:00Z"))
    (concern,) = ada.concerns
    assert concern.channel == "call" and concern.at == at("2026-10-20T15:00:00Z")
    assert concern.text.startswith("Renewal at risk")
    assert concern.topics == ("churn",)  # evidence is whole: the concern's topics too
    (job,) = ada.companies
    assert (job.name, job.title) == ("Acme Corp", "VP Customer Success")


def test_readers_of_one_person_whatever_the_case_of_the_email(demo: GraphStore) -> None:
    expected = [row for row in DEMO_READERS if row[1] == ("maya@relgraph.io",)]
    assert summary_of(demo.readers(demo_query(person="maya@relgraph.io"))) == expected
    assert summary_of(demo.readers(demo_query(person=" MAYA@RelGraph.IO "))) == expected


def test_content_kind_narrows_the_reads(demo: GraphStore) -> None:
    # Zoë read the white paper too, but in April: outside the 90-day window.
    found = summary_of(demo.readers(demo_query(content_kind="white_paper")))
    assert [row[0] for row in found] == ["ada@acme.com", "raj@globex.com"]


def test_nobody_matches(demo: GraphStore) -> None:
    assert demo.readers(demo_query(read_topic="onboarding", concern_topic="pricing")) == []
    assert demo.reader_companies(demo_query(read_topic="onboarding", concern_topic="pricing")) == []
    assert demo.readers(demo_query(as_of=AS_OF - timedelta(days=365))) == []


def test_unknown_person_is_an_error_not_an_empty_answer(demo: GraphStore) -> None:
    with pytest.raises(NodeNotFound, match="nobody@nowhere.org"):
        demo.readers(demo_query(person="nobody@nowhere.org"))
    with pytest.raises(NodeNotFound):
        demo.reader_companies(demo_query(person="nobody@nowhere.org"))


def test_bad_arguments_are_refused(demo: GraphStore) -> None:
    with pytest.raises(QueryError, match="read_window"):
        demo.readers(demo_query(read_window=timedelta(0)))
    with pytest.raises(QueryError, match="content kind"):
        demo.readers(demo_query(content_kind="novel"))
    with pytest.raises(QueryError, match="limit"):
        demo.readers(demo_query(limit=0))
    with pytest.raises(QueryError, match="person key"):
        demo.readers(demo_query(person="not an address"))


def test_pages(demo: GraphStore) -> None:
    assert summary_of(demo.readers(demo_query(limit=1, offset=1))) == DEMO_READERS[1:2]
    assert demo.readers(demo_query(offset=3)) == []


def test_readers_carry_the_email_and_names_their_cards_show(store: GraphStore) -> None:
    """The e-mail as typed when one is stored on the person, else their key, and the names of
    who knows them (none stored: None), in the order of `via`: what their cards say (the API
    shows them without a second look-up)."""
    tiny_world(store)
    (ann,) = store.readers(demo_query())
    assert (ann.email, ann.via, ann.via_names) == ("ann@a.com", ("me@us.io",), (None,))
    store.upsert_nodes("Person", [{"id": "ann@a.com", "email": "Ann@A.com"},
                                  {"id": "me@us.io", "name": "Me"},
                                  {"id": "you@us.io", "name": "You"}], source="t")
    store.upsert_relationships("WORKS_AT", [{"from": "you@us.io", "to": "us.io"}], source="t")
    store.upsert_relationships("KNOWS", [{"from": "you@us.io", "to": "ann@a.com"}], source="t")
    (ann,) = store.readers(demo_query())
    cards = store.ask(PEOPLE, PeopleQuery(("ann@a.com", "me@us.io", "you@us.io"), as_of=AS_OF))
    assert ann.email == cards["ann@a.com"].email == "Ann@A.com"
    assert ann.via == ("me@us.io", "you@us.io")
    assert ann.via_names == tuple(cards[v].name for v in ann.via) == ("Me", "You")


@pytest.mark.parametrize(
    ("concern_at", "found"),
    [
        ("2026-10-02T00:00:00Z", True),  # exactly on the window's start: inside
        ("2026-10-01T23:59:59Z", False),  # one second before it: outside
        ("2026-11-01T00:00:00Z", True),  # exactly at as_of
        ("2026-11-01T00:00:01Z", False),  # after as_of: not yet raised
    ],
)
def test_concern_window_edges(store: GraphStore, concern_at: str, found: bool) -> None:
    tiny_world(store, concern_at=concern_at)
    people = [m.person_id for m in store.readers(demo_query())]
    assert people == (["ann@a.com"] if found else [])


def test_read_window_is_an_overlap_of_the_reading_span(store: GraphStore) -> None:
    tiny_world(store)
    # Read first long ago, last inside the window: counts.
    store.upsert_relationships("READ", [{"from": "ann@a.com", "to": "https://x.org/crm",
                                         "first_at": "2025-01-01T00:00:00Z",
                                         "last_at": "2026-08-10T00:00:00Z", "count": 7}],
                               source="t")
    assert [m.person_id for m in store.readers(demo_query())] == ["ann@a.com"]
    assert store.readers(demo_query(read_window=timedelta(days=60))) == []
    # First read after as_of: not read yet at as_of.
    assert store.readers(demo_query(as_of=at("2024-12-31T00:00:00Z"),
                                    concern_window=timedelta(days=3650))) == []


def test_team_members_are_not_their_own_leads(store: GraphStore) -> None:
    tiny_world(store)
    store.upsert_relationships("WORKS_AT", [{"from": "ann@a.com", "to": "us.io"}], source="t")
    assert store.readers(demo_query()) == []  # Ann is on the team now
    assert [m.person_id for m in store.readers(demo_query(person="me@us.io"))] == ["ann@a.com"]


def test_former_team_members_are_not_the_team(store: GraphStore) -> None:
    tiny_world(store)
    store.upsert_relationships("WORKS_AT", [{"from": "me@us.io", "to": "us.io",
                                             "until": "2026-01-01T00:00:00Z"}], source="t")
    assert store.readers(demo_query()) == []


# --- question b -------------------------------------------------------------------------------

def test_companies_ranked_by_matching_people(demo: GraphStore) -> None:
    ranked = [(c.company_id, c.name, c.people, c.person_ids)
              for c in demo.reader_companies(demo_query())]
    assert ranked == [
        ("acme.com", "Acme Corp", 2, ("ada@acme.com", "zoë@acme.com")),
        ("globex.com", "Globex", 1, ("raj@globex.com",)),
    ]
    assert [c.company_id for c in demo.reader_companies(demo_query(limit=1, offset=1))] == [
        "globex.com"]


def test_only_the_current_employer_counts(store: GraphStore) -> None:
    tiny_world(store)
    store.upsert_relationships("WORKS_AT", [
        {"from": "ann@a.com", "to": "a.com", "until": "2026-09-30T00:00:00Z"},
        {"from": "ann@a.com", "to": "b.com", "since": "2026-10-01T00:00:00Z"},
    ], source="t")
    assert [(c.company_id, c.people) for c in store.reader_companies(demo_query())] == [
        ("b.com", 1)]
    (match,) = store.readers(demo_query())
    assert [c.company_id for c in match.companies] == ["b.com"]
    # Asked as of a moment before the move (with windows that reach back), A counts.
    earlier = demo_query(as_of=at("2026-10-20T12:00:00Z"))
    store.upsert_relationships("READ", [{"from": "ann@a.com", "to": "https://x.org/crm",
                                         "first_at": "2026-09-01T00:00:00Z",
                                         "last_at": "2026-10-01T00:00:00Z"}], source="t")
    store.upsert_nodes("Concern", [{"id": "k0", "text": "worried", "at": "2026-09-20T00:00:00Z"}],
                       source="t")
    store.upsert_relationships("RAISED", [{"from": "ann@a.com", "to": "k0"}], source="t")
    store.upsert_relationships("ABOUT", [{"from": "k0", "to": "churn"}], source="t",
                               from_label="Concern")
    before = demo_query(as_of=at("2026-09-25T00:00:00Z"))
    assert [c.company_id for c in store.reader_companies(before)] == ["a.com"]
    assert [c.company_id for c in store.reader_companies(earlier)] == ["b.com"]


# --- question c -------------------------------------------------------------------------------

def test_profile_of_someone_who_changed_jobs(demo: GraphStore) -> None:
    p = demo.person_profile("Raj@Globex.com", as_of=AS_OF)
    assert (p.person_id, p.name, p.connections) == ("raj@globex.com", "Raj Patel", 1)
    assert [(j.company_id, j.title) for j in p.current] == [("globex.com", "Director of Support")]
    assert [(j.company_id, j.until) for j in p.past] == [
        ("initech.com", at("2026-06-30T00:00:00Z"))]
    assert [(t.topic_id, t.contents, t.reads) for t in p.topics] == [("crm", 1, 1)]
    assert [(c.concern_id, c.topics) for c in p.concerns] == [("globex-ticket-8812", ("churn",))]
    assert p.properties["title"] == "Director of Support"
    assert p.properties["sources"] == ["demo"]


def test_profile_as_of_an_earlier_moment(demo: GraphStore) -> None:
    p = demo.person_profile("raj@globex.com", as_of=at("2026-06-01T00:00:00Z"))
    assert [j.company_id for j in p.current] == ["initech.com"]
    assert p.past == () and p.topics == () and p.concerns == ()


def test_profile_topics_add_up_reads(demo: GraphStore) -> None:
    p = demo.person_profile("ZOË@ACME.COM", as_of=AS_OF)
    assert p.name == "Zoë Brontë" and p.connections == 1
    assert [(t.topic_id, t.name, t.contents, t.reads, t.last_at) for t in p.topics] == [
        ("crm", "CRM", 2, 4, at("2026-10-25T11:20:00Z")),
        ("churn", "Churn", 1, 3, at("2026-10-25T11:20:00Z")),
    ]
    assert demo.person_profile("ada@acme.com", as_of=AS_OF).connections == 2


def test_profile_of_unknown_person(demo: GraphStore) -> None:
    with pytest.raises(NodeNotFound):
        demo.person_profile("ghost@acme.com")


def test_the_team_follows_the_own_flag(store: GraphStore) -> None:
    tiny_world(store)
    store.upsert_nodes("Company", [{"id": "us.io", "own": False}], source="t")
    assert store.readers(demo_query()) == []
    store.upsert_nodes("Company", [{"id": "b.com", "own": "true"}], source="t")
    store.upsert_relationships("WORKS_AT", [{"from": "me@us.io", "to": "b.com"}], source="t")
    assert [m.person_id for m in store.readers(demo_query())] == ["ann@a.com"]


def test_questions_page_with_a_total(demo: GraphStore) -> None:
    from graph.questions.readers import COMPANIES, READERS

    first = demo.ask(READERS, demo_query(limit=2))
    rest = demo.ask(READERS, demo_query(limit=2, offset=2))
    assert (first.total, rest.total) == (3, 3)
    assert summary_of(list(first.items + rest.items)) == DEMO_READERS
    companies = demo.ask(COMPANIES, demo_query(limit=1))
    assert (companies.total, [c.company_id for c in companies.items]) == (2, ["acme.com"])


def test_the_async_path_gives_the_same_answer(demo: GraphStore) -> None:
    import asyncio

    from graph.questions.readers import READERS

    async def both() -> tuple:
        page = await demo.ask_async(READERS, demo_query())
        await demo.aclose()  # the Neo4j store's async driver belongs to this event loop
        return page

    page = asyncio.run(both())
    assert summary_of(list(page.items)) == DEMO_READERS
