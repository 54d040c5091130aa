"""Audience interest (graph/questions/interest.py): who among our contacts and customers read about,
or raised concerns on, each topic — the same counts on every store."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from graph.model import QueryError
from graph.questions.interest import INTEREST, InterestQuery, TopicInterest
from graph.store import GraphStore
from tests.conformance.helpers import AS_OF, at

SINCE = AS_OF - timedelta(days=30)


def world(store: GraphStore) -> None:
    """me@us.io is our team (us.io is own); old@us.io left us.io on 15 October. Audience:
    - ann@a.com, known by me (either direction counts);
    - bob@b.com, works at b.com, a Customer's account (B2B);
    - cy@home.net, a Customer's account herself (B2C);
    - dee@b.com worked at b.com until 1 September: a customer's person until then only;
    - eve@e.com, known only by old@us.io: ours until old left the team;
    - zed@z.com, nobody's: never counted; me@us.io (team) never counted either."""
    store.upsert_nodes("Company", [
        {"id": "us.io", "own": True}, {"id": "a.com"}, {"id": "b.com", "customer": True},
        {"id": "e.com"}, {"id": "z.com"}], source="t")
    store.upsert_nodes("Person", [{"id": p} for p in (
        "me@us.io", "old@us.io", "ann@a.com", "bob@b.com", "cy@home.net", "dee@b.com",
        "eve@e.com", "zed@z.com")], source="t")
    store.upsert_nodes("Customer", [{"id": "company:b.com"}, {"id": "person:cy@home.net"}],
                       source="t")
    store.upsert_relationships("ACCOUNT_OF", [{"from": "company:b.com", "to": "b.com"}],
                               source="t", to_label="Company")
    store.upsert_relationships("ACCOUNT_OF", [{"from": "person:cy@home.net",
                                               "to": "cy@home.net"}],
                               source="t", to_label="Person")
    store.upsert_relationships("WORKS_AT", [
        {"from": "me@us.io", "to": "us.io"},
        {"from": "old@us.io", "to": "us.io", "until": "2026-10-15T00:00:00Z"},
        {"from": "ann@a.com", "to": "a.com"}, {"from": "bob@b.com", "to": "b.com"},
        {"from": "dee@b.com", "to": "b.com", "until": "2026-09-01T00:00:00Z"},
        {"from": "eve@e.com", "to": "e.com"}, {"from": "zed@z.com", "to": "z.com"}],
        source="t")
    store.upsert_relationships("KNOWS", [
        {"from": "ann@a.com", "to": "me@us.io"}, {"from": "eve@e.com", "to": "old@us.io"}],
        source="t")
    store.upsert_nodes("Topic", [{"id": t} for t in ("churn", "crm", "onboarding", "pricing")],
                       source="t")
    store.upsert_nodes("Content", [{"id": f"https://x.org/{n}"} for n in ("churn1", "churn2",
                                                                          "crm", "old")],
                       source="t")
    store.upsert_relationships("ABOUT", [
        {"from": "https://x.org/churn1", "to": "churn"},
        {"from": "https://x.org/churn2", "to": "churn"},
        {"from": "https://x.org/churn2", "to": "crm"},
        {"from": "https://x.org/crm", "to": "crm"},
        {"from": "https://x.org/old", "to": "onboarding"}], source="t", from_label="Content")

    def read(person: str, page: str, first: str, last: str | None = None,
             channel: str = "web") -> dict[str, str]:
        return {"from": person, "to": f"https://x.org/{page}", "first_at": first,
                "last_at": last or first, "channel": channel}

    store.upsert_relationships("READ", [
        read("ann@a.com", "churn1", "2026-10-10T00:00:00Z"),
        read("ann@a.com", "churn2", "2026-10-11T00:00:00Z"),  # twice about churn: one reader
        read("bob@b.com", "churn2", "2026-08-01T00:00:00Z", "2026-10-02T00:00:00Z"),  # overlaps
        read("cy@home.net", "crm", "2026-11-01T00:00:00Z", channel="newsletter"),  # at as_of
        read("dee@b.com", "churn1", "2026-10-10T00:00:00Z"),  # left b.com: not a customer now
        read("dee@b.com", "churn2", "2026-08-10T00:00:00Z"),  # while still at b.com
        read("eve@e.com", "churn1", "2026-10-10T00:00:00Z"),  # known by an ex-teammate only
        read("zed@z.com", "churn1", "2026-10-10T00:00:00Z"),  # nobody's
        read("me@us.io", "churn1", "2026-10-10T00:00:00Z"),  # the team itself
        read("ann@a.com", "old", "2026-08-01T00:00:00Z", "2026-09-30T23:59:59Z"),  # before
        read("ann@a.com", "crm", "2026-11-01T00:00:01Z"),  # after as_of
    ], source="t")
    store.upsert_nodes("Concern", [
        {"id": "k1", "text": "may leave", "at": "2026-10-20T00:00:00Z"},
        {"id": "k2", "text": "leaving?", "at": "2026-10-21T00:00:00Z"},
        {"id": "k3", "text": "too dear", "at": "2026-10-02T00:00:00Z"},  # exactly at since
        {"id": "k4", "text": "old news", "at": "2026-09-01T00:00:00Z"},  # before the window
        {"id": "k5", "text": "stranger", "at": "2026-10-20T00:00:00Z"}], source="t")
    store.upsert_relationships("ABOUT", [
        {"from": "k1", "to": "churn"}, {"from": "k2", "to": "churn"},
        {"from": "k3", "to": "pricing"}, {"from": "k4", "to": "pricing"},
        {"from": "k5", "to": "churn"}], source="t", from_label="Concern")
    store.upsert_relationships("RAISED", [
        {"from": "bob@b.com", "to": "k1"}, {"from": "bob@b.com", "to": "k2"},
        {"from": "cy@home.net", "to": "k3"}, {"from": "ann@a.com", "to": "k4"},
        {"from": "zed@z.com", "to": "k5"}], source="t")


def ask(store: GraphStore, *topics: str, since: object = SINCE,
        as_of: object = AS_OF) -> dict[str, tuple[int, int]]:
    answer = store.ask(INTEREST, InterestQuery(tuple(topics), since, as_of))  # type: ignore[arg-type]
    assert all(isinstance(v, TopicInterest) and v.topic == k for k, v in answer.items())
    return {k: (v.readers, v.concerned) for k, v in answer.items()}


def test_interest_counts_distinct_audience_people(store: GraphStore) -> None:
    world(store)
    assert ask(store, "churn", "crm", "onboarding", "pricing", "nothing-here") == {
        "churn": (2, 1),  # ann (known) and bob (customer) read; bob raised two concerns
        "crm": (3, 0),  # churn2 is about crm too (ann; bob's span reached into the window),
        # and cy read at as_of; ann's read just after as_of does not count
        "onboarding": (0, 0),  # ann read it, but before the window
        "pricing": (0, 1),  # cy's concern at the window's first instant counts, ann's is old
        "nothing-here": (0, 0),  # a topic the graph does not hold
    }


def test_interest_window_and_topic_spellings(store: GraphStore) -> None:
    world(store)
    # Topics are normalised as keys are, duplicates asked once; order kept.
    assert list(ask(store, "CRM", "crm", "Churn")) == ["crm", "churn"]
    # A later window: only what overlaps it.
    late = ask(store, "churn", "crm", since=at("2026-10-15T00:00:00Z"))
    assert late == {"churn": (0, 1), "crm": (1, 0)}
    # Earlier as_of: old@us.io was still on the team, so eve counts; cy's read is after it;
    # dee had left b.com by then.
    early = ask(store, "churn", "crm", "onboarding", since=at("2026-04-01T00:00:00Z"),
                as_of=at("2026-10-12T00:00:00Z"))
    assert early == {"churn": (3, 0), "crm": (2, 0), "onboarding": (1, 0)}
    # In August dee still worked at the customer b.com: her read then counts (and bob's span).
    august = ask(store, "churn", since=at("2026-08-01T00:00:00Z"),
                 as_of=at("2026-08-15T00:00:00Z"))
    assert august == {"churn": (2, 0)}
    assert ask(store) == {}


def test_interest_counts_newsletter_reads_like_any_other(store: GraphStore) -> None:
    world(store)
    before = ask(store, "onboarding")
    store.upsert_relationships("READ", [
        {"from": "bob@b.com", "to": "https://x.org/old", "first_at": "2026-10-30T00:00:00Z",
         "last_at": "2026-10-30T00:00:00Z", "channel": "newsletter"}], source="clicks")
    assert before == {"onboarding": (0, 0)}
    assert ask(store, "onboarding") == {"onboarding": (1, 0)}


@pytest.mark.parametrize(("kw", "message"), [
    ({"since": at("2026-11-02T00:00:00Z")}, "is after as_of"),
    ({"since": AS_OF.replace(tzinfo=None)}, "timezone"),
    ({"topics": "churn"}, "not one string"),
    ({"topics": ("!!!",)}, "topic '!!!'"),
])
def test_interest_refuses_bad_questions(store: GraphStore, kw: dict[str, object],
                                        message: str) -> None:
    args: dict[str, object] = {"topics": ("churn",), "since": SINCE, "as_of": AS_OF, **kw}
    with pytest.raises(QueryError, match=message):
        store.ask(INTEREST, InterestQuery(**args))  # type: ignore[arg-type]


def test_interest_cypher_depends_on_nothing_the_user_writes() -> None:
    """One fixed text: topics and moments travel only as parameters (checked without a store)."""
    from graph.questions.interest import cypher

    nasty = "x'}) MATCH (n) DETACH DELETE n //"
    plain = INTEREST.cypher(INTEREST.prepare(InterestQuery(("churn",), SINCE, AS_OF)))
    other = cypher(InterestQuery((nasty, "crm"), SINCE - timedelta(days=1), AS_OF))
    assert plain.text == other.text and "DETACH" not in other.text
    assert set(re.findall(r"\$(\w+)", plain.text)) == set(plain.params)
