"""Batch look-ups for the API's DataLoaders: many keys, one Cypher round trip (UNWIND $keys, a
unique index seek per key) or one embedded pass.

The rules, in words:
- Keys are normalised the way stored keys are (people: graph.model.person_key, so e-mails in any
  case; companies: graph.keys.company_key, no alias resolution). The answer is a dict keyed by
  the NORMALISED key: a caller maps its own keys through the same normaliser to find them. Keys
  that name nothing, or cannot be a key at all, are simply absent (one bad key in a batch must
  not fail the others).
- PersonCard, as of `as_of` (default now): current jobs (sorted by company id) and past ones
  (ended at or before as_of, latest end first) as in the person profile; connections counts
  the people they KNOW; `known_by` the people on our team at as_of who know them, with that
  KNOWS's strength, strongest first (their `via` is empty: they are our side);
  `open_concerns` the concerns they raised inside [as_of - 90 days, as_of] that are still open
  at as_of, newest first, with their topics. A concern is closed when its status is solved or
  closed (any case) and it was solved at or before as_of, or its source did not say when (a
  Zendesk ticket solved on the 5th was open on the 4th); every other status, or none (a call
  note), is open. `title` is their current job's title, else the title stored on them.
  A `brief` query gives only what the node and its jobs say (name, e-mail, title, properties,
  current and past jobs; the card says `brief`, connections 0, known_by and open_concerns
  empty): what a name in a list needs. It costs the same for someone who knows thousands
  (a team member) as for someone who knows five; the full card walks all their KNOWS.
- CompanyCard, as of `as_of`: flags set true (alphabetical); people_now those working there at
  as_of, people_before those whose job there ended at or before as_of and who are not back
  (both sorted by id); the Customer accounts of it (by id); its triggers up to as_of, newest
  first, then id. `domain` is the stored domain, else the key when it is a domain.
- Connections: each person's KNOWS neighbours with that relationship's strength, strongest first
  (unknown last), then id, at most `limit` (1..1000) each; their `via` is the person asked
  about, their title as of `as_of` (default now).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graph import keys as keys_
from graph.model import (
    MAX_LIMIT,
    ConcernEvidence,
    Employment,
    QueryError,
    as_utc,
    build_profile,
    is_current,
    shown_email,
)
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import (
    KnownContact,
    contact_order,
    current,
    employment,
    jobs_cypher,
    role,
    sort_contacts,
    title_of,
)
from graph.schema import COMPANY_FLAGS
from graph.view import GraphView, Node

OPEN_CONCERNS = timedelta(days=90)
CLOSED_STATUSES = ("solved", "closed")  # a concern's status, lower-cased


def is_open(status: str | None, solved_at: datetime | None, as_of: datetime) -> bool:
    """Whether a concern is still open at as_of (the rule in the module doc)."""
    if (status or "").lower() not in CLOSED_STATUSES:
        return True
    return solved_at is not None and solved_at > as_of


def _normalised(raw: Iterable[str], normalise: Callable[[str], str]) -> tuple[str, ...]:
    """Each key in its stored form, once; keys that cannot be keys are dropped."""
    out: dict[str, None] = {}
    for key in raw:
        try:
            out[normalise(key)] = None
        except (ValueError, TypeError, AttributeError):
            continue
    return tuple(out)


def _props(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(attrs.items())
            if k != "id"}


def _title(stored: str | None, jobs: Iterable[Employment], as_of: datetime) -> str | None:
    return title_of(role(jobs, as_of), stored)


# --- people ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PeopleQuery:
    keys: tuple[str, ...]
    as_of: datetime | None = None
    brief: bool = False  # only the node and its jobs (see above)


@dataclass(frozen=True, slots=True)
class PersonCard:
    person_id: str
    name: str | None
    email: str | None
    title: str | None
    properties: dict[str, Any]
    current: tuple[Employment, ...]
    past: tuple[Employment, ...]
    connections: int
    known_by: tuple[KnownContact, ...]
    open_concerns: tuple[ConcernEvidence, ...]
    brief: bool = False  # connections, known_by and open_concerns were not looked up


def _prepare_people(q: PeopleQuery) -> PeopleQuery:
    return PeopleQuery(_normalised(q.keys, keys_.person_key), as_utc(q.as_of), bool(q.brief))


_TEAM_MEMBER = ("EXISTS { MATCH (s)-[o:WORKS_AT]->(:Company {own: true}) WHERE "
                + current("o") + " }")

PEOPLE_CYPHER = f"""UNWIND $keys AS key
MATCH (p:Person {{id: key}})
RETURN p {{.*}} AS person,
  [(p)-[w:WORKS_AT]->(co:Company) |
   {{company_id: co.id, name: co.name, title: w.title, since: w.since, until: w.until}}] AS jobs,
  COUNT {{ (p)-[:KNOWS]-(:Person) }} AS connections,
  [(p)-[k:KNOWS]-(s:Person) WHERE {_TEAM_MEMBER} |
   {{id: s.id, name: s.name, title: s.title, strength: k.strength,
    jobs: {jobs_cypher("s", "j", "c")}}}] AS known_by,
  [k IN [(p)-[:RAISED]->(k:Concern) | k] WHERE $concerns_since <= k.at <= $as_of
     AND NOT (toLower(coalesce(k.status, '')) IN $closed
          AND coalesce(k.solved_at <= $as_of, true)) |
   {{concern_id: k.id, text: k.text, channel: k.channel, at: k.at,
    topics: [(k)-[:ABOUT]->(t:Topic) | t.id]}}] AS concerns"""
# The windows (concerns, triggers) filter lists of the key's own nodes: written as a pattern's
# WHERE, the planner may seek the Concern.at index for every key instead (every concern of the
# last 90 days, per person asked about) and only then check that the person raised it.

PEOPLE_BRIEF_CYPHER = """UNWIND $keys AS key
MATCH (p:Person {id: key})
RETURN p {.*} AS person,
  [(p)-[w:WORKS_AT]->(co:Company) |
   {company_id: co.id, name: co.name, title: w.title, since: w.since, until: w.until}] AS jobs,
  0 AS connections, [] AS known_by, [] AS concerns"""


def _people_cypher(q: PeopleQuery) -> Cypher:
    assert q.as_of is not None
    return Cypher(PEOPLE_BRIEF_CYPHER if q.brief else PEOPLE_CYPHER, {
        "keys": list(q.keys), "as_of": q.as_of, "concerns_since": q.as_of - OPEN_CONCERNS,
        "closed": list(CLOSED_STATUSES)})


def _card(person: dict[str, Any], jobs: list[Employment], connections: int,
          known_by: list[KnownContact], concerns: list[ConcernEvidence],
          as_of: datetime, brief: bool = False) -> PersonCard:
    profile = build_profile(person, jobs, connections, [], concerns, as_of)
    key = person["id"]
    return PersonCard(
        person_id=key, name=profile.name, email=shown_email(person.get("email"), key),
        title=_title(person.get("title"), jobs, as_of),
        properties=profile.properties, current=profile.current, past=profile.past,
        connections=connections, known_by=sort_contacts(known_by),
        open_concerns=profile.concerns, brief=brief)


def _people_from_records(q: PeopleQuery, records: Sequence[Record]) -> dict[str, PersonCard]:
    assert q.as_of is not None
    as_of = q.as_of
    cards = {}
    for r in records:
        known_by = [
            KnownContact(s["id"], s["name"],
                         _title(s["title"], [employment(j) for j in s["jobs"]], as_of), (),
                         s["strength"])
            for s in r["known_by"]]
        concerns = [ConcernEvidence(c["concern_id"], c["text"], c["channel"], c["at"],
                                    tuple(sorted(c["topics"]))) for c in r["concerns"]]
        card = _card(r["person"], [employment(j) for j in r["jobs"]], r["connections"],
                     known_by, concerns, as_of, q.brief)
        cards[card.person_id] = card
    return cards


def _people_embedded(view: GraphView, q: PeopleQuery) -> dict[str, PersonCard]:
    assert q.as_of is not None
    as_of, since = q.as_of, q.as_of - OPEN_CONCERNS
    team = view.team(as_of)
    cards = {}
    for key in q.keys:
        person = ("Person", key)
        attrs = view.node(*person)
        if attrs is None:
            continue
        if q.brief:
            cards[key] = _card({"id": key, **attrs}, view.jobs(person), 0, [], [], as_of, True)
            continue
        neighbours = list(view.both(person, "KNOWS"))
        known_by = [
            KnownContact(s[1], view.attrs(s).get("name"),
                         _title(view.attrs(s).get("title"), view.jobs(s), as_of), (),
                         k.get("strength"))
            for s, k in neighbours if s in team]
        concerns = [
            ConcernEvidence(c[1], a["text"], a.get("channel"), a["at"], view.topics(c))
            for c, _ in view.out(person, "RAISED") for a in (view.attrs(c),)
            if since <= a["at"] <= as_of
            and is_open(a.get("status"), a.get("solved_at"), as_of)]
        cards[key] = _card({"id": key, **attrs}, view.jobs(person),
                           len({s for s, _ in neighbours}), known_by, concerns, as_of)
    return cards


PEOPLE: Question[PeopleQuery, dict[str, PersonCard]] = Question(
    "people", _prepare_people, _people_cypher, _people_from_records, _people_embedded)


# --- companies ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CompaniesQuery:
    keys: tuple[str, ...]
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    customer_id: str
    plan: str | None
    mrr: float | None
    status: str | None
    churned: bool | None

    @property
    def id(self) -> str:
        return self.customer_id


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    trigger_id: str
    type: str
    at: datetime
    headline: str | None


@dataclass(frozen=True, slots=True)
class CompanyCard:
    company_id: str
    name: str | None
    domain: str | None
    flags: tuple[str, ...]
    properties: dict[str, Any]
    people_now: tuple[str, ...]
    people_before: tuple[str, ...]
    customers: tuple[CustomerInfo, ...]
    triggers: tuple[TriggerInfo, ...]


def _prepare_companies(q: CompaniesQuery) -> CompaniesQuery:
    return CompaniesQuery(_normalised(q.keys, keys_.company_key), as_utc(q.as_of))


COMPANIES_CYPHER = """UNWIND $keys AS key
MATCH (co:Company {id: key})
RETURN co {.*} AS company,
  [(p:Person)-[w:WORKS_AT]->(co) | {id: p.id, since: w.since, until: w.until}] AS staff,
  [(cu:Customer)-[:ACCOUNT_OF]->(co) |
   {id: cu.id, plan: cu.plan, mrr: cu.mrr, status: cu.status, churned: cu.churned}] AS customers,
  [t IN [(co)-[:HAD_TRIGGER]->(t:Trigger) | t] WHERE t.at <= $as_of |
   {id: t.id, type: t.type, at: t.at, headline: t.headline}] AS triggers"""


def _companies_cypher(q: CompaniesQuery) -> Cypher:
    return Cypher(COMPANIES_CYPHER, {"keys": list(q.keys), "as_of": q.as_of})


def _company_card(company: dict[str, Any], staff: Iterable[tuple[str, datetime | None,
                                                                 datetime | None]],
                  customers: Iterable[CustomerInfo], triggers: Iterable[TriggerInfo],
                  as_of: datetime) -> CompanyCard:
    key = company["id"]
    now, before = set(), set()
    for person, since, until in staff:
        if is_current(since, until, as_of):
            now.add(person)
        elif until is not None and until <= as_of:
            before.add(person)
    domain = company.get("domain")
    if domain is None and keys_.is_domain_key(key):
        domain = key
    return CompanyCard(
        company_id=key, name=company.get("name"), domain=domain,
        flags=tuple(sorted(f for f in COMPANY_FLAGS if company.get(f) is True)),
        properties=_props(company), people_now=tuple(sorted(now)),
        people_before=tuple(sorted(before - now)),
        customers=tuple(sorted(customers, key=lambda c: c.customer_id)),
        triggers=tuple(sorted(triggers, key=lambda t: (-t.at.timestamp(), t.trigger_id))))


def _companies_from_records(q: CompaniesQuery,
                            records: Sequence[Record]) -> dict[str, CompanyCard]:
    assert q.as_of is not None
    cards = {}
    for r in records:
        card = _company_card(
            r["company"], [(s["id"], s["since"], s["until"]) for s in r["staff"]],
            [CustomerInfo(c["id"], c["plan"], c["mrr"], c["status"], c["churned"])
             for c in r["customers"]],
            [TriggerInfo(t["id"], t["type"], t["at"], t["headline"]) for t in r["triggers"]],
            q.as_of)
        cards[card.company_id] = card
    return cards


def _companies_embedded(view: GraphView, q: CompaniesQuery) -> dict[str, CompanyCard]:
    assert q.as_of is not None
    cards = {}
    for key in q.keys:
        company = ("Company", key)
        attrs = view.node(*company)
        if attrs is None:
            continue
        staff = [(p[1], w.get("since"), w.get("until"))
                 for p, w in view.into(company, "WORKS_AT")]
        customers = [
            CustomerInfo(c[1], a.get("plan"), a.get("mrr"), a.get("status"), a.get("churned"))
            for c, _ in view.into(company, "ACCOUNT_OF") for a in (view.attrs(c),)]
        triggers = [
            TriggerInfo(t[1], a["type"], a["at"], a.get("headline"))
            for t, _ in view.out(company, "HAD_TRIGGER") for a in (view.attrs(t),)
            if a["at"] <= q.as_of]
        cards[key] = _company_card({"id": key, **attrs}, staff, customers, triggers, q.as_of)
    return cards


COMPANY_CARDS: Question[CompaniesQuery, dict[str, CompanyCard]] = Question(
    "company cards", _prepare_companies, _companies_cypher, _companies_from_records,
    _companies_embedded)


# --- connections ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConnectionsQuery:
    keys: tuple[str, ...]
    limit: int = 50
    as_of: datetime | None = None  # whose titles are shown (default: now)


def _prepare_connections(q: ConnectionsQuery) -> ConnectionsQuery:
    if not 1 <= q.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {q.limit}")
    return ConnectionsQuery(_normalised(q.keys, keys_.person_key), q.limit, as_utc(q.as_of))


# Strength DESC would put unknown strengths first (null sorts last ascending, so first
# descending): -1 is below every strength (they are 0..1).
CONNECTIONS_CYPHER = f"""UNWIND $keys AS key
MATCH (p:Person {{id: key}})
CALL (p) {{
  MATCH (p)-[k:KNOWS]-(o:Person)
  WITH o, k ORDER BY coalesce(k.strength, -1.0) DESC, o.id LIMIT $limit
  RETURN collect({{id: o.id, name: o.name, title: o.title, strength: k.strength,
                  jobs: {jobs_cypher("o", "w", "c")}}}) AS contacts
}}
RETURN p.id AS key, contacts"""


def _connections_cypher(q: ConnectionsQuery) -> Cypher:
    return Cypher(CONNECTIONS_CYPHER, {"keys": list(q.keys), "limit": q.limit, "as_of": q.as_of})


def _connections_from_records(q: ConnectionsQuery, records: Sequence[Record]
                              ) -> dict[str, tuple[KnownContact, ...]]:
    assert q.as_of is not None
    as_of = q.as_of
    return {r["key"]: sort_contacts(
        KnownContact(o["id"], o["name"], _title(o["title"], [employment(j) for j in o["jobs"]],
                                                as_of), (r["key"],), o["strength"])
        for o in r["contacts"]) for r in records}


def _connections_embedded(view: GraphView, q: ConnectionsQuery
                          ) -> dict[str, tuple[KnownContact, ...]]:
    assert q.as_of is not None
    found = {}
    for key in q.keys:
        person: Node = ("Person", key)
        if not view.has(person):
            continue
        contacts = [
            KnownContact(o[1], view.attrs(o).get("name"), None, (key,), k.get("strength"))
            for o, k in view.both(person, "KNOWS")]
        contacts.sort(key=contact_order)
        found[key] = tuple(
            KnownContact(c.person_id, c.name,
                         _title(view.attrs(("Person", c.person_id)).get("title"),
                                view.jobs(("Person", c.person_id)), q.as_of), c.via, c.strength)
            for c in contacts[:q.limit])
    return found


CONNECTIONS: Question[ConnectionsQuery, dict[str, tuple[KnownContact, ...]]] = Question(
    "connections", _prepare_connections, _connections_cypher, _connections_from_records,
    _connections_embedded)

__all__ = [
    "COMPANY_CARDS", "CONNECTIONS", "PEOPLE", "CompaniesQuery", "CompanyCard", "ConnectionsQuery",
    "CustomerInfo", "KnownContact", "PeopleQuery", "PersonCard", "TriggerInfo",
]
