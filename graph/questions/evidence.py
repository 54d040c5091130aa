"""The evidence a reader question could draw on, whatever its windows: why an answer is empty.

`relgraph query readers|companies` and the API ask this only when their answer is empty, to say
why instead of answering nothing: the topic is unknown (did you mean …), nothing is about it
yet, or `as_of` lies before the first or after the last evidence of it.

The rules, in words (both stores):
- Topics are named by id (normalised as stored keys are: graph.keys.slugify).
- `reads`: over every READ of a Content ABOUT the read topic, by anyone, the earliest
  `first_at` and the latest `last_at` (None, None when there is none, or no such topic);
  `read_topic_exists` says whether the Topic node is there at all.
- `concerns`: over every Concern ABOUT the concern topic, the earliest and latest `at`.
- `topics`: the id and name of every Topic node in the graph, sorted by id (the vocabulary a
  did-you-mean chooses from, with the taxonomy's).

Anchored on the two topics (one index seek each); the topic list is one label scan of a small
label (a taxonomy's worth of topics and the tags files name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph import keys
from graph.model import QueryError
from graph.questions import Cypher, Question, Record
from graph.view import GraphView


@dataclass(frozen=True, slots=True)
class EvidenceQuery:
    read_topic: str
    concern_topic: str


@dataclass(frozen=True, slots=True)
class Span:
    exists: bool  # the Topic node is in the graph
    first: datetime | None  # the earliest evidence about it
    last: datetime | None  # the latest


@dataclass(frozen=True, slots=True)
class Evidence:
    reads: Span  # READs of content about the read topic: first first_at, last last_at
    concerns: Span  # concerns about the concern topic: first and last `at`
    topics: tuple[tuple[str, str | None], ...]  # every Topic in the graph: (id, name)


def _prepare(q: EvidenceQuery) -> EvidenceQuery:
    try:
        return EvidenceQuery(keys.slugify(q.read_topic), keys.slugify(q.concern_topic))
    except ValueError as exc:
        raise QueryError(str(exc)) from None


_CYPHER = """OPTIONAL MATCH (rt:Topic {id: $read_topic})
OPTIONAL MATCH (rt)<-[:ABOUT]-(:Content)<-[r:READ]-(:Person)
WITH rt, min(r.first_at) AS read_first, max(r.last_at) AS read_last
OPTIONAL MATCH (ct:Topic {id: $concern_topic})
OPTIONAL MATCH (ct)<-[:ABOUT]-(k:Concern)
WITH rt, read_first, read_last, ct, min(k.at) AS concern_first, max(k.at) AS concern_last
CALL () {
  MATCH (t:Topic)
  WITH t ORDER BY t.id
  RETURN collect([t.id, t.name]) AS topics
}
RETURN rt IS NOT NULL AS read_exists, read_first, read_last,
       ct IS NOT NULL AS concern_exists, concern_first, concern_last, topics"""


def cypher(q: EvidenceQuery) -> Cypher:
    return Cypher(_CYPHER, {"read_topic": q.read_topic, "concern_topic": q.concern_topic})


def from_records(q: EvidenceQuery, records: Sequence[Record]) -> Evidence:
    r = records[0]
    return Evidence(Span(r["read_exists"], r["read_first"], r["read_last"]),
                    Span(r["concern_exists"], r["concern_first"], r["concern_last"]),
                    tuple((t[0], t[1]) for t in r["topics"]))


def embedded(view: GraphView, q: EvidenceQuery) -> Evidence:
    read_node, concern_node = ("Topic", q.read_topic), ("Topic", q.concern_topic)
    firsts: list[datetime] = []
    lasts: list[datetime] = []
    if view.has(read_node):
        for content, _ in view.into(read_node, "ABOUT"):
            if content[0] == "Content":
                for _, read in view.into(content, "READ"):
                    firsts.append(read["first_at"])
                    lasts.append(read["last_at"])
    raised: list[datetime] = []
    if view.has(concern_node):
        raised = [view.attrs(k)["at"] for k, _ in view.into(concern_node, "ABOUT")
                  if k[0] == "Concern"]
    topics = tuple((key, view.attrs(("Topic", key)).get("name"))
                   for key in sorted(view.keys("Topic")))
    return Evidence(Span(view.has(read_node), min(firsts, default=None), max(lasts, default=None)),
                    Span(view.has(concern_node), min(raised, default=None),
                         max(raised, default=None)),
                    topics)


EVIDENCE: Question[EvidenceQuery, Evidence] = Question(
    "the evidence about two topics", _prepare, cypher, from_records, embedded)

__all__ = ["EVIDENCE", "Evidence", "EvidenceQuery", "Span"]
