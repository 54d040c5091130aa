"""Buying triggers: which companies just had one (a funding round, a new VP …), and who we know
there.

The rules, in words:
- A trigger counts when a company HAD_TRIGGER it at a moment inside [since, as_of], both ends
  included, and (when `types` is given) its type is one of them. `as_of` defaults to now; types
  are checked against the schema's trigger types.
- One answer per trigger and company (a trigger shared by two companies, an acquisition say,
  is answered once for each), newest first, then trigger id, then company id.
- `known`: the people working at that company at `as_of` (graph/model.py `is_current`: someone
  who left before `as_of` is not known *there*) whom our side knows. Our side is `person`, or
  with None our team: everyone working at a company flagged own at `as_of`; people on our side
  are never answers themselves. Each comes with their title there (the job's title, else the
  title stored on the person), who on our side knows them and the strongest such KNOWS
  (graph/questions/contacts.py), strongest first.
- With `where_we_know_someone` (the default) only triggers where `known` is not empty count.
- Paged: `limit` (1..1000) answers from `offset`, with the total.

Anchored on the triggers inside the window (the index on Trigger.at), then their companies and
the people there; starting from the team would walk everyone the team knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph.errors import NodeNotFound
from graph.model import MAX_LIMIT, QueryError, as_utc, is_current, person_key
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import KnownContact, contact, current, sort_contacts
from graph.questions.readers import Page
from graph.schema import TRIGGER_TYPES
from graph.view import GraphView, Node


@dataclass(frozen=True, slots=True)
class TriggerQuery:
    since: datetime
    types: tuple[str, ...] | None = None  # None: every type
    where_we_know_someone: bool = True
    as_of: datetime | None = None
    person: str | None = None  # whose contacts count; None: our team's
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TriggerMatch:
    trigger_id: str
    type: str
    at: datetime
    headline: str | None
    details: str | None
    source_url: str | None
    amount: float | None
    currency: str | None
    round: str | None
    company_id: str
    company_name: str | None
    topics: tuple[str, ...]
    known: tuple[KnownContact, ...]


def _prepare(q: TriggerQuery) -> TriggerQuery:
    if q.since is None or q.since.tzinfo is None:
        raise QueryError("since must carry a timezone")
    since, as_of = as_utc(q.since), as_utc(q.as_of)
    if since > as_of:
        raise QueryError(f"since ({since.isoformat()}) is after as_of ({as_of.isoformat()})")
    types = None
    if q.types is not None:
        unknown = sorted(set(q.types) - TRIGGER_TYPES)
        if unknown or not q.types:
            raise QueryError(
                f"unknown trigger type {', '.join(map(repr, unknown)) or '(none given)'}; "
                f"one or more of {', '.join(sorted(TRIGGER_TYPES))}, or None for all")
        types = tuple(sorted(set(q.types)))
    if not 1 <= q.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {q.limit}")
    if q.offset < 0:
        raise QueryError(f"offset must not be negative, got {q.offset}")
    person = person_key(q.person) if q.person is not None else None
    return TriggerQuery(since, types, bool(q.where_we_know_someone), as_of, person, q.limit,
                        q.offset)


_ANCHOR = """MATCH (t:Trigger)
WHERE $since <= t.at <= $as_of AND ($types IS NULL OR t.type IN $types)
MATCH (co:Company)-[:HAD_TRIGGER]->(t)
CALL (co) {
  MATCH (co)<-[w:WORKS_AT]-(p:Person)
  WHERE """ + current("w") + "\n"

_VIA_PERSON = """  MATCH (p)-[k:KNOWS]-(s:Person {id: $person})
"""



def _on_team(v: str) -> str:
    return f"EXISTS {{ MATCH ({v})-[o:WORKS_AT]->(:Company {{own: true}}) WHERE {current('o')} }}"


_VIA_TEAM = f"""    AND NOT {_on_team("p")}
  MATCH (p)-[k:KNOWS]-(s:Person)
  WHERE {_on_team("s")}
"""

_TAIL = """  WITH p, w, collect({id: s.id, strength: k.strength}) AS links
  RETURN collect({person_id: p.id, name: p.name, title: coalesce(w.title, p.title),
                  links: links}) AS known
}
WITH t, co, known WHERE NOT $where_known OR size(known) > 0
ORDER BY t.at DESC, t.id, co.id
WITH collect({
  trigger: t {.id, .type, .at, .headline, .details, .source_url, .amount, .currency, .round},
  company_id: co.id, company_name: co.name, known: known,
  topics: [(t)-[:ABOUT]->(tp:Topic) | tp.id]}) AS rows
RETURN size(rows) AS total, rows[$offset..$offset + $limit] AS items,
  $person IS NULL OR EXISTS { MATCH (:Person {id: $person}) } AS seed_found"""


def cypher(q: TriggerQuery) -> Cypher:
    """Fixed clauses chosen by whether one person or the team is our side, never by user text."""
    via = _VIA_PERSON if q.person is not None else _VIA_TEAM
    return Cypher(_ANCHOR + via + _TAIL, {
        "since": q.since, "as_of": q.as_of, "types": list(q.types) if q.types else None,
        "where_known": q.where_we_know_someone, "person": q.person,
        "offset": q.offset, "limit": q.limit})


def _match(t: Record, company_id: str, company_name: str | None, topics: Sequence[str],
           known: Sequence[KnownContact]) -> TriggerMatch:
    return TriggerMatch(
        trigger_id=t["id"], type=t["type"], at=t["at"], headline=t.get("headline"),
        details=t.get("details"), source_url=t.get("source_url"), amount=t.get("amount"),
        currency=t.get("currency"), round=t.get("round"), company_id=company_id,
        company_name=company_name, topics=tuple(sorted(topics)), known=sort_contacts(known))


def from_records(q: TriggerQuery, records: Sequence[Record]) -> Page:
    (r,) = records
    if not r["seed_found"]:
        assert q.person is not None
        raise NodeNotFound("Person", q.person)
    return Page(r["total"], tuple(
        _match(i["trigger"], i["company_id"], i["company_name"], i["topics"], [
            contact(k["person_id"], k["name"], k["title"],
                    [(link["id"], link["strength"]) for link in k["links"]])
            for k in i["known"]])
        for i in r["items"]))


def _known_at(view: GraphView, company: Node, side: set[Node],
              as_of: datetime) -> list[KnownContact]:
    known = []
    for person, w in view.into(company, "WORKS_AT"):
        if person in side or not is_current(w.get("since"), w.get("until"), as_of):
            continue
        links = [(s[1], k.get("strength")) for s, k in view.both(person, "KNOWS") if s in side]
        if links:
            attrs = view.attrs(person)
            title = w.get("title")
            known.append(contact(person[1], attrs.get("name"),
                                 attrs.get("title") if title is None else title, links))
    return known


def embedded(view: GraphView, q: TriggerQuery) -> Page:
    assert q.as_of is not None
    if q.person is not None:
        seed = ("Person", q.person)
        if not view.has(seed):
            raise NodeNotFound("Person", q.person)
        side = {seed}
    else:
        side = view.team(q.as_of)
    found: list[TriggerMatch] = []
    for key in view.keys("Trigger"):
        trigger = ("Trigger", key)
        t = view.attrs(trigger)
        if not q.since <= t["at"] <= q.as_of or (q.types and t["type"] not in q.types):
            continue
        for company, _ in view.into(trigger, "HAD_TRIGGER"):
            known = _known_at(view, company, side, q.as_of)
            if known or not q.where_we_know_someone:
                found.append(_match({"id": key, **t}, company[1], view.attrs(company).get("name"),
                                    view.topics(trigger), known))
    found.sort(key=lambda m: (-m.at.timestamp(), m.trigger_id, m.company_id))
    return Page(len(found), tuple(found[q.offset:q.offset + q.limit]))


TRIGGERS: Question[TriggerQuery, Page] = Question(
    "triggers", _prepare, cypher, from_records, embedded)

__all__ = ["TRIGGERS", "KnownContact", "TriggerMatch", "TriggerQuery"]

