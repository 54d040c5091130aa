"""Who works where and what each content item is about: what topic surge (analytics/surge.py)
joins the event log's reads with.

The rules, in words (both stores):
- `jobs`: every (person, company, company name) whose WORKS_AT is current at `as_of`;
- `topics`: every (content URL, topic) with an ABOUT from the Content to the Topic.
Both sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from graph.model import as_utc, is_current
from graph.questions import Cypher, Question, Record
from graph.questions.contacts import current
from graph.view import GraphView


@dataclass(frozen=True, slots=True)
class ReadingQuery:
    as_of: datetime


@dataclass(frozen=True, slots=True)
class ReadingMap:
    jobs: tuple[tuple[str, str, str | None], ...]  # person, company, company name
    topics: tuple[tuple[str, str], ...]  # content, topic


def _prepare(q: ReadingQuery) -> ReadingQuery:
    return ReadingQuery(as_utc(q.as_of))


_CYPHER = """CALL {{
  MATCH (p:Person)-[w:WORKS_AT]->(c:Company) WHERE {current}
  RETURN 'job' AS kind, p.id AS a, c.id AS b, c.name AS name
  UNION ALL
  MATCH (ct:Content)-[:ABOUT]->(t:Topic)
  RETURN 'topic' AS kind, ct.id AS a, t.id AS b, null AS name
}}
RETURN kind, a, b, name"""


def _cypher(q: ReadingQuery) -> Cypher:
    return Cypher(_CYPHER.format(current=current("w")), {"as_of": q.as_of})


def _from_records(q: ReadingQuery, records: Sequence[Record]) -> ReadingMap:
    jobs = sorted({(r["a"], r["b"], r["name"]) for r in records if r["kind"] == "job"})
    topics = sorted({(r["a"], r["b"]) for r in records if r["kind"] == "topic"})
    return ReadingMap(tuple(jobs), tuple(topics))


def _embedded(view: GraphView, q: ReadingQuery) -> ReadingMap:
    jobs = set()
    for key in view.keys("Person"):
        for company, w in view.out(("Person", key), "WORKS_AT"):
            if is_current(w.get("since"), w.get("until"), q.as_of):
                jobs.add((key, company[1], view.attrs(company).get("name")))
    topics = {(key, t) for key in view.keys("Content") for t in view.topics(("Content", key))}
    return ReadingMap(tuple(sorted(jobs)), tuple(sorted(topics)))


READING: Question[ReadingQuery, ReadingMap] = Question(
    "reading_map", _prepare, _cypher, _from_records, _embedded)

__all__ = ["READING", "ReadingMap", "ReadingQuery"]
