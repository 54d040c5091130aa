"""Question c: a person's current and past employers, connections, topics read and concerns
raised, as of a moment. Anchored on the person's key (one index seek)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph.errors import NodeNotFound
from graph.model import (
    ConcernEvidence,
    Employment,
    PersonProfile,
    as_utc,
    build_profile,
    person_key,
)
from graph.questions import Cypher, Question, Record
from graph.view import GraphView


@dataclass(frozen=True, slots=True)
class ProfileQuery:
    person: str
    as_of: datetime | None = None


PROFILE_CYPHER = """
MATCH (p:Person {id: $id})
RETURN p {.*} AS person,
  [(p)-[w:WORKS_AT]->(co:Company) |
   {company_id: co.id, name: co.name, title: w.title, since: w.since, until: w.until}] AS jobs,
  COUNT { (p)-[:KNOWS]-(:Person) } AS connections,
  [(p)-[r:READ]->(c:Content)-[:ABOUT]->(t:Topic) |
   [t.id, t.name, c.id, coalesce(r.count, 1), r.first_at, r.last_at]] AS reads,
  [(p)-[:RAISED]->(k:Concern) |
   {concern_id: k.id, text: k.text, channel: k.channel, at: k.at,
    topics: [(k)-[:ABOUT]->(t:Topic) | t.id]}] AS concerns"""
# KNOWS is stored once per pair (see RelType.undirected), so counting relationships counts people.


def _prepare(q: ProfileQuery) -> ProfileQuery:
    return ProfileQuery(person_key(q.person), as_utc(q.as_of))


def _cypher(q: ProfileQuery) -> Cypher:
    return Cypher(PROFILE_CYPHER, {"id": q.person})


def _from_records(q: ProfileQuery, records: Sequence[Record]) -> PersonProfile:
    if not records:
        raise NodeNotFound("Person", q.person)
    (r,) = records
    assert q.as_of is not None
    return build_profile(
        r["person"],
        [Employment(j["company_id"], j["name"], j["title"], j["since"], j["until"])
         for j in r["jobs"]],
        r["connections"],
        [tuple(x) for x in r["reads"]],  # type: ignore[misc]
        [ConcernEvidence(c["concern_id"], c["text"], c["channel"], c["at"],
                         tuple(sorted(c["topics"]))) for c in r["concerns"]],
        q.as_of,
    )


def _embedded(view: GraphView, q: ProfileQuery) -> PersonProfile:
    person = ("Person", q.person)
    attrs = view.node(*person)
    if attrs is None:
        raise NodeNotFound("Person", q.person)
    assert q.as_of is not None
    connections = {other for other, _ in view.both(person, "KNOWS")}
    reads = [
        (topic[1], view.attrs(topic).get("name"), content[1], r.get("count", 1), r["first_at"],
         r["last_at"])
        for content, r in view.out(person, "READ")
        for topic, _ in view.out(content, "ABOUT")
    ]
    concerns = [
        ConcernEvidence(k[1], a["text"], a.get("channel"), a["at"], view.topics(k))
        for k, _ in view.out(person, "RAISED") for a in (view.attrs(k),)
    ]
    return build_profile({"id": q.person, **attrs}, view.jobs(person), len(connections), reads,
                         concerns, q.as_of)


PROFILE: Question[ProfileQuery, PersonProfile] = Question(
    "person profile", _prepare, _cypher, _from_records, _embedded)
