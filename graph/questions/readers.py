"""Questions a and b: connections who read about a topic and recently raised a concern about
another, with the evidence; and the companies where such people work now.

Anchored on the rarest thing asked for: concerns about the topic raised inside the window (an
index on Concern.at; typically a few hundred), then the people who raised them, their reads,
and only then who on our side knows them. Starting from the team instead (team → KNOWS → reads →
concerns) walks everyone the team knows, which on a graph where the team knows nearly everyone
is the whole graph.

The window rules (graph/model.py): a READ counts when its span overlaps [as_of − read window,
as_of]; a concern when raised inside [as_of − concern window, as_of]; a job when current at
as_of. "Our side" is one person (`of`) or everyone currently at a company flagged own; people on
our side are never answers themselves. Answers come most recent concern first, then person id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph.errors import NodeNotFound
from graph.model import (
    SAMPLE_PEOPLE,
    CompanyMatch,
    ConcernEvidence,
    Employment,
    ReaderMatch,
    ReaderQuery,
    ReadEvidence,
    is_current,
    match_order,
    read_overlaps,
    shown_email,
    sort_match,
)
from graph.questions import Cypher, Question, Record
from graph.view import GraphView, Node


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an answer, and how many there are in all."""

    total: int
    items: tuple[Any, ...]


_CURRENT = "(w.since IS NULL OR w.since <= $as_of) AND (w.until IS NULL OR w.until > $as_of)"

_ANCHOR = """MATCH (:Topic {id: $concern_topic})<-[:ABOUT]-(k:Concern)
WHERE $concern_since <= k.at <= $as_of
MATCH (p:Person)-[:RAISED]->(k)
WITH p, collect(DISTINCT k) AS ks
MATCH (p)-[rd:READ]->(c:Content)-[:ABOUT]->(:Topic {id: $read_topic})
WHERE rd.first_at <= $as_of AND rd.last_at >= $read_since
  AND ($content_kind IS NULL OR c.kind = $content_kind)
WITH p, ks, collect(DISTINCT {content_id: c.id, title: c.title, kind: c.kind,
                              first_at: rd.first_at, last_at: rd.last_at,
                              count: coalesce(rd.count, 1)}) AS reads
"""

_VIA_PERSON = """MATCH (p)-[:KNOWS]-(s:Person {id: $person})
WITH p, ks, reads, collect(DISTINCT {id: s.id, name: s.name}) AS via
"""

_VIA_TEAM = f"""WHERE NOT EXISTS {{
  MATCH (p)-[w:WORKS_AT]->(:Company {{own: true}}) WHERE {_CURRENT} }}
MATCH (p)-[:KNOWS]-(s:Person)-[w:WORKS_AT]->(:Company {{own: true}})
WHERE {_CURRENT}
WITH p, ks, reads, collect(DISTINCT {{id: s.id, name: s.name}}) AS via
"""

_READERS_TAIL = f"""WITH p, via, reads, ks,
     reduce(m = null, k IN ks | CASE WHEN m IS NULL OR k.at > m THEN k.at ELSE m END) AS latest
ORDER BY latest DESC, p.id
WITH collect({{p: p, via: via, reads: reads, ks: ks}}) AS rows
WITH size(rows) AS total, rows[$offset..$offset + $limit] AS page
CALL (page) {{
  UNWIND page AS r
  WITH r.p AS p, r.via AS via, r.reads AS reads, r.ks AS ks
  RETURN collect({{
     person_id: p.id, name: p.name, email: p.email, via: via, reads: reads,
     concerns: [k IN ks | {{concern_id: k.id, text: k.text, channel: k.channel, at: k.at,
                           topics: [(k)-[:ABOUT]->(t:Topic) | t.id]}}],
     companies: [(p)-[w:WORKS_AT]->(co:Company) WHERE {_CURRENT} |
                 {{company_id: co.id, name: co.name, title: w.title, since: w.since,
                  until: w.until}}]}}) AS items
}}
RETURN total, items,
  $person IS NULL OR EXISTS {{ MATCH (:Person {{id: $person}}) }} AS seed_found"""

_COMPANIES_TAIL = f"""MATCH (p)-[w:WORKS_AT]->(co:Company)
WHERE {_CURRENT}
WITH co, p ORDER BY p.id
WITH co, collect(DISTINCT p.id) AS ids
ORDER BY size(ids) DESC, co.id
WITH collect({{co: co, ids: ids}}) AS rows
RETURN size(rows) AS total,
  [r IN rows[$offset..$offset + $limit] | {{company_id: r.co.id, name: r.co.name,
     people: size(r.ids), person_ids: r.ids[..$sample]}}] AS items,
  $person IS NULL OR EXISTS {{ MATCH (:Person {{id: $person}}) }} AS seed_found"""


def _params(q: ReaderQuery) -> dict[str, Any]:
    return {
        "person": q.person, "as_of": q.as_of, "read_topic": q.read_topic,
        "concern_topic": q.concern_topic, "read_since": q.read_since,
        "concern_since": q.concern_since, "content_kind": q.content_kind,
        "offset": q.offset, "limit": q.limit, "sample": SAMPLE_PEOPLE,
    }


def readers_cypher(q: ReaderQuery) -> Cypher:
    """The whole question: fixed clauses chosen by the query's shape, never by user text."""
    via = _VIA_PERSON if q.person is not None else _VIA_TEAM
    return Cypher(_ANCHOR + via + _READERS_TAIL, _params(q))


def companies_cypher(q: ReaderQuery) -> Cypher:
    via = _VIA_PERSON if q.person is not None else _VIA_TEAM
    return Cypher(_ANCHOR + via + _COMPANIES_TAIL, _params(q))


def _single(q: ReaderQuery, records: Sequence[Record]) -> Record:
    (record,) = records
    if not record["seed_found"]:
        assert q.person is not None
        raise NodeNotFound("Person", q.person)
    return record


def _employment(d: Record) -> Employment:
    return Employment(d["company_id"], d["name"], d["title"], d["since"], d["until"])


def readers_from_records(q: ReaderQuery, records: Sequence[Record]) -> Page:
    record = _single(q, records)
    return Page(record["total"], tuple(
        sort_match(ReaderMatch(
            person_id=r["person_id"], name=r["name"],
            email=shown_email(r["email"], r["person_id"]),
            via=tuple(v["id"] for v in r["via"]), via_names=tuple(v["name"] for v in r["via"]),
            companies=tuple(_employment(c) for c in r["companies"]),
            reads=tuple(ReadEvidence(d["content_id"], d["title"], d["kind"], d["first_at"],
                                     d["last_at"], d["count"]) for d in r["reads"]),
            concerns=tuple(ConcernEvidence(d["concern_id"], d["text"], d["channel"], d["at"],
                                           tuple(sorted(d["topics"]))) for d in r["concerns"]),
        ))
        for r in record["items"]
    ))


def companies_from_records(q: ReaderQuery, records: Sequence[Record]) -> Page:
    record = _single(q, records)
    return Page(record["total"], tuple(
        CompanyMatch(r["company_id"], r["name"], r["people"], tuple(r["person_ids"]))
        for r in record["items"]))


def matches(view: GraphView, q: ReaderQuery) -> list[ReaderMatch]:
    """Every match (unpaged), anchored like the Cypher: concerns in the window first."""
    assert q.as_of is not None
    if q.person is not None:
        seed = ("Person", q.person)
        if not view.has(seed):
            raise NodeNotFound("Person", q.person)
        seeds = {seed}
    else:
        seeds = view.team(q.as_of)
    raised: dict[Node, list[Node]] = {}
    for concern, _ in view.into(("Topic", q.concern_topic), "ABOUT"):
        if concern[0] != "Concern":
            continue
        at = view.attrs(concern)["at"]
        if q.concern_since <= at <= q.as_of:
            for person, _ in view.into(concern, "RAISED"):
                raised.setdefault(person, []).append(concern)
    found = []
    for person, concerns in raised.items():
        if person in seeds:
            continue
        reads = []
        for content, r in view.out(person, "READ"):
            c = view.attrs(content)
            if (read_overlaps(r["first_at"], r["last_at"], q.read_since, q.as_of)
                    and (q.content_kind is None or c.get("kind") == q.content_kind)
                    and view.about(content, q.read_topic)):
                reads.append(ReadEvidence(content[1], c.get("title"), c.get("kind"),
                                          r["first_at"], r["last_at"], r.get("count", 1)))
        if not reads:
            continue
        via = {s[1]: view.attrs(s).get("name") for s, _ in view.both(person, "KNOWS")
               if s in seeds}
        if not via:
            continue
        evidence = tuple(
            ConcernEvidence(k[1], a["text"], a.get("channel"), a["at"], view.topics(k))
            for k in set(concerns) for a in (view.attrs(k),))
        attrs = view.attrs(person)
        found.append(ReaderMatch(person[1], attrs.get("name"), tuple(via),
                                 view.current_jobs(person, q.as_of), tuple(reads), evidence,
                                 shown_email(attrs.get("email"), person[1]),
                                 tuple(via.values())))
    return sorted(found, key=match_order)


def readers_embedded(view: GraphView, q: ReaderQuery) -> Page:
    found = matches(view, q)
    return Page(len(found), tuple(sort_match(m) for m in found[q.offset:q.offset + q.limit]))


def companies_embedded(view: GraphView, q: ReaderQuery) -> Page:
    assert q.as_of is not None
    people: dict[str, set[str]] = {}
    names: dict[str, str | None] = {}
    for match in matches(view, q):
        for job in match.companies:
            if is_current(job.since, job.until, q.as_of):
                people.setdefault(job.company_id, set()).add(match.person_id)
                names[job.company_id] = job.name
    ranked = sorted(people.items(), key=lambda item: (-len(item[1]), item[0]))
    return Page(len(ranked), tuple(
        CompanyMatch(company, names[company], len(ids), tuple(sorted(ids)[:SAMPLE_PEOPLE]))
        for company, ids in ranked[q.offset:q.offset + q.limit]))


def _prepare(q: ReaderQuery) -> ReaderQuery:
    return q.resolved()


READERS: Question[ReaderQuery, Page] = Question(
    "readers", _prepare, readers_cypher, readers_from_records, readers_embedded)
COMPANIES: Question[ReaderQuery, Page] = Question(
    "companies by connections", _prepare, companies_cypher, companies_from_records,
    companies_embedded)
