"""The GraphQL API's newer questions (warm paths, triggers, cards, connections, search): the same
small readable graphs must give the same answers, evidence and order on every store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from graph.errors import NodeNotFound
from graph.model import QueryError
from graph.questions.entities import (
    COMPANY_CARDS,
    CONNECTIONS,
    PEOPLE,
    CompaniesQuery,
    ConnectionsQuery,
    PeopleQuery,
)
from graph.questions.readers import COMPANIES, READERS
from graph.questions.search import SEARCH, SearchQuery, candidate_pattern, fold, words
from graph.questions.triggers import TRIGGERS, KnownContact, TriggerQuery
from graph.questions.warm_paths import WARM_PATHS, PathStep, WarmPathQuery
from graph.store import GraphStore
from tests.conformance.helpers import AS_OF, at, demo_query


def knows(store: GraphStore, *pairs: tuple[str, str, float | None]) -> None:
    store.upsert_relationships("KNOWS", [
        {"from": a, "to": b, **({} if s is None else {"strength": s})} for a, b, s in pairs],
        source="t")


def people(store: GraphStore, *ids: str, **names: str) -> None:
    store.upsert_nodes("Person", [{"id": i, "name": names.get(i.split("@")[0])} for i in ids],
                       source="t")


# --- warm paths -------------------------------------------------------------------------------

def path_world(store: GraphStore) -> None:
    """me reaches cat through ann or bob (0.5 x 0.8 = 0.8 x 0.5: a tie), dan (no strengths),
    and eve then fay (three hops, all 1.0); cat knows hal; gus knows only me; zed nobody."""
    people(store, *(f"{n}@x.com" for n in
                    ("me", "ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "zed")),
           ann="Ann", cat="Cat", me="Me")
    store.upsert_nodes("Person", [{"id": "bob@x.com", "title": "Former VP"}], source="t")
    store.upsert_nodes("Company", [{"id": "a.com", "name": "A"}, {"id": "b.com", "name": "B"},
                                   {"id": "c.com", "name": "C"}], source="t")
    store.upsert_relationships("WORKS_AT", [
        {"from": "ann@x.com", "to": "a.com", "title": "CTO", "since": "2020-01-01T00:00:00Z"},
        {"from": "ann@x.com", "to": "c.com", "title": "Advisor", "since": "2019-01-01T00:00:00Z"},
        {"from": "bob@x.com", "to": "b.com", "title": "VP", "until": "2026-06-01T00:00:00Z"},
    ], source="t")
    knows(store, ("me@x.com", "ann@x.com", 0.5), ("ann@x.com", "cat@x.com", 0.8),
          ("me@x.com", "bob@x.com", 0.8), ("bob@x.com", "cat@x.com", 0.5),
          ("me@x.com", "dan@x.com", None), ("dan@x.com", "cat@x.com", None),
          ("me@x.com", "eve@x.com", 1.0), ("eve@x.com", "fay@x.com", 1.0),
          ("fay@x.com", "cat@x.com", 1.0), ("cat@x.com", "hal@x.com", 0.9),
          ("me@x.com", "gus@x.com", 0.7))


def paths(store: GraphStore, source: str, target: str, **kw: Any) -> list[tuple[Any, ...]]:
    found = store.ask(WARM_PATHS, WarmPathQuery(source, target, as_of=AS_OF, **kw))
    for p in found:
        assert p.hops == len(p.people) - 1
    return [(tuple(s.person_id.split("@")[0] for s in p.people), p.hops, p.strength)
            for p in found]


@pytest.mark.parametrize(("target", "kw", "expected"), [
    ("gus@x.com", {}, [(("me", "gus"), 1, 0.7)]),
    ("cat@x.com", {"max_hops": 2}, [
        (("me", "ann", "cat"), 2, 0.4), (("me", "bob", "cat"), 2, 0.4),  # a tie: by ids
        (("me", "dan", "cat"), 2, 0.25)]),  # missing strengths count 0.5 each
    ("cat@x.com", {}, [  # three hops come after every two-hop path, however strong
        (("me", "ann", "cat"), 2, 0.4), (("me", "bob", "cat"), 2, 0.4),
        (("me", "dan", "cat"), 2, 0.25), (("me", "eve", "fay", "cat"), 3, 1.0)]),
    ("cat@x.com", {"limit": 2}, [(("me", "ann", "cat"), 2, 0.4), (("me", "bob", "cat"), 2, 0.4)]),
    ("cat@x.com", {"max_hops": 1}, []),
    ("hal@x.com", {"max_hops": 3}, [
        (("me", "ann", "cat", "hal"), 3, 0.5 * 0.8 * 0.9),
        (("me", "bob", "cat", "hal"), 3, 0.8 * 0.5 * 0.9),
        (("me", "dan", "cat", "hal"), 3, 0.5 * 0.5 * 0.9)]),
    ("hal@x.com", {"max_hops": 4}, [
        (("me", "ann", "cat", "hal"), 3, 0.5 * 0.8 * 0.9),
        (("me", "bob", "cat", "hal"), 3, 0.8 * 0.5 * 0.9),
        (("me", "dan", "cat", "hal"), 3, 0.5 * 0.5 * 0.9),
        (("me", "eve", "fay", "cat", "hal"), 4, 0.9)]),
    ("zed@x.com", {"max_hops": 4}, []),
], ids=["1-hop", "2-hops-tie", "3-hops", "limit", "too-short", "3-hops-exact", "4-hops",
        "no-path"])
def test_warm_paths(store: GraphStore, target: str, kw: dict[str, Any],
                    expected: list[tuple[Any, ...]]) -> None:
    path_world(store)
    assert paths(store, "me@x.com", target, **kw) == expected


def test_warm_paths_are_simple_and_either_way(store: GraphStore) -> None:
    path_world(store)
    # me, ann and bob now form a triangle: no path may come back to a person.
    knows(store, ("ann@x.com", "bob@x.com", 1.0))
    found = paths(store, "ME@X.com", "gus@x.com", max_hops=4)
    assert found == [(("me", "gus"), 1, 0.7)]  # me-ann-bob-me-gus is a trail, not a path
    back = paths(store, "cat@x.com", "me@x.com", max_hops=2)
    assert back == [(("cat", "ann", "me"), 2, 0.8 * 0.5), (("cat", "bob", "me"), 2, 0.5 * 0.8),
                    (("cat", "dan", "me"), 2, 0.25)]


def test_warm_path_people_carry_their_role_at_as_of(store: GraphStore) -> None:
    path_world(store)
    (via_ann, via_bob) = store.ask(WARM_PATHS, WarmPathQuery("me@x.com", "cat@x.com", 2, 2,
                                                             as_of=AS_OF))
    # Two current jobs: the one that started last. Bob left his: his stored title, no company.
    assert via_ann.people == (PathStep("me@x.com", "Me", None, None, None),
                              PathStep("ann@x.com", "Ann", "CTO", "a.com", "A"),
                              PathStep("cat@x.com", "Cat", None, None, None))
    assert via_bob.people[1] == PathStep("bob@x.com", None, "Former VP", None, None)
    earlier = store.ask(WARM_PATHS, WarmPathQuery("me@x.com", "cat@x.com", 2, 2,
                                                  as_of=at("2026-01-01T00:00:00Z")))
    assert earlier[1].people[1] == PathStep("bob@x.com", None, "VP", "b.com", "B")


@pytest.mark.parametrize(("query", "error", "match"), [
    (WarmPathQuery("me@x.com", "cat@x.com", max_hops=0), QueryError, "max_hops"),
    (WarmPathQuery("me@x.com", "cat@x.com", max_hops=5), QueryError, "max_hops"),
    (WarmPathQuery("me@x.com", "cat@x.com", limit=0), QueryError, "limit"),
    (WarmPathQuery("me@x.com", "cat@x.com", limit=101), QueryError, "limit"),
    (WarmPathQuery("me@x.com", " ME@x.com"), QueryError, "same person"),
    (WarmPathQuery("me@x.com", "not a key"), QueryError, "person key"),
    (WarmPathQuery("ghost@x.com", "cat@x.com"), NodeNotFound, "ghost@x.com"),
    (WarmPathQuery("me@x.com", "ghost@x.com"), NodeNotFound, "ghost@x.com"),
])
def test_warm_path_refusals(store: GraphStore, query: WarmPathQuery, error: type[Exception],
                            match: str) -> None:
    path_world(store)
    with pytest.raises(error, match=match):
        store.ask(WARM_PATHS, query)


# --- triggers ---------------------------------------------------------------------------------

SINCE = at("2026-10-01T00:00:00Z")


def trigger_world(store: GraphStore) -> None:
    """Our team (me, you at us.io). At a.com: ann (known by both), cat (known by nobody) and
    old, who left on 1 September (known by me). bob at b.com (known by you, no strength).
    Triggers: t1 a.com funding 1 Oct, t2 b.com new VP 15 Oct, t3 a.com hiring 1 Aug,
    t4 c.com acquisition 20 Oct (nobody known there)."""
    store.upsert_nodes("Company", [
        {"id": "us.io", "name": "Us", "own": True}, {"id": "a.com", "name": "A", "prospect": True},
        {"id": "b.com", "name": "B"}, {"id": "c.com", "name": "C"}], source="t")
    people(store, "me@us.io", "you@us.io", "ann@a.com", "cat@a.com", "old@a.com", "bob@b.com",
           me="Me", you="You", ann="Ann", old="Old", bob="Bob")
    store.upsert_nodes("Person", [{"id": "bob@b.com", "title": "Head of Sales"}], source="t")
    store.upsert_relationships("WORKS_AT", [
        {"from": "me@us.io", "to": "us.io"}, {"from": "you@us.io", "to": "us.io"},
        {"from": "ann@a.com", "to": "a.com", "title": "VP Sales"},
        {"from": "cat@a.com", "to": "a.com"},
        {"from": "old@a.com", "to": "a.com", "title": "AE", "until": "2026-09-01T00:00:00Z"},
        {"from": "bob@b.com", "to": "b.com", "since": "2026-01-01T00:00:00Z"},
    ], source="t")
    knows(store, ("me@us.io", "ann@a.com", 0.9), ("you@us.io", "ann@a.com", 0.4),
          ("me@us.io", "old@a.com", 0.8), ("you@us.io", "bob@b.com", None))
    store.upsert_nodes("Trigger", [
        {"id": "t1", "type": "funding_round", "at": "2026-10-01T00:00:00Z",
         "headline": "A raises a B round", "details": "led by V", "amount": 5_000_000,
         "currency": "USD", "round": "B", "source_url": "https://news.example/a"},
        {"id": "t2", "type": "leadership_change", "at": "2026-10-15T00:00:00Z",
         "headline": "B hires a VP"},
        {"id": "t3", "type": "hiring_surge", "at": "2026-08-01T00:00:00Z"},
        {"id": "t4", "type": "acquisition", "at": "2026-10-20T00:00:00Z"},
    ], source="t")
    store.upsert_relationships("HAD_TRIGGER", [
        {"from": "a.com", "to": "t1"}, {"from": "b.com", "to": "t2"},
        {"from": "a.com", "to": "t3"}, {"from": "c.com", "to": "t4"}], source="t")
    store.upsert_nodes("Topic", [{"id": "funding"}, {"id": "growth"}], source="t")
    store.upsert_relationships("ABOUT", [{"from": "t1", "to": "growth"},
                                         {"from": "t1", "to": "funding"}],
                               source="t", from_label="Trigger")


ANN = KnownContact("ann@a.com", "Ann", "VP Sales", ("me@us.io", "you@us.io"), 0.9)
BOB = KnownContact("bob@b.com", "Bob", "Head of Sales", ("you@us.io",), None)
OLD = KnownContact("old@a.com", "Old", "AE", ("me@us.io",), 0.8)


def triggers(store: GraphStore, **kw: Any) -> list[tuple[Any, ...]]:
    args: dict[str, Any] = {"since": SINCE, "as_of": AS_OF, **kw}
    page = store.ask(TRIGGERS, TriggerQuery(**args))
    assert page.total >= len(page.items)
    return [(m.trigger_id, m.company_id, m.known) for m in page.items]


@pytest.mark.parametrize(("kw", "expected"), [
    ({}, [("t2", "b.com", (BOB,)), ("t1", "a.com", (ANN,))]),  # old left a.com: not known there
    ({"where_we_know_someone": False},
     [("t4", "c.com", ()), ("t2", "b.com", (BOB,)), ("t1", "a.com", (ANN,))]),
    ({"person": "ME@us.io"},
     [("t1", "a.com", (KnownContact("ann@a.com", "Ann", "VP Sales", ("me@us.io",), 0.9),))]),
    ({"types": ("funding_round", "acquisition")}, [("t1", "a.com", (ANN,))]),
    ({"since": at("2026-10-01T00:00:01Z")}, [("t2", "b.com", (BOB,))]),  # since is inclusive
    ({"as_of": at("2026-10-15T00:00:00Z")}, [("t2", "b.com", (BOB,)), ("t1", "a.com", (ANN,))]),
    ({"as_of": at("2026-10-14T23:59:59Z")}, [("t1", "a.com", (ANN,))]),
    # Before old left a.com he is known there, behind ann (weaker).
    ({"since": at("2026-08-01T00:00:00Z"), "as_of": at("2026-08-15T00:00:00Z")},
     [("t3", "a.com", (ANN, OLD))]),
    ({"where_we_know_someone": False, "limit": 1, "offset": 1}, [("t2", "b.com", (BOB,))]),
], ids=["team", "everyone", "person", "types", "since-edge", "as-of-edge", "as-of-before",
        "before-job-change", "page"])
def test_triggers(store: GraphStore, kw: dict[str, Any], expected: list[tuple[Any, ...]]) -> None:
    trigger_world(store)
    assert triggers(store, **kw) == expected


def test_trigger_evidence_and_total(store: GraphStore) -> None:
    trigger_world(store)
    page = store.ask(TRIGGERS, TriggerQuery(SINCE, as_of=AS_OF, where_we_know_someone=False,
                                            limit=1, offset=2))
    assert page.total == 3
    (t1,) = page.items
    assert (t1.trigger_id, t1.type, t1.at, t1.headline, t1.details, t1.source_url) == (
        "t1", "funding_round", SINCE, "A raises a B round", "led by V", "https://news.example/a")
    assert (t1.amount, t1.currency, t1.round) == (5_000_000, "USD", "B")
    assert (t1.company_id, t1.company_name, t1.topics) == ("a.com", "A", ("funding", "growth"))
    assert t1.known == (ANN,)


def test_team_members_are_not_known_contacts(store: GraphStore) -> None:
    trigger_world(store)
    # ann joins us (and stays at a.com): on our team, she is no longer a contact at a.com.
    store.upsert_relationships("WORKS_AT", [{"from": "ann@a.com", "to": "us.io"}], source="t")
    assert triggers(store) == [("t2", "b.com", (BOB,))]
    # Asked for one person, only that person is our side.
    assert triggers(store, person="you@us.io") == [
        ("t2", "b.com", (BOB,)),
        ("t1", "a.com", (KnownContact("ann@a.com", "Ann", "VP Sales", ("you@us.io",), 0.4),))]


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"types": ("ipo", "rumour")}, QueryError, "rumour"),
    ({"types": ()}, QueryError, "trigger type"),
    ({"since": AS_OF + timedelta(seconds=1)}, QueryError, "after as_of"),
    ({"since": SINCE.replace(tzinfo=None)}, QueryError, "timezone"),
    ({"limit": 0}, QueryError, "limit"),
    ({"offset": -1}, QueryError, "offset"),
    ({"person": "ghost@us.io"}, NodeNotFound, "ghost@us.io"),
])
def test_trigger_refusals(store: GraphStore, kw: dict[str, Any], error: type[Exception],
                          match: str) -> None:
    trigger_world(store)
    with pytest.raises(error, match=match):
        triggers(store, **kw)


# --- person and company cards, connections ------------------------------------------------------

def card_world(store: GraphStore) -> None:
    trigger_world(store)
    store.upsert_nodes("Topic", [{"id": "churn"}, {"id": "pricing"}], source="t")
    store.upsert_nodes("Concern", [
        {"id": "k0", "text": "too old", "at": "2026-08-02T23:59:59Z"},  # 90 days + 1 s before
        {"id": "k1", "text": "may leave", "channel": "call", "at": "2026-08-03T00:00:00Z"},
        {"id": "k2", "text": "price", "channel": "ticket", "at": "2026-10-20T00:00:00Z"},
        {"id": "k3", "text": "not yet", "at": "2026-11-01T00:00:01Z"},
    ], source="t")
    store.upsert_relationships("RAISED", [{"from": "ann@a.com", "to": k}
                                          for k in ("k0", "k1", "k2", "k3")], source="t")
    store.upsert_relationships("ABOUT", [{"from": "k2", "to": "pricing"},
                                         {"from": "k2", "to": "churn"},
                                         {"from": "k1", "to": "churn"}],
                               source="t", from_label="Concern")
    store.upsert_nodes("Customer", [
        {"id": "cust-a", "plan": "pro", "mrr": 100, "status": "active", "churned": False},
        {"id": "cust-a2", "status": "churned", "churned": True}], source="t")
    store.upsert_relationships("ACCOUNT_OF", [{"from": "cust-a2", "to": "a.com"},
                                              {"from": "cust-a", "to": "a.com"}],
                               source="t", to_label="Company")


def test_person_cards(store: GraphStore) -> None:
    card_world(store)
    cards = store.ask(PEOPLE, PeopleQuery(("ANN@A.com", "ghost@a.com", "not a key", "old@a.com",
                                           "ann@a.com"), as_of=AS_OF))
    assert sorted(cards) == ["ann@a.com", "old@a.com"]  # keyed by the normalised key
    ann = cards["ann@a.com"]
    assert (ann.person_id, ann.name, ann.email, ann.title, ann.connections) == (
        "ann@a.com", "Ann", "ann@a.com", "VP Sales", 2)
    assert [(j.company_id, j.title) for j in ann.current] == [("a.com", "VP Sales")]
    assert ann.past == ()
    assert ann.known_by == (KnownContact("me@us.io", "Me", None, (), 0.9),
                            KnownContact("you@us.io", "You", None, (), 0.4))
    assert [(k.concern_id, k.text, k.channel, k.at, k.topics) for k in ann.open_concerns] == [
        ("k2", "price", "ticket", at("2026-10-20T00:00:00Z"), ("churn", "pricing")),
        ("k1", "may leave", "call", at("2026-08-03T00:00:00Z"), ("churn",))]
    assert ann.properties["name"] == "Ann" and ann.properties["sources"] == ["t"]
    old = cards["old@a.com"]
    assert (old.title, old.current, old.connections) == (None, (), 1)
    assert [(j.company_id, j.title, j.until) for j in old.past] == [
        ("a.com", "AE", at("2026-09-01T00:00:00Z"))]
    assert old.known_by == (KnownContact("me@us.io", "Me", None, (), 0.8),)


def test_brief_person_cards_hold_what_the_node_and_its_jobs_say(store: GraphStore) -> None:
    card_world(store)
    keys, as_of = ("ANN@A.com", "ghost@a.com", "old@a.com", "me@us.io"), at("2026-08-31T00:00:00Z")
    full = store.ask(PEOPLE, PeopleQuery(keys, as_of=as_of))
    brief = store.ask(PEOPLE, PeopleQuery(keys, as_of=as_of, brief=True))
    assert sorted(brief) == sorted(full) == ["ann@a.com", "me@us.io", "old@a.com"]
    for key, card in brief.items():
        assert card.brief and not full[key].brief
        assert (card.connections, card.known_by, card.open_concerns) == (0, (), ())
        assert card == replace(full[key], connections=0, known_by=(), open_concerns=(),
                               brief=True)


def test_person_cards_as_of_an_earlier_moment(store: GraphStore) -> None:
    card_world(store)
    cards = store.ask(PEOPLE, PeopleQuery(("old@a.com", "ann@a.com", "me@us.io"),
                                          as_of=at("2026-08-31T00:00:00Z")))
    old = cards["old@a.com"]
    assert ([j.company_id for j in old.current], old.past, old.title) == (["a.com"], (), "AE")
    assert [k.concern_id for k in cards["ann@a.com"].open_concerns] == ["k1", "k0"]
    # me is on the team; the team knows no one on it, so nobody "knows" me.
    assert cards["me@us.io"].known_by == () and cards["me@us.io"].connections == 2
    assert store.ask(PEOPLE, PeopleQuery((), as_of=AS_OF)) == {}


def test_company_cards(store: GraphStore) -> None:
    card_world(store)
    cards = store.ask(COMPANY_CARDS, CompaniesQuery(
        ("https://www.A.com/about", "nope.org", "B", "gmail.com", "c.com"), as_of=AS_OF))
    assert sorted(cards) == ["a.com", "c.com"]
    a = cards["a.com"]
    assert (a.company_id, a.name, a.domain, a.flags) == ("a.com", "A", "a.com", ("prospect",))
    assert (a.people_now, a.people_before) == (("ann@a.com", "cat@a.com"), ("old@a.com",))
    assert [(c.customer_id, c.id, c.plan, c.mrr, c.status, c.churned) for c in a.customers] == [
        ("cust-a", "cust-a", "pro", 100.0, "active", False),
        ("cust-a2", "cust-a2", None, None, "churned", True)]
    assert [(t.trigger_id, t.type, t.at, t.headline) for t in a.triggers] == [
        ("t1", "funding_round", SINCE, "A raises a B round"),
        ("t3", "hiring_surge", at("2026-08-01T00:00:00Z"), None)]
    assert a.properties["prospect"] is True and "id" not in a.properties
    before = store.ask(COMPANY_CARDS, CompaniesQuery(("a.com", "us.io"),
                                                     as_of=at("2026-08-15T00:00:00Z")))
    assert before["a.com"].people_now == ("ann@a.com", "cat@a.com", "old@a.com")
    assert before["a.com"].people_before == ()
    assert [t.trigger_id for t in before["a.com"].triggers] == ["t3"]
    assert before["us.io"].flags == ("own",) and before["us.io"].customers == ()


def test_connections(store: GraphStore) -> None:
    card_world(store)
    knows(store, ("me@us.io", "cat@a.com", 0.9), ("me@us.io", "bob@b.com", None))
    found = store.ask(CONNECTIONS, ConnectionsQuery(("ME@us.io", "ghost@x.com", "cat@a.com",
                                                     "you@us.io"), as_of=AS_OF))
    assert sorted(found) == ["cat@a.com", "me@us.io", "you@us.io"]
    assert found["me@us.io"] == (  # strongest first, ties by id, unknown strength last
        KnownContact("ann@a.com", "Ann", "VP Sales", ("me@us.io",), 0.9),
        KnownContact("cat@a.com", None, None, ("me@us.io",), 0.9),
        KnownContact("old@a.com", "Old", None, ("me@us.io",), 0.8),
        KnownContact("bob@b.com", "Bob", "Head of Sales", ("me@us.io",), None))
    assert found["cat@a.com"] == (KnownContact("me@us.io", "Me", None, ("cat@a.com",), 0.9),)
    limited = store.ask(CONNECTIONS, ConnectionsQuery(("me@us.io",), limit=2, as_of=AS_OF))
    assert [c.person_id for c in limited["me@us.io"]] == ["ann@a.com", "cat@a.com"]
    with pytest.raises(QueryError, match="limit"):
        store.ask(CONNECTIONS, ConnectionsQuery(("me@us.io",), limit=0))


# --- search -----------------------------------------------------------------------------------

def search_world(store: GraphStore) -> None:
    store.upsert_nodes("Person", [
        {"id": "zoë@acme.com", "name": "Zoë Brontë"},
        {"id": "ada@acme.com", "name": "Ada Lovelace"},
        {"id": "crm:42", "name": "Ines Sousa", "email": "INES@umbrella.com"}], source="t")
    store.upsert_nodes("Company", [
        {"id": "acme.com", "name": "Acme Corp"}, {"id": "zoetis.com", "name": "Zoetis"},
        {"id": "strasse.de", "name": "Straße AG"}], source="t")
    store.upsert_nodes("Content", [{"id": "https://x.org/crm-playbook",
                                    "title": "The CRM Playbook"}], source="t")
    store.upsert_nodes("Topic", [
        {"id": "crm", "name": "CRM", "synonyms": ["customer relationship management"]},
        {"id": "churn", "name": "Churn"}], source="t")


@pytest.mark.parametrize(("text", "expected"), [
    ("zoe", [("Company", "zoetis.com", 2.0), ("Person", "zoë@acme.com", 2.0)]),  # tie: by label
    ("ZOË BRONTË", [("Person", "zoë@acme.com", 3.0)]),
    ("zoe  bronte", [("Person", "zoë@acme.com", 3.0)]),
    ("bron", [("Person", "zoë@acme.com", 1.0)]),  # a later word of an accented name
    ("acme", [("Company", "acme.com", 2.0), ("Person", "ada@acme.com", 1.0),
              ("Person", "zoë@acme.com", 1.0)]),
    ("Acme Corp", [("Company", "acme.com", 3.0)]),
    ("àda lov", [("Person", "ada@acme.com", 2.0)]),
    ("lovelace ada", [("Person", "ada@acme.com", 1.0)]),
    ("ada lovelace x", []),
    ("crm", [("Topic", "crm", 3.0), ("Content", "https://x.org/crm-playbook", 1.0)]),
    ("customer rel", [("Topic", "crm", 2.0)]),
    ("STRASSE", [("Company", "strasse.de", 2.0)]),
    ("straße ag", [("Company", "strasse.de", 3.0)]),
    ("umbrella", [("Person", "crm:42", 1.0)]),  # the e-mail property, whatever its case
    ("42", []),  # a source:id key is not searched
    ("playbook", [("Content", "https://x.org/crm-playbook", 1.0)]),
])
def test_search(store: GraphStore, text: str, expected: list[tuple[str, str, float]]) -> None:
    search_world(store)
    hits = store.ask(SEARCH, SearchQuery(text))
    assert [(h.label, h.key, h.score) for h in hits] == expected


def test_search_hits_carry_names_and_stop_at_the_limit(store: GraphStore) -> None:
    search_world(store)
    hits = store.ask(SEARCH, SearchQuery("acme", limit=2))
    assert [(h.label, h.key, h.name) for h in hits] == [
        ("Company", "acme.com", "Acme Corp"), ("Person", "ada@acme.com", "Ada Lovelace")]
    (content,) = store.ask(SEARCH, SearchQuery("playbook"))
    assert content.name == "The CRM Playbook"


@pytest.mark.parametrize(("query", "match"), [
    (SearchQuery(""), "blank"), (SearchQuery("  \t"), "blank"),
    (SearchQuery("!?"), "no letters"), (SearchQuery("ada", limit=0), "limit"),
    (SearchQuery("ada", limit=101), "limit"),
])
def test_search_refusals(store: GraphStore, query: SearchQuery, match: str) -> None:
    with pytest.raises(QueryError, match=match):
        store.ask(SEARCH, query)


def test_the_async_path_gives_the_same_answers(store: GraphStore) -> None:
    import asyncio

    card_world(store)

    async def ask() -> tuple[Any, ...]:
        found = (await store.ask_async(SEARCH, SearchQuery("ann")),
                 await store.ask_async(TRIGGERS, TriggerQuery(SINCE, as_of=AS_OF)),
                 await store.ask_async(WARM_PATHS, WarmPathQuery("me@us.io", "you@us.io")))
        await store.aclose()  # the Neo4j store's async driver belongs to this event loop
        return found

    hits, page, found = asyncio.run(ask())
    assert [(h.label, h.key, h.score) for h in hits] == [("Person", "ann@a.com", 3.0)]
    assert page == store.ask(TRIGGERS, TriggerQuery(SINCE, as_of=AS_OF))
    assert [[s.person_id for s in p.people] for p in found] == [
        ["me@us.io", "ann@a.com", "you@us.io"]]

# --- plans: each question starts where it means to (the real Neo4j only) ------------------------

def _operators(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(operator, details) in the order rows flow: each child (left first) before its parent."""
    found = [op for child in plan.get("children", []) for op in _operators(child)]
    return [*found, (plan["operatorType"].split("@")[0], str(plan["args"].get("Details", "")))]


@pytest.mark.parametrize(("question", "query", "anchor", "on"), [
    (WARM_PATHS, WarmPathQuery("me@us.io", "ann@a.com", 4), "NodeUniqueIndexSeek", ":Person(id)"),
    (TRIGGERS, TriggerQuery(SINCE), "NodeIndexSeekByRange", "t:Trigger(at)"),
    (TRIGGERS, TriggerQuery(SINCE, person="me@us.io"), "NodeIndexSeekByRange", "t:Trigger(at)"),
    (PEOPLE, PeopleQuery(("ann@a.com",)), "NodeUniqueIndexSeek", "p:Person(id)"),
    (PEOPLE, PeopleQuery(("ann@a.com",), brief=True), "NodeUniqueIndexSeek", "p:Person(id)"),
    (COMPANY_CARDS, CompaniesQuery(("a.com",)), "NodeUniqueIndexSeek", "co:Company(id)"),
    (CONNECTIONS, ConnectionsQuery(("ann@a.com",)), "NodeUniqueIndexSeek", "p:Person(id)"),
    # No index can serve CONTAINS on a lower-cased property: search scans (see search.py).
    (SEARCH, SearchQuery("ann"), "NodeByLabelScan", "n:Person"),
], ids=["warm-paths", "triggers-team", "triggers-person", "people", "people-brief", "companies",
        "connections", "search"])
def test_each_question_is_anchored_as_intended(neo4j_store: GraphStore, question: Any,
                                               query: Any, anchor: str, on: str) -> None:
    neo4j_store.delete_all()
    card_world(neo4j_store)
    cypher = question.cypher(question.prepare(query))
    driver = neo4j_store._driver  # type: ignore[attr-defined]
    with driver.session(database=neo4j_store.database) as session:  # type: ignore[attr-defined]
        plan = session.run("CYPHER replan=force EXPLAIN " + cypher.text, cypher.params
                           ).consume().plan
    operators = _operators(plan)
    finders = [(op, details) for op, details in operators if "Seek" in op or "Scan" in op]
    first, details = finders[0]
    assert (first, on in details) == (anchor, True), finders
    assert not any(op == "AllNodesScan" for op, _ in operators)
    if question is not SEARCH:
        assert not any(op == "NodeByLabelScan" for op, _ in operators), operators
    if question in (PEOPLE, COMPANY_CARDS, CONNECTIONS):
        # One seek per key, never a range seek of every concern or trigger per key.
        assert not any(op == "NodeIndexSeekByRange" for op, _ in operators), operators


@pytest.mark.parametrize("query", [demo_query(), demo_query(person="me@us.io"),
                                   demo_query(content_kind="white_paper")],
                         ids=["team", "person", "kind"])
def test_readers_start_from_the_concerns_in_the_window(neo4j_store: GraphStore,
                                                       query: Any) -> None:
    """Question a starts from its selective side: the concerns about the topic inside the
    window (the topic's key, or the Concern.at range), never from the team's KNOWS, the
    people, or the reads."""
    neo4j_store.delete_all()
    card_world(neo4j_store)
    for question in (READERS, COMPANIES):
        cypher = question.cypher(question.prepare(query))
        driver = neo4j_store._driver  # type: ignore[attr-defined]
        with driver.session(database=neo4j_store.database) as session:  # type: ignore
            plan = session.run("CYPHER replan=force EXPLAIN " + cypher.text, cypher.params
                               ).consume().plan
        operators = _operators(plan)
        finders = [(op, details) for op, details in operators if "Seek" in op or "Scan" in op]
        first, details = finders[0]
        assert (first, ":Topic(id)" in details) == ("NodeUniqueIndexSeek", True) or (
            first, "k:Concern(at)" in details) == ("NodeIndexSeekByRange", True), finders
        assert not any(op in ("AllNodesScan", "NodeByLabelScan") for op, _ in operators)


def test_search_candidates_never_lose_a_match(neo4j_store: GraphStore) -> None:
    """Neo4j narrows search candidates with `candidate_pattern` on each field's NFKD form: for
    every character that folding changes, alone and between other words, each word (and first
    letter) of the folded field must pass, or Neo4j would miss what the embedded store finds."""
    fields = [field for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF
              for c in (chr(cp),) if fold(c) != c
              for field in (c, f"Ab{c}9", f"{c}{c} x")]
    rows = [{"f": field, "p": candidate_pattern(w)} for field in fields
            for token in words(field) for w in {token, token[:1]}]
    assert len(rows) > 10_000
    with neo4j_store._driver.session(  # type: ignore[attr-defined]
            database=neo4j_store.database) as session:  # type: ignore[attr-defined]
        missed = session.run("UNWIND $rows AS r WITH r WHERE NOT normalize(r.f, NFKD) =~ r.p "
                             "RETURN collect(r) AS missed", rows=rows).single(strict=True)
    assert missed["missed"] == []
