"""Audience interest: how many of our contacts and customers recently read about each topic, and
how many raised a concern about it — the graph signal that ranks the weekly roundup's candidates.

The rules, in words (both stores):
- The window is [since, as_of], both ends included; `as_of` defaults to now, `since` must not be
  after it. Topics are named by id (normalised as stored keys are: graph.keys.slugify); the
  answer has one entry per distinct topic asked, keyed by that id, zeros included (a topic the
  graph does not hold, or one nobody in the audience cared about).
- `readers`: distinct people who READ a Content ABOUT the topic with a reading span overlapping
  the window (graph/model.py `read_overlaps`: first_at <= as_of and last_at >= since), whatever
  the channel (web, newsletter …).
- `concerned`: distinct people who RAISED a Concern ABOUT the topic inside the window.
- Only the audience counts — "our contacts and customers", at `as_of`:
  - people our team knows (KNOWS, either direction, to someone working at a company flagged own
    at `as_of`), or
  - customers: people a Customer is ACCOUNT_OF (a B2C account), or people working at `as_of` at a
    company a Customer is ACCOUNT_OF (a B2B account; the Customer's status is not looked at);
  - never the team itself (anyone working at an own company at `as_of`).

Anchored on the topics asked (a handful per issue): their content's READs in the window and their
concerns in the window; each person found is then checked once against the audience rules,
whatever the number of topics they touched. Starting from the audience would walk every contact
of the team.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph import keys
from graph.model import QueryError, as_utc, is_current, read_overlaps
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import current
from graph.view import GraphView, Node

MAX_TOPICS = 1000


@dataclass(frozen=True, slots=True)
class InterestQuery:
    topics: tuple[str, ...]
    since: datetime
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class TopicInterest:
    topic: str  # the topic's id
    readers: int  # distinct audience people who read about it in the window
    concerned: int  # distinct audience people who raised a concern about it in the window


def _prepare(q: InterestQuery) -> InterestQuery:
    if q.since is None or q.since.tzinfo is None:
        raise QueryError("since must carry a timezone")
    since, as_of = as_utc(q.since), as_utc(q.as_of)
    if since > as_of:
        raise QueryError(f"since ({since.isoformat()}) is after as_of ({as_of.isoformat()})")
    if isinstance(q.topics, str):
        raise QueryError("topics must be a sequence of topic ids, not one string")
    topics: list[str] = []
    for topic in q.topics:
        try:
            slug = keys.slugify(topic)
        except ValueError as exc:
            raise QueryError(f"topic {topic!r}: {exc}") from None
        if slug not in topics:
            topics.append(slug)
    if len(topics) > MAX_TOPICS:
        raise QueryError(f"at most {MAX_TOPICS} topics at once, got {len(topics)}")
    return InterestQuery(tuple(topics), since, as_of)


def _on_team(v: str, rel: str) -> str:
    return (f"EXISTS {{ MATCH ({v})-[{rel}:WORKS_AT]->(:Company {{own: true}}) "
            f"WHERE {current(rel)} }}")


_CYPHER = f"""UNWIND $topics AS tid
CALL (tid) {{
  MATCH (:Topic {{id: tid}})<-[:ABOUT]-(:Content)<-[rd:READ]-(p:Person)
  WHERE rd.first_at <= $as_of AND rd.last_at >= $since
  RETURN DISTINCT p, 'read' AS how
  UNION
  MATCH (:Topic {{id: tid}})<-[:ABOUT]-(k:Concern)<-[:RAISED]-(p:Person)
  WHERE $since <= k.at <= $as_of
  RETURN DISTINCT p, 'concern' AS how
}}
WITH p, collect(DISTINCT [tid, how]) AS hits
WHERE NOT {_on_team("p", "o")}
  AND (EXISTS {{ MATCH (p)-[:KNOWS]-(s:Person) WHERE {_on_team("s", "o2")} }}
       OR EXISTS {{ MATCH (p)<-[:ACCOUNT_OF]-(:Customer) }}
       OR EXISTS {{ MATCH (p)-[w:WORKS_AT]->(:Company)<-[:ACCOUNT_OF]-(:Customer)
                   WHERE {current("w")} }})
UNWIND hits AS hit
WITH hit[0] AS topic, hit[1] AS how, count(*) AS people
RETURN topic, how, people"""


def cypher(q: InterestQuery) -> Cypher:
    return Cypher(_CYPHER, {"topics": list(q.topics), "since": q.since, "as_of": q.as_of})


def _answer(q: InterestQuery, counts: dict[tuple[str, str], int]) -> dict[str, TopicInterest]:
    return {t: TopicInterest(t, counts.get((t, "read"), 0), counts.get((t, "concern"), 0))
            for t in q.topics}


def from_records(q: InterestQuery, records: Sequence[Record]) -> dict[str, TopicInterest]:
    return _answer(q, {(r["topic"], r["how"]): r["people"] for r in records})


class _Audience:
    """Who counts, decided once per person (cached): see the module docstring."""

    def __init__(self, view: GraphView, as_of: datetime) -> None:
        self.view = view
        self.as_of = as_of
        self.team = view.team(as_of)
        self._known: dict[Node, bool] = {}

    def _customer(self, node: Node) -> bool:
        return any(c[0] == "Customer" for c, _ in self.view.into(node, "ACCOUNT_OF"))

    def __contains__(self, person: Node) -> bool:
        found = self._known.get(person)
        if found is None:
            view, as_of = self.view, self.as_of
            found = person not in self.team and (
                any(s in self.team for s, _ in view.both(person, "KNOWS"))
                or self._customer(person)
                or any(self._customer(company) for company, w in view.out(person, "WORKS_AT")
                       if is_current(w.get("since"), w.get("until"), as_of)))
            self._known[person] = found
        return found


def embedded(view: GraphView, q: InterestQuery) -> dict[str, TopicInterest]:
    assert q.as_of is not None
    audience = _Audience(view, q.as_of)
    counts: dict[tuple[str, str], int] = {}
    for topic in q.topics:
        node = ("Topic", topic)
        if not view.has(node):
            continue
        readers: set[Node] = set()
        concerned: set[Node] = set()
        for about, _ in view.into(node, "ABOUT"):
            if about[0] == "Content":
                for person, r in view.into(about, "READ"):
                    if (person not in readers
                            and read_overlaps(r["first_at"], r["last_at"], q.since, q.as_of)):
                        readers.add(person)
            elif about[0] == "Concern" and q.since <= view.attrs(about)["at"] <= q.as_of:
                concerned.update(p for p, _ in view.into(about, "RAISED"))
        counts[(topic, "read")] = sum(1 for p in readers if p in audience)
        counts[(topic, "concern")] = sum(1 for p in concerned if p in audience)
    return _answer(q, counts)


INTEREST: Question[InterestQuery, dict[str, TopicInterest]] = Question(
    "audience interest", _prepare, cypher, from_records, embedded)

__all__ = ["INTEREST", "InterestQuery", "TopicInterest"]
